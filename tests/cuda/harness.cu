// Host harness: runs the GPU kernel's per-pixel functions on the CPU (see shaders/lut_render.cu).
// Usage: harness IN.bin OUT.bin
// IN.bin: int32 h, w, n, dh, dw, c0; float32 strength; uint8 frame[h*w*3]; float32 lut[n^3*3];
//         float32 deg[dh*dw]. OUT.bin: uint8 frame[h*w*3].
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <vector>
#include <algorithm>
using std::min;
#include "../../shaders/lut_render.cu"

int main(int argc, char** argv)
{
    if (argc != 3) { fprintf(stderr, "usage: harness IN.bin OUT.bin\n"); return 2; }
    FILE* f = fopen(argv[1], "rb");
    if (!f) return 2;
    int hdr[6]; float strength;
    if (fread(hdr, 4, 6, f) != 6 || fread(&strength, 4, 1, f) != 1) return 2;
    int h = hdr[0], w = hdr[1], n = hdr[2], dh = hdr[3], dw = hdr[4], c0 = hdr[5];
    std::vector<unsigned char> src((size_t)h * w * 3), dst(src.size());
    std::vector<float> lut((size_t)n * n * n * 3), deg((size_t)std::max(dh * dw, 1));
    if (fread(src.data(), 1, src.size(), f) != src.size()) return 2;
    if (fread(lut.data(), 4, lut.size(), f) != lut.size()) return 2;
    if (dh > 0 && fread(deg.data(), 4, (size_t)dh * dw, f) != (size_t)dh * dw) return 2;
    fclose(f);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            size_t i = ((size_t)y * w + x) * 3;
            lf_shade(&src[i], &dst[i], lut.data(), n, lf_degree(deg.data(), dh, dw, x, y, h, w) * strength, c0);
        }
    FILE* o = fopen(argv[2], "wb");
    if (!o) return 2;
    fwrite(dst.data(), 1, dst.size(), o);
    fclose(o);
    return 0;
}
