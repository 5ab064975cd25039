"""Benchmark the look engine: CPU render ms/frame vs ffmpeg lut3d in the same run, and fit times.

    python tools/bench.py [--threads 2] [--json bench.json] [--quick] [--defilter-only | --segments-only]

Frames are the bundled sample photo resized to 720p / 1080p / 4K (real photo content, so the colour locality
of camera frames is kept); the look is fitted from the bundled before/after pair. Each figure is the median over
repeated runs after warm-up, with p10/p90. ffmpeg's lut3d runs on the same frame and the same .cube with
rgb24 and the same thread count; its per-frame time is measured as (lut3d run - null-filter run) / frames so
that ffmpeg's own start-up and raw reading are not charged to it (both are reported).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import livefilter as lf  # noqa: E402
from livefilter.render import baked_table  # noqa: E402

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080), "4K": (3840, 2160)}
DATA = Path(lf.__file__).resolve().parent / "data"


def machine_info(threads: int) -> dict:
    import numba

    cpu = ""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ff = shutil.which("ffmpeg")
    ffv = subprocess.run([ff, "-version"], capture_output=True, text=True).stdout.split("\n")[0] if ff else None
    return {
        "cpu": cpu, "logical_cpus": os.cpu_count(), "threads": threads, "python": platform.python_version(),
        "platform": platform.platform(), "numpy": np.__version__, "numba": numba.__version__,
        "livefilter": lf.__version__, "ffmpeg": ffv, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def timeit(fn, n: int, warmup: int = 3) -> dict:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1e3)
    return {"median_ms": float(np.median(ts)), "p10_ms": float(np.percentile(ts, 10)),
            "p90_ms": float(np.percentile(ts, 90)), "runs": n}


DEGREES = ("none", "full-res map", "1/8-res map")


def degree_maps(w: int, h: int) -> dict:
    # a smooth, everywhere-partial degree map (face-protection-like blobs over a scene score of 0.8), so no
    # pixel takes the no-blend shortcut
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    blob = np.exp(-(((x - 0.4 * w) / (0.12 * w)) ** 2 + ((y - 0.45 * h) / (0.2 * h)) ** 2))
    full = (0.8 * (1 - 0.9 * blob) + 0.05 * np.sin(x / 97.0)).astype(np.float32)
    small = cv2.resize(full, (w // 8, h // 8), interpolation=cv2.INTER_AREA)
    return dict(zip(DEGREES, (None, full, small)))


def ffmpeg_ms(frame: np.ndarray, cube: Path, interp: str, threads: int, frames: int) -> dict | None:
    ff = shutil.which("ffmpeg")
    if not ff:
        return None
    h, w = frame.shape[:2]
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "frame.raw"
        raw.write_bytes(frame.tobytes())

        def run(vf: str) -> float:
            cmd = [ff, "-hide_banner", "-nostdin", "-v", "error", "-threads", str(threads), "-filter_threads",
                   str(threads), "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-stream_loop",
                   str(frames - 1), "-i", str(raw), "-vf", vf, "-f", "null", "-"]
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            return time.perf_counter() - t

        lut = [run(f"lut3d=file={cube}:interp={interp}") for _ in range(3)]
        null = [run("null") for _ in range(3)]
    total = float(np.median(lut)) * 1e3 / frames
    base = float(np.median(null)) * 1e3 / frames
    return {"median_ms": total - base, "with_io_ms": total, "null_filter_ms": base, "frames": frames}


def bench_defilter(template: np.ndarray, n: int) -> dict | None:
    """De-filter inference at the preset size, and template alone -> ready 33^3 LUT (when the model ships)."""
    from livefilter.look import defilter

    if not defilter.MODEL_PATH.is_file():
        return None
    sess = defilter._load()
    h, w = defilter.preset_size(*template.shape[:2])
    small = cv2.resize(template, (w, h), interpolation=cv2.INTER_AREA)
    x = (small.astype(np.float32) / 255).transpose(2, 0, 1)[None]
    big = cv2.resize(template, (4000, 3000), interpolation=cv2.INTER_CUBIC)  # a 12 MP photo
    bw = np.repeat(cv2.cvtColor(big, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)  # the monochrome path
    return {
        "preset": f"{w}x{h}",
        "inference": timeit(lambda: sess.run(None, {sess.get_inputs()[0].name: x}), n),
        "template_to_lut_768x512": timeit(lambda: lf.fit_look(template), n),
        "template_to_lut_12mp": timeit(lambda: lf.fit_look(big), max(3, n // 4)),
        "template_to_lut_12mp_bw": timeit(lambda: lf.fit_look(bw), max(3, n // 4)),
        "model_bytes": defilter.MODEL_PATH.stat().st_size,
    }


def bench_segments(before: np.ndarray, after: np.ndarray, n: int, threads: int) -> dict:
    """A per-segment look (person / background) rendered in one pass (render_segments: 2 LUTs + the segmenter's
    soft mask at 256 px) against the single-LUT render of the same look, same frame, same degree map, same run;
    and the segmenter itself on the frame (downscale included)."""
    from livefilter.analysis.segments import Segmenter
    from livefilter.render import render_segments

    look = lf.fit_look(after, before, segments=True)
    luts = [look.label_luts.get(0, look.lut), look.label_luts.get(1, look.lut)]
    out: dict = {"own look": sorted(look.label_luts), "rows": []}
    with Segmenter() as seg, tempfile.TemporaryDirectory() as tmp:
        cube = Path(tmp) / "look.cube"
        look.save(cube)
        for label in ("720p", "1080p"):
            w, h = SIZES[label]
            frame = np.ascontiguousarray(cv2.resize(before, (w, h), interpolation=cv2.INTER_CUBIC))
            buf = np.empty_like(frame)
            deg = degree_maps(w, h)["1/8-res map"]
            mask = seg.mask(frame)[None]
            row = {"size": label, "mask": list(mask.shape[1:]),
                   "single_lut": timeit(lambda f=frame, d=deg, o=buf: lf.render(f, look.lut, degree=d, out=o), n),
                   "two_luts_soft_mask": timeit(lambda f=frame, d=deg, o=buf, m=mask: render_segments(
                       f, luts, m, degree=d, out=o), n),
                   "segmenter": timeit(lambda f=frame: seg.mask(f), max(5, n // 2))}
            ff = ffmpeg_ms(frame, cube, "trilinear", threads, 60)
            row["ffmpeg_lut3d_trilinear"] = ff
            out["rows"].append(row)
            print(f"{label}: single {row['single_lut']['median_ms']:.2f} ms, two LUTs + mask "
                  f"{row['two_luts_soft_mask']['median_ms']:.2f} ms, segmenter {row['segmenter']['median_ms']:.2f} ms"
                  + (f", ffmpeg {ff['median_ms']:.2f} ms" if ff else ""), file=sys.stderr)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the results here (JSON)")
    ap.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    ap.add_argument("--defilter-only", action="store_true", help="only the one-photo (de-filter) figures")
    ap.add_argument("--segments-only", action="store_true",
                    help="only the per-segment render (two LUTs + soft mask vs one LUT) and segmenter figures")
    ap.add_argument("--note", help="a note stored with the machine info (e.g. what else was running)")
    args = ap.parse_args(argv)
    import numba

    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    n = 5 if args.quick else 40
    before = lf.read_image(DATA / "sample_before.jpg")
    after = lf.read_image(DATA / "sample_after.jpg")
    result: dict = {"machine": machine_info(args.threads), "render": [], "ffmpeg": [], "fit": {}}
    if args.note:
        result["machine"]["note"] = args.note
    if args.segments_only:
        result = {"machine": result["machine"], "segments": bench_segments(before, after, n, args.threads)}
        text = json.dumps(result, indent=1)
        if args.json:
            Path(args.json).write_text(text)
        print(text)
        return 0
    result["defilter"] = bench_defilter(after, 3 if args.quick else 20)
    if args.defilter_only:
        print(json.dumps(result, indent=1))
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=1))
        return 0

    for mapping in ("seed", "residual"):
        runs = 3 if args.quick else 15
        result["fit"][mapping] = timeit(lambda m=mapping: lf.fit_look(after, before, mapping=m), runs)
    look = lf.fit_look(after, before)
    for interp in ("trilinear", "tetrahedral"):
        fresh = lf.Lut(look.lut.table)
        t = time.perf_counter()
        baked_table(fresh, interp)
        result[f"bake_256_table_{interp}_ms"] = (time.perf_counter() - t) * 1e3

    with tempfile.TemporaryDirectory() as tmp:
        cube = Path(tmp) / "look.cube"
        look.save(cube)
        for label, (w, h) in SIZES.items():
            frame = np.ascontiguousarray(cv2.resize(before, (w, h), interpolation=cv2.INTER_CUBIC))
            out = np.empty_like(frame)
            reps = max(5, n // 4) if label == "4K" else n
            for interp in ("trilinear", "tetrahedral"):
                for dname, deg in degree_maps(w, h).items():
                    r = timeit(lambda f=frame, d=deg, i=interp, o=out: lf.render(f, look, degree=d, interp=i, out=o),
                               reps)
                    result["render"].append({"size": label, "interp": interp, "degree": dname, **r})
                    print(f"livefilter {label} {interp:11s} {dname:13s} {r['median_ms']:7.2f} ms", file=sys.stderr)
                ff = ffmpeg_ms(frame, cube, interp, args.threads, 30 if args.quick else (60 if label == "4K" else 150))
                if ff:
                    result["ffmpeg"].append({"size": label, "interp": interp, **ff})
                    print(f"ffmpeg     {label} {interp:11s} {ff['median_ms']:7.2f} ms", file=sys.stderr)

    def pick(size, interp, degree):
        return next(r["median_ms"] for r in result["render"]
                    if r["size"] == size and r["interp"] == interp and r["degree"] == degree)

    ff = {(r["size"], r["interp"]): r["median_ms"] for r in result["ffmpeg"]}
    if ff:
        result["speedup_vs_ffmpeg_1080p_trilinear"] = {
            d: ff[("1080p", "trilinear")] / pick("1080p", "trilinear", d) for d in DEGREES}
    text = json.dumps(result, indent=1)
    if args.json:
        Path(args.json).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
