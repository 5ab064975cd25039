"""The CPU renderer: uint8 frame + 3D LUT (+ per-pixel rendering degree) -> uint8 frame, in one fused pass.

Speed trick (measured in tools/bench.py): the LUT is pre-baked once into a 256^3 table of packed RGB (64 MiB)
holding the trilinear (or tetrahedral) interpolation for every possible 8-bit input, so a frame costs one
table read per pixel instead of eight corner reads and 21 lerps. The table is stored in 8x8x8 colour blocks
so that the similar colours of neighbouring pixels share cache lines and pages. The blend
``out = src + (lut(src) - src) * d`` runs in 8.8 fixed point on 16-bit lanes of one 64-bit integer (SWAR).
Baking takes ~0.1 s and is cached on the :class:`~livefilter.lut.Lut`, so per-frame cost excludes it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np
from numba import njit, prange, uint64

from .errors import InputError
from .lut import Lut

INTERPS = ("trilinear", "tetrahedral")
CHANNELS = ("rgb", "bgr")
TABLE_ENTRIES = 256**3


@njit(inline="always", cache=True)
def _bidx(r, g, b):
    # 8x8x8 blocks of 512 entries (2 KiB): block index from the high 5 bits, offset from the low 3.
    return ((((b >> 3) << 10) | ((g >> 3) << 5) | (r >> 3)) << 9) | ((b & 7) << 6) | ((g & 7) << 3) | (r & 7)


@njit(parallel=True, cache=True)
def _bake(lut, tetra, table):
    n = lut.shape[0]
    s = (n - 1) / 255.0
    for b in prange(256):
        xb = b * s
        ib = min(int(xb), n - 2)
        fb = xb - ib
        for g in range(256):
            xg = g * s
            ig = min(int(xg), n - 2)
            fg = xg - ig
            for r in range(256):
                xr = r * s
                ir = min(int(xr), n - 2)
                fr = xr - ir
                packed = 0
                for c in range(3):
                    if tetra:
                        v = _tetra_one(lut, ir, ig, ib, fr, fg, fb, c)
                    else:
                        c00 = lut[ir, ig, ib, c] * (1 - fr) + lut[ir + 1, ig, ib, c] * fr
                        c10 = lut[ir, ig + 1, ib, c] * (1 - fr) + lut[ir + 1, ig + 1, ib, c] * fr
                        c01 = lut[ir, ig, ib + 1, c] * (1 - fr) + lut[ir + 1, ig, ib + 1, c] * fr
                        c11 = lut[ir, ig + 1, ib + 1, c] * (1 - fr) + lut[ir + 1, ig + 1, ib + 1, c] * fr
                        v = (c00 * (1 - fg) + c10 * fg) * (1 - fb) + (c01 * (1 - fg) + c11 * fg) * fb
                    iv = int(v * 255.0 + 0.5)
                    iv = min(max(iv, 0), 255)
                    packed |= iv << (8 * c)
                table[_bidx(r, g, b)] = packed


@njit(inline="always", cache=True)
def _tetra_one(lut, ir, ig, ib, fr, fg, fb, c):
    c000 = lut[ir, ig, ib, c]
    c111 = lut[ir + 1, ig + 1, ib + 1, c]
    if fr >= fg:
        if fg >= fb:  # r >= g >= b
            a, b_ = lut[ir + 1, ig, ib, c], lut[ir + 1, ig + 1, ib, c]
            return c000 + (a - c000) * fr + (b_ - a) * fg + (c111 - b_) * fb
        if fr >= fb:  # r >= b > g
            a, b_ = lut[ir + 1, ig, ib, c], lut[ir + 1, ig, ib + 1, c]
            return c000 + (a - c000) * fr + (b_ - a) * fb + (c111 - b_) * fg
        a, b_ = lut[ir, ig, ib + 1, c], lut[ir + 1, ig, ib + 1, c]  # b > r >= g
        return c000 + (a - c000) * fb + (b_ - a) * fr + (c111 - b_) * fg
    if fr >= fb:  # g > r >= b
        a, b_ = lut[ir, ig + 1, ib, c], lut[ir + 1, ig + 1, ib, c]
        return c000 + (a - c000) * fg + (b_ - a) * fr + (c111 - b_) * fb
    if fg >= fb:  # g >= b > r
        a, b_ = lut[ir, ig + 1, ib, c], lut[ir, ig + 1, ib + 1, c]
        return c000 + (a - c000) * fg + (b_ - a) * fb + (c111 - b_) * fr
    a, b_ = lut[ir, ig, ib + 1, c], lut[ir, ig + 1, ib + 1, c]  # b > g > r
    return c000 + (a - c000) * fb + (b_ - a) * fg + (c111 - b_) * fr


@njit(inline="always", cache=True)
def _pixel(s, o, x, table, w, c0, c2):
    """Look up one pixel and blend with weight w in 0..256 (8.8 fixed point), all three lanes at once."""
    r = uint64(s[x, c0])
    g = uint64(s[x, 1])
    b = uint64(s[x, c2])
    p = uint64(table[_bidx(r, g, b)])
    if w >= 256:
        o[x, c0] = p & 255
        o[x, 1] = (p >> 8) & 255
        o[x, c2] = (p >> 16) & 255
        return
    f16 = (p & uint64(0xFF)) | ((p & uint64(0xFF00)) << uint64(8)) | ((p & uint64(0xFF0000)) << uint64(16))
    s16 = r | (g << uint64(16)) | (b << uint64(32))
    w64 = uint64(w)
    v = (f16 * w64 + s16 * (uint64(256) - w64) + uint64(0x0000008000800080)) >> uint64(8)
    o[x, c0] = v & uint64(255)
    o[x, 1] = (v >> uint64(16)) & uint64(255)
    o[x, c2] = (v >> uint64(32)) & uint64(255)


@njit(parallel=True, cache=True)
def _render_const(src, table, w, c0, out):
    h, wd = src.shape[0], src.shape[1]
    c2 = 2 - c0
    for y in prange(h):
        s = src[y]
        o = out[y]
        for x in range(wd):
            _pixel(s, o, x, table, w, c0, c2)


@njit(inline="always", cache=True)
def _weight(d, scale):
    w = int(d * scale + 0.5)
    return min(max(w, 0), 256)


@njit(parallel=True, cache=True)
def _render_full(src, table, deg, scale, c0, out):
    h, wd = src.shape[0], src.shape[1]
    c2 = 2 - c0
    for y in prange(h):
        s = src[y]
        o = out[y]
        dr = deg[y]
        for x in range(wd):
            _pixel(s, o, x, table, _weight(dr[x], scale), c0, c2)


@njit(parallel=True, cache=True)
def _render_small(src, table, deg, scale, c0, out):
    # The degree map is smaller than the frame: bilinear upsampling (pixel centres aligned, like cv2.resize)
    # inside the pass, so a low-resolution map costs no full-size buffer.
    h, wd = src.shape[0], src.shape[1]
    dh, dw = deg.shape[0], deg.shape[1]
    c2 = 2 - c0
    ky = dh / h
    kx = dw / wd
    for y in prange(h):
        s = src[y]
        o = out[y]
        sy = min(max((y + 0.5) * ky - 0.5, 0.0), dh - 1.0)
        y0 = min(int(sy), dh - 2) if dh > 1 else 0
        fy = sy - y0
        y1 = min(y0 + 1, dh - 1)
        d0 = deg[y0]
        d1 = deg[y1]
        for x in range(wd):
            sx = min(max((x + 0.5) * kx - 0.5, 0.0), dw - 1.0)
            x0 = min(int(sx), dw - 2) if dw > 1 else 0
            fx = sx - x0
            x1 = min(x0 + 1, dw - 1)
            top = d0[x0] * (1.0 - fx) + d0[x1] * fx
            bot = d1[x0] * (1.0 - fx) + d1[x1] * fx
            _pixel(s, o, x, table, _weight(top * (1.0 - fy) + bot * fy, scale), c0, c2)


# --- baked tables -------------------------------------------------------------------------------------------

_array_tables: OrderedDict = OrderedDict()  # tables baked for bare arrays, keyed by content hash
_ARRAY_CACHE = 4
_lock = threading.Lock()


def baked_table(lut: Lut, interp: str = "trilinear") -> np.ndarray:
    """The 256^3 packed table for ``lut`` (cached on the Lut; ~0.1 s to build, 64 MiB)."""
    if interp not in INTERPS:
        raise InputError(f"interp must be one of {INTERPS}, got {interp!r}")
    key = ("table", interp)
    tbl = lut._cache.get(key)
    if tbl is None:
        with _lock:
            tbl = lut._cache.get(key)
            if tbl is None:
                tbl = np.empty(TABLE_ENTRIES, dtype=np.uint32)
                _bake(lut.normalized().table, interp == "tetrahedral", tbl)
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
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise InputError(f"expected a uint8 (H, W, 3) frame, got {_describe(frame)}")
    if channels not in CHANNELS:
        raise InputError(f"channels must be 'rgb' or 'bgr', got {channels!r}")
    if not 0.0 <= strength <= 1.0:
        raise InputError(f"strength must be in [0, 1], got {strength}")
    if out is None:
        out = np.empty_like(frame)
    elif out.dtype != np.uint8 or out.shape != frame.shape:
        raise InputError(f"expected out of uint8 {frame.shape}, got {_describe(out)}")
    table = baked_table(as_lut(look_or_lut), interp)
    c0 = 2 if channels == "bgr" else 0
    if degree is None:
        _render_const(frame, table, int(round(strength * 256)), c0, out)
        return out
    degree = np.asarray(degree)
    if degree.ndim != 2:
        raise InputError(f"expected a 2D degree map, got shape {degree.shape}")
    if degree.dtype == np.uint8:
        scale = strength * 256.0 / 255.0
    elif degree.dtype in (np.float32, np.float64):
        scale = strength * 256.0
    else:
        raise InputError(f"degree must be float32, float64 or uint8, got {degree.dtype}")
    h, w = frame.shape[:2]
    if degree.shape == (h, w):
        _render_full(frame, table, degree, scale, c0, out)
    elif degree.shape[0] <= h and degree.shape[1] <= w and degree.size > 0:
        _render_small(frame, table, degree, scale, c0, out)
    else:
        raise InputError(f"degree map {degree.shape} must be the frame's size {(h, w)} or smaller")
    return out


def _describe(a) -> str:
    if isinstance(a, np.ndarray):
        return f"{a.dtype} array of shape {a.shape}"
    return type(a).__name__


def render_float(frame: np.ndarray, lut: Lut, *, degree=None, strength: float = 1.0, interp: str = "trilinear",
                 channels: str = "rgb") -> np.ndarray:
    """The numpy reference of :func:`render` (float arithmetic throughout); slow, for tests and checks."""
    rgb = frame[:, :, ::-1] if channels == "bgr" else frame
    x = rgb.astype(np.float64) / 255.0
    y = np.clip(lut.apply_float(x, interp), 0.0, 1.0).astype(np.float64)
    d = np.ones(frame.shape[:2]) if degree is None else np.asarray(degree, dtype=np.float64)
    if degree is not None and np.asarray(degree).dtype == np.uint8:
        d = d / 255.0
    if d.shape != frame.shape[:2]:
        import cv2

        d = cv2.resize(d, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)
    d = np.clip(d * strength, 0.0, 1.0)[:, :, None]
    res = np.clip(np.floor((x + (y - x) * d) * 255.0 + 0.5), 0, 255).astype(np.uint8)
    return res[:, :, ::-1] if channels == "bgr" else res
