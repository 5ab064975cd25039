"""The first stage of a fit (livefilter.look.fit): the template, read once and resized once to the fit's working
size."""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ..analysis.border import border_of, inside
from ..errors import InputError
from ..imageio import read_image
from .sampling import WORK_SIDE, downscale, ill_defined


@dataclass
class Template:
    """The photo whose look is learnt: its pixels (a photo with transparent parts as :func:`visible` shows it), its
    alpha (transparent pixels are not sampled) and its file; ``work`` is the one resized copy the fit's stages start
    from."""

    rgb: np.ndarray  # uint8 (H, W, 3)
    alpha: np.ndarray | None = None
    path: str | None = None
    #: the uniform border cut off the photo as given (:meth:`without_border`): pixels (top, bottom, left, right)
    border: tuple | None = None

    @property
    def sha256(self) -> str:
        # a memoryview: no 36 MB copy at 12 MP
        return hashlib.sha256(memoryview(np.ascontiguousarray(self.rgb)).cast("B")).hexdigest()

    @functools.cached_property
    def work(self) -> np.ndarray:
        """The template at the fit's working size (WORK_SIDE long side, area): the one resize of the template every
        stage starts from (the network, the look prior and the look library take their own sizes from it)."""
        return downscale(self.rgb, WORK_SIDE)

    @functools.cached_property
    def work_alpha(self) -> np.ndarray | None:
        return None if self.alpha is None else downscale(self.alpha, WORK_SIDE)

    @functools.cached_property
    def flat(self) -> str | None:
        """Why the template cannot define a look (one colour, or mostly black or white), or None. A flat template is
        not taken for black-and-white: the monochrome path would turn every frame grey."""
        return ill_defined(self.work.reshape(-1, 3) / 255.0)

    @functools.cached_property
    def grey(self) -> float:
        """How far the template is from black-and-white (or toned): :func:`monochrome.monochrome_residual` of the
        working copy (0 for a grey or toned photo; above monochrome.MONO_TOL, a colour one)."""
        from .monochrome import monochrome_residual

        return monochrome_residual(self.work)

    def without_border(self) -> Template:
        """This template with a uniform border (letterbox bars, a frame) or transparent margins cut off (``border``
        says how many pixels from each side), or itself when it has none: on one photo the border's colour says
        nothing of the look (:mod:`livefilter.analysis.border`)."""
        hidden = hidden_margins(self.alpha)
        tpl = self if hidden is None else replace(self, rgb=inside(self.rgb, hidden), alpha=inside(self.alpha, hidden))
        box = border_of(tpl.work, tpl.rgb)
        if box is None and hidden is None:
            return self
        total = tuple(a + b for a, b in zip(hidden or (0, 0, 0, 0), box or (0, 0, 0, 0)))
        return replace(self, rgb=inside(self.rgb, total), alpha=inside(self.alpha, total), border=total)


VISIBLE = 128  # the least alpha of a pixel the fit reads: at least half opaque


def fill_hidden(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``rgb`` with each hidden pixel (alpha < VISIBLE) given its nearest visible pixel's colour. What a file stores
    under alpha 0 is arbitrary (a cut-out's old background, a flat fill), and the network, the look prior and the
    look library read every pixel: two files that looked the same gave looks 2x apart in strength."""
    vis = alpha >= VISIBLE
    if vis.all():
        return rgb
    # every hidden pixel labelled with its nearest visible one (the labels count the visible pixels in scan order)
    _, labels = cv2.distanceTransformWithLabels((~vis).astype(np.uint8), cv2.DIST_L2, 5,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    return rgb.reshape(-1, 3)[np.flatnonzero(vis.ravel())[labels.ravel() - 1]].reshape(rgb.shape)


def hidden_margins(alpha: np.ndarray | None) -> tuple | None:
    """The rows and columns wholly hidden (alpha < VISIBLE) at each side, (top, bottom, left, right), or None; at
    least 2x2 pixels are left (the fit's least template)."""
    if alpha is None:
        return None
    vis = alpha >= VISIBLE
    rows, cols = np.flatnonzero(vis.any(1)), np.flatnonzero(vis.any(0))
    if len(rows) < 2 or len(cols) < 2:
        return None
    box = (int(rows[0]), len(vis) - 1 - int(rows[-1]), int(cols[0]), vis.shape[1] - 1 - int(cols[-1]))
    return box if any(box) else None


def load_template(img, what: str = "template", *, allow_large: bool = False) -> Template:
    """A path or a uint8 (H, W, 3) RGB array -> :class:`Template` (alpha kept, to exclude transparent pixels); a
    Template as it is."""
    if isinstance(img, Template):
        return img
    if isinstance(img, (str, os.PathLike)):
        rgb, alpha = read_image(img, with_alpha=True, min_size=2, allow_large=allow_large)
        if alpha is not None and int(alpha.max()) < VISIBLE:  # the pixels sampled are those at least half opaque
            raise InputError(f"every pixel of the {what} is transparent: no colours to learn a look from", img)
        if alpha is not None:
            rgb = fill_hidden(rgb, alpha)
        return Template(rgb, alpha, str(img))
    arr = np.asarray(img)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise InputError(f"expected the {what} as a path or a uint8 (H, W, 3) RGB array, got {arr.dtype} {arr.shape}")
    if min(arr.shape[:2]) < 2:
        raise InputError(f"the {what} is {arr.shape[1]}x{arr.shape[0]}; need at least 2x2 pixels")
    return Template(arr)
