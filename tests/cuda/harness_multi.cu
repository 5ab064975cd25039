// Host harness for the multi-LUT kernel: runs lf_shade_multi (shaders/lut_render.cu) on the CPU.
// Usage: harness_multi IN.bin OUT.bin
// IN.bin: int32 h, w, n, k, mh, mw, dh, dw, c0, tetra; float32 strength, my, mx, ky, kx;
//         uint8 frame[h*w*3]; float32 luts[k*n^3*3]; float32 coords[k*3*256]; float32 seg[(k-1)*mh*mw];
//         float32 deg[dh*dw].
// OUT.bin: uint8 frame[h*w*3]. The tables, coords and constants come from livefilter.render.cuda (device_tables,
// frame_constants). Builds with nvcc or g++ -x c++ -DLF_HD= (see harness.cu).
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <vector>
#include <algorithm>
#include "../../shaders/lut_render.cu"

int main(int argc, char** argv)
{
    if (argc != 3) { fprintf(stderr, "usage: harness_multi IN.bin OUT.bin\n"); return 2; }
    FILE* f = fopen(argv[1], "rb");
    if (!f) return 2;
    int hdr[10]; float consts[5];
    if (fread(hdr, 4, 10, f) != 10 || fread(consts, 4, 5, f) != 5) return 2;
    int h = hdr[0], w = hdr[1], n = hdr[2], k = hdr[3], mh = hdr[4], mw = hdr[5], dh = hdr[6], dw = hdr[7];
    int c0 = hdr[8], tetra = hdr[9];
    float strength = consts[0], my = consts[1], mx = consts[2], ky = consts[3], kx = consts[4];
    std::vector<unsigned char> src((size_t)h * w * 3), dst(src.size());
    std::vector<float> luts((size_t)k * n * n * n * 3), coords((size_t)k * 3 * 256);
    std::vector<float> seg((size_t)std::max((k - 1) * mh * mw, 1));
    std::vector<float> deg((size_t)std::max(dh * dw, 1));
    if (fread(src.data(), 1, src.size(), f) != src.size()) return 2;
    if (fread(luts.data(), 4, luts.size(), f) != luts.size()) return 2;
    if (fread(coords.data(), 4, coords.size(), f) != coords.size()) return 2;
    if (k > 1 && fread(seg.data(), 4, (size_t)(k - 1) * mh * mw, f) != (size_t)(k - 1) * mh * mw) return 2;
    if (dh > 0 && fread(deg.data(), 4, (size_t)dh * dw, f) != (size_t)dh * dw) return 2;
    fclose(f);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            size_t i = ((size_t)y * w + x) * 3;
            float weight = lf_degree(deg.data(), dh, dw, ky, kx, x, y) * strength;
            lf_shade_multi(&src[i], &dst[i], luts.data(), k, n, coords.data(), seg.data(), mh, mw, my, mx, x, y, weight,
                           c0, tetra);
        }
    FILE* o = fopen(argv[2], "wb");
    if (!o) return 2;
    fwrite(dst.data(), 1, dst.size(), o);
    fclose(o);
    return 0;
}
