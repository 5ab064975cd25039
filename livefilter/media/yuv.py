"""RGB -> YUV 4:2:0 (I420, limited range) for the encoder, and planar YUV -> RGB for the decoder, in numba passes.

libswscale's rgb24 -> yuv420p conversion (PyAV's ``VideoFrame.reformat``) took 16.7 ms per 1080p frame here, more
than the render itself: a third of the time a graded video spends outside the encoder. This pass does the same
conversion in 7 ms on one thread: Y from each pixel, Cb/Cr from the mean of each 2 x 2 block, with the BT.709,
BT.601 or BT.2020 matrix the output is tagged with, 8-bit limited range (16..235 / 16..240), rounded. The arithmetic is
16-bit fixed point (as libswscale's): each value is the formula's rounded to within ``FIXED_POINT_ERROR`` of a tie
(float64 arithmetic took 9.8 ms).

The way back (:func:`yuv_to_rgb`): a decoded frame of 8- or 10-bit planar 4:2:0, 4:2:2 or 4:4:4, limited or full
range, to 8-bit RGB with the matrix it is read with, each chroma sample given to the pixels it covers (an interlaced
frame's to its own field's lines) and every value rounded: the inverse of the encoder's 2 x 2 means, so that an
identity look writes back the planes it read (a lossless 8-bit 4:2:0 clip: Y and chroma equal on 99.8 % of samples,
the rest colours outside RGB). libswscale's fast path, used before, is biased (8-bit 4:2:0: R, G, B about -1, -1.5,
-1 code values, with the colours): corrected by whole code values, an identity look still changed 27-36 % of Y
samples by one (a grey ramp +0.36 on average, a photo -0.30); its exact path interpolates the chroma (blurred by [1/8,
3/4, 1/8] each way at every pass) and took 4.7 ms a 1080p frame against this pass's 2.0 ms on one thread (0.9 on two)
(docs/decisions.md, 'YUV -> RGB on decoding').
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

# (Kr, Kb) per AVColorSpace value: 1 BT.709; 5, 6 BT.601 (470BG, SMPTE 170M); 9 BT.2020 (non-constant luminance)
_K = {1: (0.2126, 0.0722), 5: (0.299, 0.114), 6: (0.299, 0.114), 9: (0.2627, 0.0593)}
I420_COLORSPACES = frozenset(_K)
_S = 1 << 16
# the worst difference between the fixed-point sum and the exact formula: 3 coefficients rounded to 1/2^17 times
# at most 4 * 255 (a chroma block's sums), plus the constant's
FIXED_POINT_ERROR = (3 * 4 * 255 + 1) * 0.5 / _S


def _coefficients(kr: float, kb: float) -> np.ndarray:
    """int32 [Y0, Yr, Yg, Yb, C0, Ur, Ug, Ub, Vr, Vg, Vb] scaled by 2^16; the chroma ones act on 2 x 2 block SUMS."""
    kg = 1.0 - kr - kb
    ys, cs = 219.0 / 255.0, 224.0 / 255.0
    cb_s, cr_s = cs / (2.0 * (1.0 - kb)), cs / (2.0 * (1.0 - kr))
    c = [16.5, ys * kr, ys * kg, ys * kb,  # + 0.5: rounding by truncation
         128.5, -cb_s * kr / 4, -cb_s * kg / 4, cb_s * (1 - kb) / 4,
         cr_s * (1 - kr) / 4, -cr_s * kg / 4, -cr_s * kb / 4]
    return np.array([round(v * _S) for v in c], np.int32)


_COEFFICIENTS = {cs: _coefficients(kr, kb) for cs, (kr, kb) in _K.items()}


@njit(parallel=True, cache=True)
def _i420(rgb, Y, U, V, c, fields):  # pragma: no cover - compiled
    h, w = rgb.shape[0], rgb.shape[1]
    for by in prange(h // 2):
        for dy in range(2):
            row = rgb[2 * by + dy]
            yo = Y[2 * by + dy]
            for x in range(w):
                yo[x] = np.uint8((c[0] + c[1] * np.int32(row[x, 0]) + c[2] * np.int32(row[x, 1])
                                  + c[3] * np.int32(row[x, 2])) >> 16)
        first, second = 2 * by, 2 * by + 1
        if fields and 4 * (by // 2) + 3 < h:  # chroma row by from one field's lines: 0 and 2 (top), 1 and 3 (bottom)
            first = 4 * (by // 2) + by % 2
            second = first + 2
        r0 = rgb[first]
        r1 = rgb[second]
        uo = U[by]
        vo = V[by]
        for bx in range(w // 2):
            x = 2 * bx
            r = np.int32(r0[x, 0]) + r0[x + 1, 0] + r1[x, 0] + r1[x + 1, 0]
            g = np.int32(r0[x, 1]) + r0[x + 1, 1] + r1[x, 1] + r1[x + 1, 1]
            b = np.int32(r0[x, 2]) + r0[x + 1, 2] + r1[x, 2] + r1[x + 1, 2]
            uo[bx] = np.uint8(min(max((c[4] + c[5] * r + c[6] * g + c[7] * b) >> 16, 0), 255))
            vo[bx] = np.uint8(min(max((c[4] + c[8] * r + c[9] * g + c[10] * b) >> 16, 0), 255))


def rgb_to_i420(rgb: np.ndarray, colorspace: int = 1, fields: bool = False) -> np.ndarray:
    """uint8 (H, W, 3) RGB with even H and W -> (H * 3 // 2, W) uint8 I420 (Y plane, then Cb, then Cr), the layout
    ``av.VideoFrame.from_ndarray(..., format="yuv420p")`` takes. ``colorspace``: 1 BT.709, 5 or 6 BT.601, 9 BT.2020.
    ``fields``: an interlaced frame, each chroma row from its own field's two lines (a 2 x 2 block across both
    fields mixes the colours of two moments); a last pair of lines that makes no whole block of 4 stays as a frame's."""
    h, w = rgb.shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"I420 needs an even frame size, got {w}x{h}")
    out = np.empty((h * 3 // 2, w), np.uint8)
    q = (h // 2) * (w // 2)
    chroma = out[h:].reshape(-1)
    _i420(np.ascontiguousarray(rgb), out[:h], chroma[:q].reshape(h // 2, w // 2),
          chroma[q:].reshape(h // 2, w // 2), _COEFFICIENTS.get(int(colorspace), _COEFFICIENTS[1]), bool(fields))
    return out


# --- planar YUV -> RGB ----------------------------------------------------------------------------------------
# pixel formats read here: (bits, chroma halved across, chroma halved down); full range too for the 8-bit ones'
# "yuvj" names. Others (semi-planar NV12, P010, 12-bit, alpha, RGB) go through libswscale.
_PLANAR = {"yuv420p": (8, True, True), "yuvj420p": (8, True, True), "yuv422p": (8, True, False),
           "yuvj422p": (8, True, False), "yuv444p": (8, False, False), "yuvj444p": (8, False, False),
           "yuv420p10le": (10, True, True), "yuv422p10le": (10, True, False), "yuv444p10le": (10, False, False)}


@functools.cache
def _decode_coefficients(colorspace: int, full: bool, bits: int) -> np.ndarray:
    """int32 [Y, R's Cr, G's Cb, G's Cr, B's Cb, R0, G0, B0] scaled by 2^16, the constants holding the offsets and the
    rounding's 0.5."""
    kr, kb = _K[colorspace]
    kg = 1.0 - kr - kb
    m = 1 << (bits - 8)
    ys, cs, y0 = (1.0, 1.0, 0.0) if full else (255.0 / 219.0, 255.0 / 224.0, 16.0)
    ys, cs = ys / m, cs / m
    k = [ys, 2 * (1 - kr) * cs, -2 * kb * (1 - kb) / kg * cs, -2 * kr * (1 - kr) / kg * cs, 2 * (1 - kb) * cs]
    c, y = 128.0 * m, y0 * m * ys
    k += [0.5 - y - k[1] * c, 0.5 - y - (k[2] + k[3]) * c, 0.5 - y - k[4] * c]
    return np.array([round(v * _S) for v in k], np.int32)


@njit(parallel=True, cache=True)
def _yuv_rgb(Y, U, V, c, hsub, vsub, fields, out):  # pragma: no cover - compiled
    h, w = Y.shape
    cw = U.shape[1]
    c0, c1, c2, c3, c4, r0, g0, b0 = c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
    for y in prange(h):
        yi = np.int64(y)  # prange's index is unsigned: mixed with signed values it came out float
        a = yi
        if vsub:  # interlaced: each field's lines from its own chroma rows (the top field's are the even ones), in
            # whole groups of 4 lines; a last pair of lines has one row of its own, as rgb_to_i420 writes it
            a = 2 * (yi >> 2) + (yi & 1) if fields and (yi | 3) < h else yi >> 1
        ur, vr = U[a], V[a]
        rr = np.empty(w + 1, np.int32)  # each pixel's chroma terms of R, G and B
        gg = np.empty(w + 1, np.int32)
        bb = np.empty(w + 1, np.int32)
        if hsub:
            for k in range(cw):
                u, v = np.int32(ur[k]), np.int32(vr[k])
                rr[2 * k] = rr[2 * k + 1] = c1 * v + r0
                gg[2 * k] = gg[2 * k + 1] = c2 * u + c3 * v + g0
                bb[2 * k] = bb[2 * k + 1] = c4 * u + b0
        else:
            for k in range(w):
                u, v = np.int32(ur[k]), np.int32(vr[k])
                rr[k], gg[k], bb[k] = c1 * v + r0, c2 * u + c3 * v + g0, c4 * u + b0
        o = out[y].ravel()
        for x in range(w):
            yy = c0 * np.int32(Y[y, x])
            o[3 * x] = min(max((yy + rr[x]) >> 16, 0), 255)
            o[3 * x + 1] = min(max((yy + gg[x]) >> 16, 0), 255)
            o[3 * x + 2] = min(max((yy + bb[x]) >> 16, 0), 255)


def yuv_to_rgb(frame, colorspace: int = 1, fields: bool | None = None) -> np.ndarray | None:
    """A decoded ``av.VideoFrame`` in a planar YUV format of :data:`_PLANAR` -> uint8 (H, W, 3) RGB read with
    ``colorspace``'s matrix (1 BT.709, 5 or 6 BT.601, 9 BT.2020) and the frame's range (a "yuvj" format: full); None
    for another format (the caller converts it otherwise). ``fields``: whether the frame is interlaced (None: as the
    frame says)."""
    spec = _PLANAR.get(frame.format.name)
    if spec is None or int(colorspace) not in _K:
        return None
    bits, hsub, vsub = spec
    full = frame.color_range == 2 or frame.format.name.startswith("yuvj")
    dtype = np.uint8 if bits == 8 else np.uint16
    planes = []
    for plane in frame.planes:
        rows = np.frombuffer(plane, dtype, count=plane.height * plane.line_size // dtype().itemsize)
        planes.append(rows.reshape(plane.height, -1)[:, :plane.width])
    out = np.empty((frame.height, frame.width, 3), np.uint8)
    fields = bool(frame.interlaced_frame if fields is None else fields) and frame.height >= 4
    _yuv_rgb(*planes, _decode_coefficients(int(colorspace), full, bits), hsub, vsub, fields, out)
    return out
