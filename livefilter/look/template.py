"""The first stage of a fit (livefilter.look.fit): the template, read once and resized once to the fit's working
size."""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, replace

import numpy as np

from ..analysis.border import border_of, inside
from ..errors import InputError
from ..imageio import read_image
from .sampling import WORK_SIDE, downscale, ill_defined


@dataclass
class Template:
    """The photo whose look is learnt: its pixels as given, its alpha (transparent pixels are not sampled) and its
    file; ``work`` is the one resized copy the fit's stages start from."""

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
        """This template with a uniform border (letterbox bars, a frame) cut off (``border`` says how many pixels
        from each side), or itself when it has none: on one photo the border's colour says nothing of the look
        (:mod:`livefilter.analysis.border`)."""
        box = border_of(self.work, self.rgb)
        if box is None:
            return self
        return replace(self, rgb=inside(self.rgb, box), alpha=inside(self.alpha, box), border=box)


def load_template(img, what: str = "template", *, allow_large: bool = False) -> Template:
    """A path or a uint8 (H, W, 3) RGB array -> :class:`Template` (alpha kept, to exclude transparent pixels); a
    Template as it is."""
    if isinstance(img, Template):
        return img
    if isinstance(img, (str, os.PathLike)):
        rgb, alpha = read_image(img, with_alpha=True, min_size=2, allow_large=allow_large)
        if alpha is not None and int(alpha.max()) < 128:  # the pixels sampled are those at least half opaque
            raise InputError(f"every pixel of the {what} is transparent: no colours to learn a look from", img)
        return Template(rgb, alpha, str(img))
    arr = np.asarray(img)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise InputError(f"expected the {what} as a path or a uint8 (H, W, 3) RGB array, got {arr.dtype} {arr.shape}")
    if min(arr.shape[:2]) < 2:
        raise InputError(f"the {what} is {arr.shape[1]}x{arr.shape[0]}; need at least 2x2 pixels")
    return Template(arr)
