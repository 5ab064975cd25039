"""The input checks every renderer makes at its public entry point (render() and each backend's render), so the
CPU and GPU paths accept and refuse exactly the same arguments, with the same "expected X, got Y" messages."""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import InputError

CHANNELS = ("rgb", "bgr")
INTERPS = ("trilinear", "tetrahedral")
DEGREE_DTYPES = (np.uint8, np.float32, np.float64)


def describe(a) -> str:
    if isinstance(a, np.ndarray):
        return f"{a.dtype} array of shape {a.shape}"
    return type(a).__name__


def check_rgb(a, what: str = "frame", *, alpha: bool = False, empty: bool = True) -> np.ndarray:
    """``a`` if it is a uint8 (H, W, 3) array (or (H, W, 4) with ``alpha``; with ``empty`` False, at least 1x1),
    else an :class:`~livefilter.InputError` "expected a uint8 (H, W, 3) {what}, got ..." (the renderers', the
    pipeline's, the analysis models' and write_image's one check)."""
    if (not isinstance(a, np.ndarray) or a.dtype != np.uint8 or a.ndim != 3
            or a.shape[2] not in ((3, 4) if alpha else (3,)) or (not empty and 0 in a.shape[:2])):
        raise InputError(f"expected a uint8 (H, W, 3) {what}, got {describe(a)}")
    return a


def check_strength(strength) -> float:
    """``strength`` as a float in [0, 1]; NaN, None, a string or a bool is an InputError (None and "1" were Python's
    TypeError from a comparison, 2 was clamped by one path and refused by another)."""
    if isinstance(strength, bool) or not isinstance(strength, numbers.Real) or not 0.0 <= strength <= 1.0:
        raise InputError(f"strength must be in [0, 1], got {strength!r}")
    return float(strength)


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays share memory (exactly: side-by-side halves of one buffer do not; too hard to tell: yes)."""
    try:
        return bool(np.shares_memory(a, b, max_work=100_000))
    except Exception:  # noqa: BLE001 - numpy's TooHardError (np.exceptions in numpy 2, np before): take it as shared
        return True


def check_render_args(frame, *, degree=None, strength: float = 1.0, channels: str = "rgb", out=None,
                      interp: str = "trilinear") -> np.ndarray | None:
    """Check a render call's arguments; returns the degree map as an array (or None).

    frame: uint8 (H, W, 3); degree: None or a 2D float32/float64/uint8 map no larger than the frame (and not
    empty); strength in [0, 1]; channels "rgb" or "bgr"; out None or uint8 of the frame's shape; interp
    "trilinear" or "tetrahedral". Raises :class:`~livefilter.InputError` naming what was expected and got.
    """
    check_rgb(frame)
    if channels not in CHANNELS:
        raise InputError(f"channels must be 'rgb' or 'bgr', got {channels!r}")
    check_interp(interp)
    check_strength(strength)
    if out is not None and (not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != frame.shape):
        raise InputError(f"expected out of uint8 {frame.shape}, got {describe(out)}")
    if (out is not None and np.may_share_memory(out, frame)
            and (out.__array_interface__["data"][0], out.strides) != (frame.__array_interface__["data"][0],
                                                                      frame.strides) and _overlap(out, frame)):
        # pixels are written while others are still to be read: a flipped or shifted view came out half wrong
        raise InputError("out overlaps the frame in another layout (a flipped or shifted view of it): pass the frame "
                         "itself, or a separate array")
    if degree is None:
        return None
    degree = np.asarray(degree)
    if degree.ndim != 2:
        raise InputError(f"expected a 2D degree map, got shape {degree.shape}")
    if degree.dtype not in DEGREE_DTYPES:
        raise InputError(f"degree must be float32, float64 or uint8, got {degree.dtype}")
    h, w = frame.shape[:2]
    if degree.shape != (h, w) and not (degree.shape[0] <= h and degree.shape[1] <= w and degree.size > 0):
        raise InputError(f"degree map {degree.shape} must be the frame's size {(h, w)} or smaller")
    if degree.dtype != np.uint8 and not np.isfinite(degree).all():  # +inf came out as no look; 0.3 ms at 1080p
        raise InputError("the degree map holds NaN or infinite values (expected 0..1)")
    return degree


def check_segment_mask(mask, k: int, frame_shape) -> np.ndarray:
    """A soft label mask for ``k`` LUTs as float32 (k - 1, mh, mw): (mh, mw) is allowed when k == 2. Each map is
    the weight of LUT 1.., LUT 0 gets the rest; no larger than the frame."""
    m = np.asarray(mask)
    if m.ndim == 2:
        m = m[None]
    if m.ndim != 3 or m.shape[0] != k - 1 or m.shape[1] < 1 or m.shape[2] < 1:
        raise InputError(f"expected a soft label mask of shape ({k - 1}, h, w) for {k} LUTs"
                         f"{' (or (h, w))' if k == 2 else ''}, got {m.shape}")
    if m.dtype not in (np.float32, np.float64):
        raise InputError(f"the label mask must be float32 or float64 in [0, 1], got {m.dtype}")
    h, w = frame_shape[:2]
    if m.shape[1] > h or m.shape[2] > w:
        raise InputError(f"label mask {m.shape[1:]} must be the frame's size {(h, w)} or smaller")
    return np.ascontiguousarray(m, dtype=np.float32)


def check_interp(interp) -> None:
    if interp not in INTERPS:
        raise InputError(f"interp must be one of {INTERPS}, got {interp!r}")
