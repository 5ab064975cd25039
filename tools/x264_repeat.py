"""Is x264 repeatable here? The same frames encoded N times with the batch encoder's settings
(livefilter.media.codec.EncodeSettings), x264 free to pick its code (AVX-512 where the CPU has it) and held to AVX2
(livefilter.media.codec.X264_PARAMS): how many runs give the first run's bytes, and the encode time.

    python tools/x264_repeat.py [--runs 10] [--sizes 160x120 640x360 1920x1080] [--frames 10] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livefilter.live.sources import SyntheticSource  # noqa: E402
from livefilter.media import codec as bv  # noqa: E402
from livefilter.media.yuv import rgb_to_i420  # noqa: E402


def encode(frames, w, h, params: str | None) -> tuple[bytes, float]:
    """The frames through the batch encoder's own configuration (media.codec._configure) with X264_PARAMS set to
    ``params``: (the stream's bytes, seconds)."""
    import av

    info = bv.VideoInfo(path="synthetic", width=w, height=h, time_base=Fraction(1, 12800), rate=Fraction(30),
                        frames=len(frames), packets=len(frames), start_pts=0, duration_s=len(frames) / 30,
                        rotation=0, colour={}, boundaries=[], chunk_frames=[len(frames)])
    kept = bv.X264_PARAMS
    try:
        bv.X264_PARAMS = params
        cc = av.CodecContext.create("libx264", "w")
        bv._configure(cc, info, bv.EncodeSettings())
    finally:
        bv.X264_PARAMS = kept
    cc.open()
    out, t = [], time.perf_counter()
    for k, yuv in enumerate(frames):
        f = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        f.pts = k * 427
        out += [bytes(p) for p in cc.encode(f)]
    out += [bytes(p) for p in cc.encode(None)]
    return b"".join(out), time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--sizes", nargs="+", default=["160x120", "640x360", "1920x1080"])
    ap.add_argument("--frames", type=int, default=10)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    threads = bv.EncodeSettings().threads
    res = {"what": f"{args.frames} synthetic frames per size, libx264 veryfast crf 18, {threads} threads, "
                   f"{args.runs} runs each", "avx512": bv._has_avx512(), "sizes": {}}
    for size in args.sizes:
        w, h = (int(v) for v in size.split("x"))
        src = SyntheticSource((w, h), fps=30)
        frames = [rgb_to_i420(src.frame_at(k), 1) for k in range(args.frames)]
        out = res["sizes"][size] = {}
        for name, params in (("x264's own choice", None), ("held to AVX2", "asm=AVX2,BMI2,LZCNT")):
            runs = [encode(frames, w, h, params) for _ in range(args.runs)]
            out[name] = {"x264-params": params,
                         "runs with the first run's bytes": sum(b == runs[0][0] for b, _ in runs),
                         "encode_ms_per_frame_median": round(float(np.median([t for _, t in runs]))
                                                             * 1e3 / args.frames, 2),
                         "bytes": len(runs[0][0])}
    res["machine"] = {"cpus": __import__("os").cpu_count(), "platform": platform.platform(),
                      "processor": next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                                         if ln.startswith("model name")), platform.processor())
                      if Path("/proc/cpuinfo").is_file() else platform.processor()}
    print(json.dumps(res, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
