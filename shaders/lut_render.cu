// livefilter GPU render kernel: trilinear 3D-LUT lookup + per-pixel rendering-degree blend, uint8 in and out.
//
// The trilinear arithmetic is done here in float rather than with texture filtering: CUDA's hardware filtering
// quantises the interpolation fraction to 8 bits on some GPUs, which would break agreement with the CPU path.
// The per-pixel maths is in __host__ __device__ functions so tests/cuda/harness.cu compiles and runs it on the
// CPU and compares it with the CPU renderer on every CI run; only the launch needs a GPU.
//
// LUT: float32, (n, n, n, 3) indexed [r][g][b][c], input domain [0, 1].
// Degree: optional low-resolution float32 (dh, dw) map, upsampled bilinearly with pixel centres aligned (the
// same convention as cv2.resize and the CPU renderer); dh == 0 means a constant degree of 1.

#ifndef LF_HD
#define LF_HD __host__ __device__
#endif

LF_HD inline float lf_clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Rendering degree at output pixel (x, y) of an h x w frame, from a dh x dw map.
LF_HD inline float lf_degree(const float* deg, int dh, int dw, int x, int y, int h, int w)
{
    if (dh <= 0) return 1.0f;
    float sy = lf_clampf((y + 0.5f) * ((float)dh / h) - 0.5f, 0.0f, dh - 1.0f);
    float sx = lf_clampf((x + 0.5f) * ((float)dw / w) - 0.5f, 0.0f, dw - 1.0f);
    int y0 = dh > 1 ? min((int)sy, dh - 2) : 0;
    int x0 = dw > 1 ? min((int)sx, dw - 2) : 0;
    int y1 = min(y0 + 1, dh - 1), x1 = min(x0 + 1, dw - 1);
    float fy = sy - y0, fx = sx - x0;
    float top = deg[y0 * dw + x0] * (1.0f - fx) + deg[y0 * dw + x1] * fx;
    float bot = deg[y1 * dw + x0] * (1.0f - fx) + deg[y1 * dw + x1] * fx;
    return top * (1.0f - fy) + bot * fy;
}

// Grade one pixel: px points at its 3 bytes (c0 = 0 for RGB order, 2 for BGR); weight = degree * strength.
LF_HD inline void lf_shade(const unsigned char* px, unsigned char* out, const float* lut, int n, float weight,
                           int c0)
{
    const int c2 = 2 - c0;
    const float s = (n - 1) / 255.0f;
    const float r = px[c0], g = px[1], b = px[c2];
    float xr = r * s, xg = g * s, xb = b * s;
    int ir = min((int)xr, n - 2), ig = min((int)xg, n - 2), ib = min((int)xb, n - 2);
    float fr = xr - ir, fg = xg - ig, fb = xb - ib;
    const float* p000 = lut + ((ir * n + ig) * n + ib) * 3;
    const int dr = n * n * 3, dg = n * 3, db = 3;
    const float src[3] = {r, g, b};
    const int pos[3] = {c0, 1, c2};
    float w = lf_clampf(weight, 0.0f, 1.0f);
    for (int c = 0; c < 3; ++c) {
        float c00 = p000[c] * (1 - fr) + p000[dr + c] * fr;
        float c10 = p000[dg + c] * (1 - fr) + p000[dr + dg + c] * fr;
        float c01 = p000[db + c] * (1 - fr) + p000[dr + db + c] * fr;
        float c11 = p000[dg + db + c] * (1 - fr) + p000[dr + dg + db + c] * fr;
        float v = ((c00 * (1 - fg) + c10 * fg) * (1 - fb) + (c01 * (1 - fg) + c11 * fg) * fb) * 255.0f;
        v = lf_clampf(v, 0.0f, 255.0f);
        float o = src[c] + (v - src[c]) * w;
        out[pos[c]] = (unsigned char)lf_clampf(floorf(o + 0.5f), 0.0f, 255.0f);
    }
}

// One thread per pixel of rows [y0, y1) of an h x w frame. src/dst are packed h x w x 3 uint8 frames (row
// pitch w * 3); launching row strips on alternating streams lets the copies of one strip overlap the compute
// of another.
extern "C" __global__ void lf_render(const unsigned char* src, unsigned char* dst, int h, int w, int y0, int y1,
                                     const float* lut, int n, const float* deg, int dh, int dw,
                                     float strength, int c0)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = y0 + blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= w || y >= y1) return;
    size_t i = ((size_t)y * w + x) * 3;
    float weight = lf_degree(deg, dh, dw, x, y, h, w) * strength;
    lf_shade(src + i, dst + i, lut, n, weight, c0);
}
