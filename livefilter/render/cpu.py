"""The CPU renderer: uint8 frame + 3D LUT (+ per-pixel rendering degree) -> uint8 frame, in one fused pass.

Speed trick (measured in tools/bench.py): the LUT is pre-baked once into a 256^3 table of packed RGB (64 MiB)
holding the trilinear (or tetrahedral) interpolation for every possible 8-bit input, so a frame costs one
table read per pixel instead of eight corner reads and 21 lerps. The table is stored in 8x8x8 colour blocks
so that the similar colours of neighbouring pixels share cache lines and pages. The blend
``out = src + (lut(src) - src) * d`` runs in 8.8 fixed point, R and B on the 16-bit halves of one uint32 (SWAR).
Each row is done in loops that LLVM vectorises (pack + table index, weights, blend) around the one scalar
loop of table reads: 1080p, 2 threads, ~2-3 ms per frame against 4-20 ms for the earlier fused per-pixel loop.
Baking takes ~0.5 s (a 33^3 LUT, 2 cores) and is cached on the :class:`~livefilter.luts.lut.Lut`, so per-frame cost
excludes it. The domain, a 1D shaper or 1D curves are folded into the bake (Lut.grid_coords): exact, free per frame.
The numba kernels are in cpu_kernels.py; this module bakes and caches the tables and launches them.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import cv2
import numpy as np

from ..errors import InputError
from ..luts.lut import Lut
from .backend import Backend, register
from .checks import check_interp, check_render_args, check_segment_mask
from .cpu_kernels import bake_kernel, render_kernel, render_seg_kernel

TABLE_ENTRIES = 256**3


# --- baked tables -------------------------------------------------------------------------------------------

_array_tables: OrderedDict = OrderedDict()  # tables baked for bare arrays, keyed by content hash
_ARRAY_CACHE = 4
_lock = threading.Lock()


def baked_table(lut: Lut, interp: str = "trilinear") -> np.ndarray:
    """The 256^3 packed table for ``lut`` (cached on the Lut; ~0.5 s to build, 64 MiB): every 8-bit input's
    output, exact for any domain, shaper or 1D curve (see :meth:`Lut.grid_coords`)."""
    check_interp(interp)
    key = ("table", interp)
    tbl = lut._cache.get(key)
    if tbl is None:
        with _lock:
            tbl = lut._cache.get(key)
            if tbl is None:
                tbl = np.empty(TABLE_ENTRIES, dtype=np.uint32)
                bake_kernel(lut.table, interp == "tetrahedral", lut.grid_coords(256), tbl)
                tbl.flags.writeable = False
                lut._cache[key] = tbl
    return tbl


def as_lut(look_or_lut) -> Lut:
    """A :class:`Lut` from a Look, a Lut, or an (N, N, N, 3) float array indexed [r, g, b]."""
    if isinstance(look_or_lut, Lut):
        return look_or_lut
    lut = getattr(look_or_lut, "lut", None)
    if isinstance(lut, Lut):
        return lut
    if isinstance(look_or_lut, np.ndarray):
        arr = np.ascontiguousarray(look_or_lut, dtype=np.float32)
        key = hashlib.blake2b(arr.tobytes(), digest_size=16).hexdigest() + str(arr.shape)
        with _lock:
            hit = _array_tables.get(key)
            if hit is not None:
                _array_tables.move_to_end(key)
                return hit
        new = Lut(arr)
        with _lock:
            _array_tables[key] = new
            while len(_array_tables) > _ARRAY_CACHE:
                _array_tables.popitem(last=False)
        return new
    raise InputError(f"expected a Look, a Lut or an (N, N, N, 3) array, got {type(look_or_lut).__name__}")


_NO_DEG = np.zeros((1, 1), np.float32)  # stands in for the degree map when there is none


def _as_kernels_take(frame: np.ndarray, degree):
    """The frame and degree map in the few types the kernels are compiled for: numba compiles a kernel once per
    argument type (4-7 s each the first time on 2 cores, then cached on disk), and a read-only frame, a
    Fortran-order one and a float64 degree map were each a type of their own. A read-only or Fortran-order frame is
    copied (what a camera, a decoder or cv2 gives is neither); a float64 degree map becomes float32."""
    if not frame.flags.writeable or (frame.flags.f_contiguous and not frame.flags.c_contiguous):
        frame = np.array(frame, order="C")
    if degree is not None and degree.dtype == np.float64:
        degree = degree.astype(np.float32)
    return frame, degree


def render(frame: np.ndarray, look_or_lut, *, degree=None, strength: float = 1.0, interp: str = "trilinear",
           channels: str = "rgb", out: np.ndarray | None = None) -> np.ndarray:
    """Grade a frame with a look.

    Args:
        frame: uint8 (H, W, 3), RGB or BGR order (``channels``), any strides.
        look_or_lut: a :class:`~livefilter.Look`, a :class:`~livefilter.Lut` or an (N, N, N, 3) array.
        degree: optional per-pixel rendering degree in [0, 1]: float (H, W), or uint8 (H, W) meaning /255, or a
            smaller (h, w) map that is upsampled bilinearly on the fly. None means 1 everywhere.
        strength: multiplies the degree, 0..1.
        interp: "trilinear" or "tetrahedral".
        out: optional uint8 (H, W, 3) buffer to write into (may be ``frame`` itself).
    Returns:
        ``out`` (or a new array): ``frame + (lut(frame) - frame) * degree * strength``.
    """
    degree = check_render_args(frame, degree=degree, strength=strength, channels=channels, out=out, interp=interp)
    frame, degree = _as_kernels_take(frame, degree)
    if out is None:
        out = np.empty(frame.shape, np.uint8)  # C order whatever the frame's strides
    table = baked_table(as_lut(look_or_lut), interp)
    c0 = 2 if channels == "bgr" else 0
    fc, oc = frame.flags.c_contiguous, out.flags.c_contiguous
    if degree is None:
        render_kernel(frame, fc, table, _NO_DEG, int(round(strength * 256)), 0.0, 0, c0, out, oc)
        return out
    scale = strength * 256.0 / 255.0 if degree.dtype == np.uint8 else strength * 256.0
    mode = 1 if degree.shape == frame.shape[:2] else 2  # full size, or smaller (checked above)
    render_kernel(frame, fc, table, degree, 0, scale, mode, c0, out, oc)
    return out


def render_segments(frame: np.ndarray, luts, mask, *, degree=None, strength: float = 1.0,
                    interp: str = "trilinear", channels: str = "rgb", out: np.ndarray | None = None) -> np.ndarray:
    """Grade a frame with several LUTs blended by a soft label mask, in one pass (no halo: each pixel's look is
    the mask-weighted mix of the LUTs' outputs, then blended with the frame by the degree as :func:`render`).

    Args:
        luts: K >= 1 LUTs (Lut, Look or (N, N, N, 3) arrays), one per category; category 0 takes what the others
            leave.
        mask: float (K - 1, mh, mw) per-pixel weights of LUTs 1..K-1 in [0, 1] (summing to at most 1), or (mh, mw)
            when K == 2; smaller than the frame is upsampled bilinearly on the fly (pixel centres aligned).
        The other arguments as :func:`render`.
    """
    degree = check_render_args(frame, degree=degree, strength=strength, channels=channels, out=out, interp=interp)
    luts = [as_lut(x) for x in luts]
    if not luts:
        raise InputError("render_segments needs at least one LUT")
    if len(luts) == 1:
        return render(frame, luts[0], degree=degree, strength=strength, interp=interp, channels=channels, out=out)
    seg = check_segment_mask(mask, len(luts), frame.shape)
    frame, degree = _as_kernels_take(frame, degree)
    if out is None:
        out = np.empty(frame.shape, np.uint8)  # C order whatever the frame's strides
    tables = tuple(baked_table(lut, interp) for lut in luts)
    c0 = 2 if channels == "bgr" else 0
    fc, oc = frame.flags.c_contiguous, out.flags.c_contiguous
    if degree is None:
        render_seg_kernel(frame, fc, tables, seg, _NO_DEG, int(round(strength * 256)), 0.0, False, c0, out, oc)
        return out
    scale = strength * 256.0 / 255.0 if degree.dtype == np.uint8 else strength * 256.0
    render_seg_kernel(frame, fc, tables, seg, degree, 0, scale, True, c0, out, oc)
    return out


def render_segments_float(frame: np.ndarray, luts, mask, *, degree=None, strength: float = 1.0,
                          interp: str = "trilinear", channels: str = "rgb") -> np.ndarray:
    """The numpy reference of :func:`render_segments` (each LUT's output clipped, then mixed by the mask)."""
    luts = [as_lut(x) for x in luts]
    seg = check_segment_mask(mask, len(luts), frame.shape).astype(np.float64)
    h, w = frame.shape[:2]
    maps = [cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR) if m.shape != (h, w) else m for m in seg]
    weights = [np.maximum(1.0 - np.sum(maps, axis=0), 0.0)] + maps

    def colours(x):
        return sum(wk[:, :, None] * np.clip(lut.apply_float(x, interp), 0.0, 1.0) for wk, lut in zip(weights, luts))

    return grade_float(frame, colours, degree=degree, strength=strength, channels=channels)


def render_float(frame: np.ndarray, lut: Lut, *, degree=None, strength: float = 1.0, interp: str = "trilinear",
                 channels: str = "rgb") -> np.ndarray:
    """The numpy reference of :func:`render` (float arithmetic throughout); slow, for tests and checks."""
    return grade_float(frame, lambda x: lut.apply_float(x, interp), degree=degree, strength=strength,
                       channels=channels)


def grade_float(frame: np.ndarray, colour_fn, *, degree=None, strength: float = 1.0,
                channels: str = "rgb") -> np.ndarray:
    """``frame + (colour_fn(frame) - frame) * degree * strength`` in float64, rounded to uint8.

    ``colour_fn`` maps float RGB (H, W, 3) in [0, 1] to float RGB; its output is clipped to [0, 1]. A degree map
    smaller than the frame is upsampled like the fast renderer does (bilinear, pixel centres aligned)."""
    rgb = frame[:, :, ::-1] if channels == "bgr" else frame
    x = rgb.astype(np.float64) / 255.0
    y = np.clip(colour_fn(x), 0.0, 1.0).astype(np.float64)
    d = np.ones(frame.shape[:2]) if degree is None else np.asarray(degree, dtype=np.float64)
    if degree is not None and np.asarray(degree).dtype == np.uint8:
        d = d / 255.0
    if d.shape != frame.shape[:2]:
        d = cv2.resize(d, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)
    d = np.clip(d * strength, 0.0, 1.0)[:, :, None]
    res = np.clip(np.floor((x + (y - x) * d) * 255.0 + 0.5), 0, 255).astype(np.uint8)
    return res[:, :, ::-1] if channels == "bgr" else res


# --- the CPU backend (live): the same renderer behind the Backend interface ---------------------------------

class CpuBackend(Backend):
    name = "cpu"

    def __init__(self, interp: str = "trilinear"):
        self.interp = interp
        self._luts: tuple[Lut, ...] = ()
        self._lock = threading.Lock()

    def set_lut(self, lut: Lut) -> None:
        self.set_luts([lut])

    def prepare(self, lut: Lut) -> None:
        baked_table(lut, self.interp)  # cached on the Lut: a later set_lut of it swaps at once

    def set_luts(self, luts) -> None:
        luts = tuple(luts)
        for lut in luts:
            baked_table(lut, self.interp)  # the slow part (~0.5 s each), done before the swap
        if len(luts) > 1:
            # the several-LUT pass has kernels of its own: compiled here too, on the caller's thread (live: the look
            # worker), not by the render loop's first frame after the swap (9.7 s at a cold numba cache)
            tiny = np.zeros((4, 4, 3), np.uint8)
            mask = np.zeros((len(luts) - 1, 2, 2), np.float32)
            for degree in (None, np.ones((2, 2), np.float32)):
                render_segments(tiny, luts, mask, degree=degree, strength=1.0, interp=self.interp,
                                out=np.empty_like(tiny))
        with self._lock:
            self._luts = luts

    def render(self, frame, degree, strength, out=None, mask=None):
        luts = self._luts  # one read: a swap in between cannot mix two looks
        if not luts:
            raise RuntimeError("no LUT set")
        if mask is None or len(luts) == 1:
            return render(frame, luts[0], degree=degree, strength=strength, interp=self.interp, out=out)
        return render_segments(frame, luts, mask, degree=degree, strength=strength, interp=self.interp, out=out)


register("cpu", lambda: None, CpuBackend)
