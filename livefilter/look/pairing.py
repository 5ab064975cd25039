"""The second stage of a fit (livefilter.look.fit): the original the look is learnt against (the given one, the
monochrome path's none, or the de-filter network's guess), pixel-aligned with the template."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError
from .defilter import defilter, guess_change, has_segment_model, preset_size
from .monochrome import MONO_TOL
from .settings import DEFAULT, FitSettings
from .template import Template, load_template

# A given original whose aspect ratio differs from the template's by more than this share is refused: the pixels
# would not correspond.
ASPECT_TOLERANCE = 0.01

# --- stage 2: what the look is learnt between ----------------------------------------------------------------

@dataclass
class Pairing:
    """The template and its (given or guessed) original, pixel-aligned; or, on the monochrome path, the template
    alone (its look is written down, not learnt from pixel pairs)."""

    template: np.ndarray
    original: np.ndarray | None
    path: str  # "original" | "network" | "monochrome"
    alpha: np.ndarray | None = None
    source: str | None = None  # the original's file, or how it was obtained
    change: float | None = None  # how far the network moved the template (code values), network path only


def match_size(original, template_shape, to_shape, path):
    """The original at ``to_shape`` (the template's working size), refused when its aspect ratio differs from the
    template's (``template_shape``: the template as given): their pixels would not correspond."""
    (th, tw), (oh, ow) = template_shape[:2], original.shape[:2]
    h, w = to_shape[:2]
    if (oh, ow) == (h, w):
        return original
    if (th, tw) != (oh, ow):
        if abs(tw / th - ow / oh) > ASPECT_TOLERANCE * (tw / th):
            raise InputError(
                f"original is {ow}x{oh} but the template is {tw}x{th}: different aspect ratios, so their pixels do "
                "not correspond; crop them to the same framing", path)
        warnings.warn(f"{path or 'original'}: {ow}x{oh} resized to the template's {tw}x{th}", stacklevel=3)
    interp = cv2.INTER_AREA if ow > w else cv2.INTER_LINEAR
    return cv2.resize(original, (w, h), interpolation=interp)


def given_original(tpl: Template, original, *, allow_large: bool = False) -> Pairing:
    if isinstance(original, (str, os.PathLike)) and tpl.path and Path(original).resolve() == Path(tpl.path).resolve():
        raise InputError("the original is the template itself; give the photo before its look", original)
    orig = load_template(original, "original", allow_large=allow_large)
    return Pairing(tpl.work, match_size(orig.rgb, tpl.rgb.shape, tpl.work.shape, orig.path), "original",
                   tpl.work_alpha, orig.path)


def monochrome_guess(tpl: Template) -> Pairing | None:
    """The monochrome path when the template is black-and-white (or toned), else None."""

    return Pairing(tpl.work, None, "monochrome", source="monochrome path") if tpl.grey < MONO_TOL else None


def network_guess(tpl: Template, segment_aware: bool = False, settings: FitSettings = DEFAULT) -> Pairing:
    """The de-filter network's guess of the original, both at the network's preset size; ``segment_aware``: the
    FIG. 3 network, given the template's soft person mask."""

    mask = None
    if segment_aware and has_segment_model():
        from ..analysis.segments import person_mask

        mask = person_mask(tpl.work, size=preset_size(*tpl.work.shape[:2]))
        if settings.segment_aware_guess == "people" and float((mask >= 0.5).mean()) < settings.people_share:
            mask = None  # no one in the picture: the FIG. 2 network
    small, guess = defilter(tpl.work, mask=mask)
    alpha = None if tpl.alpha is None else cv2.resize(tpl.work_alpha, small.shape[1::-1], interpolation=cv2.INTER_AREA)
    return Pairing(small, guess, "network", alpha, "segmentation-aware de-filter network" if mask is not None
                   else "de-filter network", guess_change(small, guess))


def pairing_for(tpl: Template, original=None, *, allow_large: bool = False, monochrome: bool = True,
                segment_aware: bool = False, settings: FitSettings = DEFAULT) -> Pairing:
    """Route a template: the given original, else the monochrome path (``monochrome`` and the template not flat),
    else the de-filter network (``segment_aware``: the FIG. 3 one)."""
    if original is not None:
        return given_original(tpl, original, allow_large=allow_large)
    return (monochrome and not tpl.flat and monochrome_guess(tpl)) or network_guess(tpl, segment_aware, settings)
