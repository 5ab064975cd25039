// livefilter GPU render kernel: 3D-LUT lookup (trilinear or tetrahedral) + per-pixel rendering-degree blend,
// uint8 in and out.
//
// The interpolation is done here in float rather than with texture filtering: CUDA's hardware filtering
// quantises the interpolation fraction to 8 bits on some GPUs, which would break agreement with the CPU path.
// The per-pixel maths is in __host__ __device__ functions so tests/cuda/harness.cu compiles and runs it on the
// CPU and compares it with the CPU renderer on every CI run; only the launch needs a GPU. No #include: NVRTC
// (what CuPy compiles with) then needs no CUDA headers, only its own library.
//
// LUT: float32, (n, n, n, 3) indexed [r][g][b][c], with coords: float32 (3, 256), entry [c][v] the position of
// channel c's input code v in the table in grid units (0 .. n - 1), after the LUT's 1D shaper and its input domain
// (livefilter.luts.Lut.grid_coords, as the CPU renderer's bake uses). A 1D LUT, a shaper + 3D LUT or a LUT whose
// domain is not [0, 1] is then exact for every 8-bit input, not only at grid nodes.
// Degree: optional low-resolution float32 (dh, dw) map, upsampled bilinearly with pixel centres aligned (the
// same convention as cv2.resize and the CPU renderer); dh == 0 means a constant degree of 1.
// Per-frame constants come from the host (livefilter/render/cuda.py, frame_constants): ky = dh / h, kx = dw / w,
// float32.

#ifndef LF_HD
#define LF_HD __host__ __device__
#endif

LF_HD inline float lf_clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }
LF_HD inline int lf_mini(int a, int b) { return a < b ? a : b; }

// Rendering degree at output pixel (x, y), from a dh x dw map (ky = dh / h, kx = dw / w).
LF_HD inline float lf_degree(const float* deg, int dh, int dw, float ky, float kx, int x, int y)
{
    if (dh <= 0) return 1.0f;
    float sy = lf_clampf((y + 0.5f) * ky - 0.5f, 0.0f, dh - 1.0f);
    float sx = lf_clampf((x + 0.5f) * kx - 0.5f, 0.0f, dw - 1.0f);
    int y0 = dh > 1 ? lf_mini((int)sy, dh - 2) : 0;
    int x0 = dw > 1 ? lf_mini((int)sx, dw - 2) : 0;
    int y1 = lf_mini(y0 + 1, dh - 1), x1 = lf_mini(x0 + 1, dw - 1);
    float fy = sy - y0, fx = sx - x0;
    float top = deg[y0 * dw + x0] * (1.0f - fx) + deg[y0 * dw + x1] * fx;
    float bot = deg[y1 * dw + x0] * (1.0f - fx) + deg[y1 * dw + x1] * fx;
    return top * (1.0f - fy) + bot * fy;
}

// Trilinear interpolation of channel c in the cell whose low corner is p (strides dr, dg, db in floats).
LF_HD inline float lf_trilinear(const float* p, int dr, int dg, int db, float fr, float fg, float fb, int c)
{
    float c00 = p[c] * (1 - fr) + p[dr + c] * fr;
    float c10 = p[dg + c] * (1 - fr) + p[dr + dg + c] * fr;
    float c01 = p[db + c] * (1 - fr) + p[dr + db + c] * fr;
    float c11 = p[dg + db + c] * (1 - fr) + p[dr + dg + db + c] * fr;
    return (c00 * (1 - fg) + c10 * fg) * (1 - fb) + (c01 * (1 - fg) + c11 * fg) * fb;
}

// Tetrahedral interpolation of channel c: the cell is cut into 6 tetrahedra along its main diagonal; walk from
// the low corner to the high one, largest fraction first (the same choice of tetrahedron, ties included, as
// livefilter/render.py's _tetra_one).
LF_HD inline float lf_tetrahedral(const float* p, int dr, int dg, int db, float fr, float fg, float fb, int c)
{
    const float c000 = p[c], c111 = p[dr + dg + db + c];
    int a, b;  // offsets of the two intermediate corners
    float f1, f2, f3;  // fractions in walking order
    if (fr >= fg) {
        if (fg >= fb) { a = dr; b = dr + dg; f1 = fr; f2 = fg; f3 = fb; }           // r >= g >= b
        else if (fr >= fb) { a = dr; b = dr + db; f1 = fr; f2 = fb; f3 = fg; }      // r >= b > g
        else { a = db; b = dr + db; f1 = fb; f2 = fr; f3 = fg; }                    // b > r >= g
    } else {
        if (fr >= fb) { a = dg; b = dr + dg; f1 = fg; f2 = fr; f3 = fb; }           // g > r >= b
        else if (fg >= fb) { a = dg; b = dg + db; f1 = fg; f2 = fb; f3 = fr; }      // g >= b > r
        else { a = db; b = dg + db; f1 = fb; f2 = fg; f3 = fr; }                    // b > g > r
    }
    const float ca = p[a + c], cb = p[b + c];
    return c000 + (ca - c000) * f1 + (cb - ca) * f2 + (c111 - cb) * f3;
}

