"""The CPU renderer's numba kernels (see cpu.py for the method and the public functions that launch them).

``bake_kernel`` fills the 256^3 packed table for a LUT; ``render_kernel`` grades a frame through one table with a
per-pixel degree (constant, full size or a smaller map upsampled on the fly); ``render_seg_kernel`` mixes several
tables by a soft label mask first. Every kernel is compiled with ``cache=True`` (numba's on-disk cache, beside this
file in __pycache__).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

U32 = np.uint32


@njit(inline="always", cache=True)
def _bidx(q):
    """Table index of packed q = r | g << 8 | b << 16 (uint32): 8x8x8 blocks of 512 entries (2 KiB), block index
    ((b>>3)<<10 | (g>>3)<<5 | r>>3) << 9 and offset (b&7)<<6 | (g&7)<<3 | r&7, each field moved straight from q
    with one shift and mask (uint32 throughout: see _row)."""
    return U32(U32(q & U32(7)) | U32(U32(q >> U32(5)) & U32(0x38)) | U32(U32(q >> U32(10)) & U32(0x1C0))
               | U32(U32(q << U32(6)) & U32(0x3E00)) | U32(U32(q << U32(3)) & U32(0x7C000)) | U32(q & U32(0xF80000)))


@njit(parallel=True, cache=True, nogil=True)
def bake_kernel(lut, tetra, coords, table):
    # coords[c, v]: where input code v of channel c lands in the table, in grid units (Lut.grid_coords): the
    # domain, a shaper or a 1D curve are folded in there, so every 8-bit input is evaluated exactly.
    n = lut.shape[0]
    for b in prange(256):
        xb = coords[2, b]
        ib = min(int(xb), n - 2)
        fb = xb - ib
        for g in range(256):
            xg = coords[1, g]
            ig = min(int(xg), n - 2)
            fg = xg - ig
            for r in range(256):
                xr = coords[0, r]
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
                table[_bidx(U32(r | (g << 8) | (b << 16)))] = packed


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


_ROWS = 32  # rows per parallel chunk; the scratch rows below are allocated once per chunk


@njit(inline="always", cache=True)
def _mix(f, q, w, mask, bias):
    # (f*w + q*(256-w) + bias) >> 8 on the lanes selected by mask; every step cast back to uint32 because numba
    # widens integer arithmetic to 64 bits, which halves the vector lanes (blend loop 1.04 -> 0.53 ms/frame).
    return U32(U32(U32(U32(f & mask) * w) + U32(U32(q & mask) * U32(U32(256) - w)) + bias) >> U32(8))


@njit(inline="always", cache=True)
def _row(s, o, wr, table, sp, fp, c0, c2):
    """One row: s, o flat (3*w) uint8; wr weights 0..256 (8.8 fixed point); sp, fp uint32 scratch (w).

    Three loops so that the first and last vectorise (AVX-512, stride-3 byte shuffles) and only the table read
    stays scalar. 1080p, 2 threads, strength 0.8: 2.6 ms vs 6.3 ms for one fused per-pixel loop."""
    n = wr.shape[0]
    for x in range(n):
        # the source kept packed (RGB order whatever the frame's), so out may alias the frame
        q = U32(U32(s[3 * x + c0]) | U32(U32(s[3 * x + 1]) << U32(8)) | U32(U32(s[3 * x + c2]) << U32(16)))
        sp[x] = q
        fp[x] = _bidx(q)
    for x in range(n):
        fp[x] = table[fp[x]]  # the one scattered read (a gather instruction here measured 2x slower)
    for x in range(n):
        # R and B blended together on the two 16-bit halves of one uint32, G alone. No branch for w == 256:
        # (f*256 + 128) >> 8 == f exactly.
        w = U32(wr[x])
        rb = _mix(fp[x], sp[x], w, U32(0xFF00FF), U32(0x800080))
        o[3 * x + c0] = rb
        o[3 * x + 1] = _mix(fp[x], sp[x], w, U32(0xFF00), U32(0x8000)) >> U32(8)
        o[3 * x + c2] = rb >> U32(16)


@njit(inline="always", cache=True)
def _hrow(d, x0s, fxs, buf):
    # One row of the small degree map upsampled horizontally to the frame width.
    for x in range(buf.shape[0]):
        x0 = x0s[x]
        buf[x] = d[x0] + (d[min(x0 + 1, d.shape[0] - 1)] - np.float32(d[x0])) * fxs[x]


@njit(parallel=True, cache=True, nogil=True)
def render_kernel(src, src_c, table, deg, w, scale, mode, c0, out, out_c):
    """mode 0: constant weight w; 1: deg is (H, W); 2: deg is smaller, upsampled bilinearly on the fly (pixel
    centres aligned, like cv2.resize) so a low-resolution map costs no full-size buffer."""
    h, wd = src.shape[0], src.shape[1]
    dh, dw = deg.shape[0], deg.shape[1]
    ky = dh / max(h, 1)
    sc = np.float32(scale)  # float32 weights: 16 lanes (full-map weights 0.39 -> 0.11 ms)
    x0s, fxs = _small_cols(dw, wd)  # only used by mode 2 (O(width), negligible otherwise)
    for ch in prange((h + _ROWS - 1) // _ROWS):
        wr = np.full(wd, w, np.int32)
        fp = np.empty(wd, np.uint32)
        sp = np.empty(wd, np.uint32)
        sbuf = np.empty(wd * 3, np.uint8)
        obuf = np.empty(wd * 3, np.uint8)
        h0 = np.empty(wd, np.float32)
        h1 = np.empty(wd, np.float32)
        r0 = r1 = -1  # small-map rows held in h0, h1
        for y in range(ch * _ROWS, min(h, ch * _ROWS + _ROWS)):
            if mode == 1:
                dr = deg[y]
                for x in range(wd):
                    wr[x] = min(max(np.int32(np.float32(dr[x]) * sc + np.float32(0.5)), 0), 256)
            elif mode == 2:
                # Rows of the small map are upsampled horizontally once and reused by the ~8 frame rows
                # between them; per frame row only the vertical lerp is left (vectorised). 1 thread: 7.7 -> 5.6 ms
                # against a per-row vertical pass plus a per-pixel horizontal lerp.
                sy = min(max((y + 0.5) * ky - 0.5, 0.0), dh - 1.0)
                y0 = min(int(sy), dh - 2) if dh > 1 else 0
                y1 = min(y0 + 1, dh - 1)
                fy = np.float32(sy - y0)
                if y0 != r0:
                    if y0 == r1:
                        h0, h1, r0, r1 = h1, h0, r1, r0
                    else:
                        _hrow(deg[y0], x0s, fxs, h0)
                        r0 = y0
                if y1 != r1:
                    _hrow(deg[y1], x0s, fxs, h1)
                    r1 = y1
                for x in range(wd):
                    wr[x] = min(max(np.int32((h0[x] + (h1[x] - h0[x]) * fy) * sc + np.float32(0.5)), 0), 256)
            # Rows of C-contiguous frames are used in place; other strides go through a copy. src_c / out_c come
            # from the caller: only then is the array typed 'C', and ravel() a view rather than a copy.
            s = src[y].ravel() if src_c else _load(src[y], sbuf)
            o = out[y].ravel() if out_c else obuf
            if c0 == 0:  # channel order as a compile-time constant in each branch
                _row(s, o, wr, table, sp, fp, 0, 2)
            else:
                _row(s, o, wr, table, sp, fp, 2, 0)
            if not out_c:
                _store(obuf, out[y])


@njit(inline="always", cache=True)
def _load(a, buf):
    for x in range(a.shape[0]):
        for c in range(3):
            buf[3 * x + c] = a[x, c]
    return buf


@njit(inline="always", cache=True)
def _store(buf, a):
    for x in range(a.shape[0]):
        for c in range(3):
            a[x, c] = buf[3 * x + c]


@njit(cache=True)
def _small_cols(dw, wd):
    # Horizontal source column and fraction for each output column (pixel centres aligned, like cv2).
    kx = dw / max(wd, 1)
    x0s = np.empty(wd, np.int32)
    fxs = np.empty(wd, np.float32)
    for x in range(wd):
        sx = min(max((x + 0.5) * kx - 0.5, 0.0), dw - 1.0)
        x0 = min(int(sx), dw - 2) if dw > 1 else 0
        x0s[x] = x0
        fxs[x] = sx - x0
    return x0s, fxs


# --- several LUTs blended by a soft label mask, in one pass --------------------------------------------------
# Segment weights are in 1/SEG_ONE steps (12 bits) and the looks are blended before the degree blend, in 32-bit
# integers without an intermediate rounding, so the result stays within 1 code value of the float reference
# (8-bit weights and two roundings were up to 2 off). The single-LUT path above is left exactly as it was.
SEG_BITS = 12
SEG_ONE = 1 << SEG_BITS


@njit(inline="always", cache=True)
def _map_row(m, y, h, x0s, fxs, hbuf, ids, out, scale, hi):
    """Row y of an (mh, mw) map upsampled bilinearly (pixel centres aligned, like cv2.resize) to out's width,
    times ``scale``, rounded and clamped to 0..hi (int32). Map rows are upsampled horizontally once into hbuf
    (2, width), slot = row parity (the two rows a frame row needs always differ in parity), ids the rows held."""
    mh = m.shape[0]
    sy = min(max((y + 0.5) * (mh / max(h, 1)) - 0.5, 0.0), mh - 1.0)
    y0 = min(int(sy), mh - 2) if mh > 1 else 0
    y1 = min(y0 + 1, mh - 1)
    fy = np.float32(sy - y0)
    if ids[y0 & 1] != y0:
        _hrow(m[y0], x0s, fxs, hbuf[y0 & 1])
        ids[y0 & 1] = y0
    if ids[y1 & 1] != y1:
        _hrow(m[y1], x0s, fxs, hbuf[y1 & 1])
        ids[y1 & 1] = y1
    r0, r1 = hbuf[y0 & 1], hbuf[y1 & 1]
    sc = np.float32(scale)
    for x in range(out.shape[0]):
        out[x] = min(max(np.int32((r0[x] + (r1[x] - r0[x]) * fy) * sc + np.float32(0.5)), 0), hi)


@njit(inline="always", cache=True)
def _seg_row(s, o, wr, ws, tables, idx, fk, a0, a1, a2, c0, c2):
    """One row of render_seg_kernel: s, o flat (3*w) uint8; wr degree weights 0..256; ws (K, w) segment weights
    0..SEG_ONE. c0, c2 are compile-time constants at each call (as in _row): the stride-3 loops vectorise then."""
    n = wr.shape[0]
    k_n = len(tables)
    half = U32(1 << (SEG_BITS + 7))
    for x in range(n):
        idx[x] = _bidx(U32(U32(s[3 * x + c0]) | U32(U32(s[3 * x + 1]) << U32(8))
                           | U32(U32(s[3 * x + c2]) << U32(16))))
    for k in range(k_n):
        tk = tables[k]
        fkk = fk[k]
        for x in range(n):
            fkk[x] = tk[idx[x]]  # the scattered reads, one loop per table
    if k_n == 2:  # person / background: one fused loop (2x faster than the general one, measured)
        fa, fb, wb1 = fk[0], fk[1], ws[1]
        for x in range(n):
            wb = U32(wb1[x])
            wa = U32(SEG_ONE) - wb
            a = fa[x]
            b = fb[x]
            d = U32(wr[x])
            nd = U32(U32(256) - d) << U32(SEG_BITS)
            m0 = U32(U32(a & U32(0xFF)) * wa) + U32(U32(b & U32(0xFF)) * wb)
            m1 = U32(U32(U32(a >> U32(8)) & U32(0xFF)) * wa) + U32(U32(U32(b >> U32(8)) & U32(0xFF)) * wb)
            m2 = U32(U32(a >> U32(16)) * wa) + U32(U32(b >> U32(16)) * wb)
            o[3 * x + c0] = U32(U32(m0 * d) + U32(U32(s[3 * x + c0]) * nd) + half) >> U32(SEG_BITS + 8)
            o[3 * x + 1] = U32(U32(m1 * d) + U32(U32(s[3 * x + 1]) * nd) + half) >> U32(SEG_BITS + 8)
            o[3 * x + c2] = U32(U32(m2 * d) + U32(U32(s[3 * x + c2]) * nd) + half) >> U32(SEG_BITS + 8)
    else:
        # the mix, one vectorisable loop per table: per channel sum_k w_k * c_k (at most 255 << SEG_BITS)
        for x in range(n):
            a0[x] = U32(0)
            a1[x] = U32(0)
            a2[x] = U32(0)
        for k in range(k_n):
            fkk = fk[k]
            wsk = ws[k]
            for x in range(n):
                f = fkk[x]
                wk = U32(wsk[x])
                a0[x] += U32(f & U32(0xFF)) * wk
                a1[x] += U32(U32(f >> U32(8)) & U32(0xFF)) * wk
                a2[x] += U32(U32(f >> U32(16)) & U32(0xFF)) * wk
        for x in range(n):
            d = U32(wr[x])
            nd = U32(U32(256) - d) << U32(SEG_BITS)
            o[3 * x + c0] = U32(U32(a0[x] * d) + U32(U32(s[3 * x + c0]) * nd) + half) >> U32(SEG_BITS + 8)
            o[3 * x + 1] = U32(U32(a1[x] * d) + U32(U32(s[3 * x + 1]) * nd) + half) >> U32(SEG_BITS + 8)
            o[3 * x + c2] = U32(U32(a2[x] * d) + U32(U32(s[3 * x + c2]) * nd) + half) >> U32(SEG_BITS + 8)


@njit(parallel=True, cache=True, nogil=True)
def render_seg_kernel(src, src_c, tables, seg, deg, w, scale, has_deg, c0, out, out_c):
    """Like render_kernel, with K tables (a tuple) and K - 1 soft maps seg (K - 1, mh, mw) float32: pixel weights w_k
    for k >= 1, w_0 = 1 - their sum; look = sum_k w_k table_k(src); then the degree blend (w constant, or deg
    upsampled as in render_kernel's mode 2, a full-size map included)."""
    h, wd = src.shape[0], src.shape[1]
    k_n = len(tables)
    sx0, sfx = _small_cols(seg.shape[2], wd)
    dx0, dfx = _small_cols(deg.shape[1], wd)
    for ch in prange((h + _ROWS - 1) // _ROWS):
        wr = np.full(wd, w, np.int32)
        ws = np.empty((k_n, wd), np.int32)
        idx = np.empty(wd, np.uint32)
        fk = np.empty((k_n, wd), np.uint32)
        a0 = np.empty(wd, np.uint32)
        a1 = np.empty(wd, np.uint32)
        a2 = np.empty(wd, np.uint32)
        dbuf = np.empty((2, wd), np.float32)
        dids = np.full(2, -1, np.int64)
        mbuf = np.empty((k_n, 2, wd), np.float32)
        mids = np.full((k_n, 2), -1, np.int64)
        sbuf = np.empty(wd * 3, np.uint8)
        obuf = np.empty(wd * 3, np.uint8)
        for y in range(ch * _ROWS, min(h, ch * _ROWS + _ROWS)):
            if has_deg:
                _map_row(deg, y, h, dx0, dfx, dbuf, dids, wr, scale, 256)
            w0 = ws[0]
            for x in range(wd):
                w0[x] = SEG_ONE
            for k in range(1, k_n):
                wsk = ws[k]
                _map_row(seg[k - 1], y, h, sx0, sfx, mbuf[k], mids[k], wsk, SEG_ONE, SEG_ONE)
                for x in range(wd):
                    w0[x] -= wsk[x]
            for x in range(wd):
                w0[x] = max(w0[x], 0)
            s = src[y].ravel() if src_c else _load(src[y], sbuf)
            o = out[y].ravel() if out_c else obuf
            if c0 == 0:
                _seg_row(s, o, wr, ws, tables, idx, fk, a0, a1, a2, 0, 2)
            else:
                _seg_row(s, o, wr, ws, tables, idx, fk, a0, a1, a2, 2, 0)
            if not out_c:
                _store(obuf, out[y])
