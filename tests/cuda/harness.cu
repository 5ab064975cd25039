// Host harness: runs the GPU kernel's per-pixel functions on the CPU (see shaders/lut_render.cu).
// Usage: harness IN.bin OUT.bin
// IN.bin: int32 h, w, n, dh, dw, c0, tetra; float32 strength, ky, kx; uint8 frame[h*w*3];
//         float32 lut[n^3*3]; float32 coords[3*256]; float32 deg[dh*dw]. OUT.bin: uint8 frame[h*w*3].
// The table, coords and float32 constants are made by the backend's own host code (livefilter.render.cuda:
// device_tables, frame_constants), so the harness checks what the launch will pass, not a copy of it.
// Builds with nvcc, or with any C++ compiler: g++ -x c++ -DLF_HD= (the kernels themselves are CUDA-only).
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <vector>
#include <algorithm>
#include "../../shaders/lut_render.cu"

int main(int argc, char** argv)
{
    if (argc != 3) { fprintf(stderr, "usage: harness IN.bin OUT.bin\n"); return 2; }
    FILE* f = fopen(argv[1], "rb");
    if (!f) return 2;
    int hdr[7]; float consts[3];
    if (fread(hdr, 4, 7, f) != 7 || fread(consts, 4, 3, f) != 3) return 2;
    int h = hdr[0], w = hdr[1], n = hdr[2], dh = hdr[3], dw = hdr[4], c0 = hdr[5], tetra = hdr[6];
    float strength = consts[0], ky = consts[1], kx = consts[2];
    std::vector<unsigned char> src((size_t)h * w * 3), dst(src.size());
    std::vector<float> lut((size_t)n * n * n * 3), coords(3 * 256), deg((size_t)std::max(dh * dw, 1));
    if (fread(src.data(), 1, src.size(), f) != src.size()) return 2;
    if (fread(lut.data(), 4, lut.size(), f) != lut.size()) return 2;
    if (fread(coords.data(), 4, coords.size(), f) != coords.size()) return 2;
    if (dh > 0 && fread(deg.data(), 4, (size_t)dh * dw, f) != (size_t)dh * dw) return 2;
    fclose(f);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            size_t i = ((size_t)y * w + x) * 3;
            float weight = lf_degree(deg.data(), dh, dw, ky, kx, x, y) * strength;
            lf_shade(&src[i], &dst[i], lut.data(), n, coords.data(), weight, c0, tetra);
        }
    FILE* o = fopen(argv[2], "wb");
    if (!o) return 2;
    fwrite(dst.data(), 1, dst.size(), o);
    fclose(o);
    return 0;
}