// Grade one pixel with k_n LUTs mixed by a soft label mask (several looks in one pass, per-segment looks):
// luts holds k_n tables of n^3 * 3 floats one after the other (a smaller LUT sits in the low corner of its n^3
// block: its coords never pass its own last node, where the fraction is 0), coords k_n (3, 256) position tables;
// seg holds k_n - 1 maps of mh x mw floats, the weights of LUTs 1..k_n-1 (upsampled like the degree map;
// my = mh / h, mx = mw / w); LUT 0 takes the rest. Each LUT's output is clipped, then mixed, then blended with the
// pixel by weight: no halo.
LF_HD inline void lf_shade_multi(const unsigned char* px, unsigned char* out, const float* luts, int k_n, int n,
                                 const float* coords, const float* seg, int mh, int mw, float my, float mx, int x,
                                 int y, float weight, int c0, int tetra)
{
    const int c2 = 2 - c0;
    const int vr = px[c0], vg = px[1], vb = px[c2];
    const int dr = n * n * 3, dg = n * 3, db = 3;
    const size_t table = (size_t)n * n * n * 3;
    const float src[3] = {(float)vr, (float)vg, (float)vb};
    const int pos[3] = {c0, 1, c2};
    float acc[3] = {0.0f, 0.0f, 0.0f};
    float rest = 1.0f;
    for (int k = k_n - 1; k >= 0; --k) {
        float wk;
        if (k > 0) {
            wk = lf_clampf(lf_degree(seg + (size_t)(k - 1) * mh * mw, mh, mw, my, mx, x, y), 0.0f, 1.0f);
            rest -= wk;
        } else {
            wk = rest > 0.0f ? rest : 0.0f;
        }
        const float* ck = coords + k * 768;
        const float xr = ck[vr], xg = ck[256 + vg], xb = ck[512 + vb];
        const int ir = lf_mini((int)xr, n - 2), ig = lf_mini((int)xg, n - 2), ib = lf_mini((int)xb, n - 2);
        const float fr = xr - ir, fg = xg - ig, fb = xb - ib;
        const float* p000 = luts + k * table + (size_t)((ir * n + ig) * n + ib) * 3;
        for (int c = 0; c < 3; ++c) {
            float v = tetra ? lf_tetrahedral(p000, dr, dg, db, fr, fg, fb, c)
                            : lf_trilinear(p000, dr, dg, db, fr, fg, fb, c);
            acc[c] += wk * lf_clampf(v * 255.0f, 0.0f, 255.0f);
        }
    }
    float w = lf_clampf(weight, 0.0f, 1.0f);
    for (int c = 0; c < 3; ++c) {
        float o = src[c] + (acc[c] - src[c]) * w;
        out[pos[c]] = (unsigned char)lf_clampf(floorf(o + 0.5f), 0.0f, 255.0f);
    }
}

// Grade one pixel: px points at its 3 bytes (c0 = 0 for RGB order, 2 for BGR); weight = degree * strength;
// coords the LUT's (3, 256) position table; tetra != 0 selects tetrahedral interpolation. One LUT is the
// multi-LUT case with k_n = 1 (LUT 0 takes the whole weight: the same arithmetic, and the constant k_n folds the
// loop away).
LF_HD inline void lf_shade(const unsigned char* px, unsigned char* out, const float* lut, int n, const float* coords,
                           float weight, int c0, int tetra)
{
    lf_shade_multi(px, out, lut, 1, n, coords, nullptr, 0, 0, 0.0f, 0.0f, 0, 0, weight, c0, tetra);
}

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)  // the kernels; the functions above also build as plain C++
// One thread per pixel of rows [y0, y1) of an h x w frame. src/dst are packed h x w x 3 uint8 frames (row
// pitch w * 3); launching row strips on alternating streams lets the copies of one strip overlap the compute
// of another.
extern "C" __global__ void lf_render(const unsigned char* src, unsigned char* dst, int w, int y0, int y1,
                                     const float* lut, int n, const float* coords, const float* deg, int dh, int dw,
                                     float ky, float kx, float strength, int c0, int tetra)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = y0 + blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= w || y >= y1) return;
    size_t i = ((size_t)y * w + x) * 3;
    float weight = lf_degree(deg, dh, dw, ky, kx, x, y) * strength;
    lf_shade(src + i, dst + i, lut, n, coords, weight, c0, tetra);
}

// lf_render with k_n LUTs mixed by a soft label mask (lf_shade_multi); the same strips, streams and degree map.
extern "C" __global__ void lf_render_multi(const unsigned char* src, unsigned char* dst, int w, int y0, int y1,
                                           const float* luts, int k_n, int n, const float* coords, const float* seg,
                                           int mh, int mw, float my, float mx, const float* deg, int dh, int dw,
                                           float ky, float kx, float strength, int c0, int tetra)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = y0 + blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= w || y >= y1) return;
    size_t i = ((size_t)y * w + x) * 3;
    float weight = lf_degree(deg, dh, dw, ky, kx, x, y) * strength;
    lf_shade_multi(src + i, dst + i, luts, k_n, n, coords, seg, mh, mw, my, mx, x, y, weight, c0, tetra);
}
#endif
