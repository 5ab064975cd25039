"""Black-and-white (and toned monochrome) templates: detection and the look written down, not guessed.

For these the look reduces to channel weights, a tone curve and a tint per grey level, which can be written
down directly instead of guessed (docs/method.md section 1).
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np

from ..errors import ModelError
from .defilter import defilter

LUMA = np.array([0.299, 0.587, 0.114])  # Rec. 601 weights: what most B&W conversions start from
MONO_BINS = 16


MONO_SIDE = 256  # monochrome statistics are taken at this long side (the threshold was chosen at it)


def _tint_by_level(template: np.ndarray):
    h, w = template.shape[:2]
    if max(h, w) > MONO_SIDE:
        s = MONO_SIDE / max(h, w)
        template = cv2.resize(template, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    x = template.reshape(-1, 3).astype(np.float64) / 255.0
    lum = x @ LUMA
    bins = np.minimum((lum * MONO_BINS).astype(int), MONO_BINS - 1)
    tint = np.zeros((MONO_BINS, 3))
    for b in range(MONO_BINS):
        sel = bins == b
        if sel.any():
            tint[b] = (x[sel] - lum[sel, None]).mean(0)
    filled = np.array([np.bincount(bins, minlength=MONO_BINS)[b] > 0 for b in range(MONO_BINS)])
    centres = (np.arange(MONO_BINS) + 0.5) / MONO_BINS
    if filled.any():
        tint = np.stack([np.interp(centres, centres[filled], tint[filled, c]) for c in range(3)], 1)
    return x, lum, bins, tint, centres


MONO_TOL = 0.005


def is_monochrome(template: np.ndarray, tol: float | None = None) -> bool:
    """True for black-and-white and toned (sepia, cyanotype...) templates: once each grey level's mean tint is
    removed, 99 % of pixels are within ``tol`` (MONO_TOL, 1.3/255) of grey.

    A colour look on a near-grey photo is the costly mistake (every frame then turns grey): at 0.005 no colour
    template of 204 is called monochrome (4 at 0.01), 1 of 22 B&W ones is missed (docs/decisions.md, 'monochrome
    threshold'). B&W film looks rendered or saved as JPEG measure 0."""
    return monochrome_residual(template) < (MONO_TOL if tol is None else tol)


def monochrome_residual(template: np.ndarray) -> float:
    """99th percentile of each pixel's distance from grey plus its level's tint (interpolated between levels)."""
    x, lum, _, tint, centres = _tint_by_level(template)
    at = np.stack([np.interp(lum, centres, tint[:, c]) for c in range(3)], 1)
    return float(np.percentile(np.abs(x - lum[:, None] - at).max(1), 99))


# How much of the tone curve guessed through the network a monochrome look keeps (the rest is identity): 4.26 dE00
# at 0.75 against 4.95 with none and 4.23 at 1, hedging looks the network never saw (docs/decisions.md, 'B&W tone
# curve').
MONO_CURVE_WEIGHT = 0.75


def mono_tone_curve(template: np.ndarray, weight: float = MONO_CURVE_WEIGHT):
    """The tone curve of a black-and-white look, guessed: the de-filter network's guess of the original gives a
    luma per pixel, and a ridge quartic maps it to the template's grey (made monotone, then ``weight`` of it kept).

    Returns a function on luma arrays, or None when the de-filter model is missing (the curve is then identity).
    """
    try:
        small, guess = defilter(template)
    except ModelError as exc:
        warnings.warn(f"{exc}: the black-and-white tone curve is taken as identity", stacklevel=3)
        return None
    src = guess.reshape(-1, 3).astype(np.float64) / 255.0 @ LUMA
    dst = small.reshape(-1, 3).astype(np.float64) / 255.0 @ LUMA
    X = np.stack([src**k for k in range(5)], 1)
    lam = 1e-3 * len(src)  # ridge toward identity: a flat template keeps the identity curve
    beta = np.linalg.solve(X.T @ X + lam * np.eye(5), X.T @ dst + lam * np.array([0.0, 1, 0, 0, 0]))
    grid = np.linspace(0, 1, 257)
    curve = np.maximum.accumulate(np.clip(np.stack([grid**k for k in range(5)], 1) @ beta, 0, 1))
    curve = grid + weight * (curve - grid)
    return lambda v: np.interp(v, grid, curve)


def monochrome_pairs(template: np.ndarray, n: int = 8000, seed: int = 0,
                     curve_weight: float = MONO_CURVE_WEIGHT) -> tuple[np.ndarray, np.ndarray]:
    """(colours, their look) pairs for a monochrome template: grey = Rec. 601 luma through the guessed tone curve
    (:func:`mono_tone_curve`), plus the template's tint at that grey level."""
    _, _, _, tint, centres = _tint_by_level(template)
    src = np.random.default_rng(seed).random((n, 3))
    grey = src @ LUMA
    curve = mono_tone_curve(template, curve_weight) if curve_weight > 0 else None
    if curve is not None:
        grey = curve(grey)
    dst = grey[:, None] + np.stack([np.interp(grey, centres, tint[:, c]) for c in range(3)], 1)
    return src, np.clip(dst, 0, 1)
