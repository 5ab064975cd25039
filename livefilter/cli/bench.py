"""livefilter bench-live: the live pipeline measured, synthetic source to a null sink: frame rate, per-stage times,
latency, the degree map's steadiness, template swaps."""

from __future__ import annotations

import json
import os
import platform
import threading
import time

import numpy as np

from .._version import __version__
from ..fileio import atomic_output, check_output_path
from ..resources import DATA_DIR
from .exits import EXIT_OK
from .samples import sample_look, split_sample_look

# live/ is imported where it is used: `livefilter --help` does not load it (start-up time)


def machine_info() -> dict:
    """What a benchmark's figures were measured on: the CPU's model and count, the software's versions, the date and
    the load (other work on the machine skews every figure)."""
    import numba

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "livefilter": __version__,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}


def cmd_bench_live(args) -> int:
    from ..live.pipeline import LivePipeline
    from ..live.sinks import NullSink
    from ..live.sources import SyntheticSource

    w, h = args.frame_size
    if args.json:  # before the run: a folder that is not there cost the whole measurement
        check_output_path(args.json)
    if args.segments:
        look = split_sample_look(args.scene)
    else:  # with --scene the look comes from its template photo (a before/after pair), so the scene part has one
        look = None if args.scene else sample_look()
    source = SyntheticSource((w, h), fps=args.fps if args.fps > 0 else 1000.0)
    if args.fps <= 0:
        source.paced = False
    sink = NullSink()
    swaps, picks = [], []
    changes, prev = [], [None]

    def degree_change(out, info):  # frame-to-frame change of the rendered degree map (None: 1 everywhere)
        d = info["degree"]
        d = np.ones((2, 2), np.float32) if d is None else d
        if prev[0] is not None:
            a = prev[0] if prev[0].shape == d.shape else np.full_like(d, float(prev[0].mean()))
            changes.append((float(np.abs(d - a).mean()), float(np.abs(d - a).max())))
        prev[0] = d

    with LivePipeline(source, [sink], look=look, backend=args.backend,
                      face_protect=not args.no_face_protect, scene=args.scene) as p:
        if args.scene and not args.segments:
            p.set_template(DATA_DIR / "sample_after.jpg", DATA_DIR / "sample_before.jpg").result()
        p.add_callback(degree_change)
        stop = threading.Event()

        def swapper():  # a before/after fit, then a one-photo fit whose readings are cycled as 'c' does
            before = DATA_DIR / "sample_before.jpg"
            after = DATA_DIR / "sample_after.jpg"
            while not stop.is_set():
                t = time.perf_counter()
                p.set_template(after, before).result()
                swaps.append((time.perf_counter() - t) * 1e3)
                p.set_template(after).result()
                for _ in range(2 * p.candidate[1]):
                    if stop.wait(0.1):
                        break
                    t = time.perf_counter()
                    p.pick_candidate(p.candidate[0] % p.candidate[1] + 1).result()
                    picks.append((time.perf_counter() - t) * 1e3)

        th = threading.Thread(target=swapper, daemon=True) if args.swap else None
        if th:
            th.start()
        try:
            stats = p.run(max_frames=args.frames)
            # read now: the capture goes on until close, and frames it replaces after the run are not the run's
            dropped = p.dropped_frames
        finally:
            stop.set()
            if th:
                th.join()
        backend = p.backend.name
        scene = p.estimator.scene
        scene_info = None if scene is None else {
            "has_template": scene.has_template, "evaluations": scene.evaluations, "threads": scene.threads,
            "score_last": round(p.scene_score, 4),
            "raw_last": None if scene.raw is None else round(scene.raw, 4),
            "evaluation_ms_median": round(float(np.median(scene.eval_ms)), 2) if scene.eval_ms else None,
            "evaluation_ms_p95": round(float(np.percentile(scene.eval_ms, 95)), 2) if scene.eval_ms else None}
    budget = 1000.0 / args.fps if args.fps > 0 else None
    ch = np.asarray(changes).reshape(-1, 2)
    result = {
        "size": f"{w}x{h}", "frames": args.frames, "source_fps": args.fps, "backend": backend,
        "face_protect": not args.no_face_protect, "scene": args.scene, "scene_analysis": scene_info,
        "segments": args.segments, "segmented_look": bool(look is not None and look.segmented),
        # per frame: the mean over the map of |d_t - d_(t-1)| and its largest value, then their mean / p99 over frames
        "degree_change": {"mean_of_mean": round(float(ch[:, 0].mean()), 5) if len(ch) else None,
                          "p99_of_mean": round(float(np.percentile(ch[:, 0], 99)), 5) if len(ch) else None,
                          "mean_of_max": round(float(ch[:, 1].mean()), 5) if len(ch) else None,
                          "p99_of_max": round(float(np.percentile(ch[:, 1], 99)), 5) if len(ch) else None},
        "template_swaps": len(swaps),
        "swap_ms_median": round(float(np.median(swaps)), 2) if swaps else None, "reading_picks": len(picks),
        "pick_ms_median": round(float(np.median(picks)), 3) if picks else None, "stats": stats,
        # an unpaced source (--fps 0) makes frames as fast as it can: those replaced while one renders are not lost
        "dropped_frames": dropped if budget else None,
        "latency_in_frame_times_p95": round(stats["latency"]["p95_ms"] / budget, 3) if budget else None,
        "machine": machine_info(),  # the load when the run ended says how much other work skewed it
    }
    text = json.dumps(result, indent=1)
    if not args.json:
        print(text)
        return EXIT_OK
    with atomic_output(args.json) as tmp:
        tmp.write_text(text)
    # the file has it all; the terminal gets what a reader looks for first
    st = stats
    print(f"{result['size']} {backend}: {st['fps']:.1f} fps, render {st['render']['p50_ms']:.1f} ms (p95 "
          f"{st['render']['p95_ms']:.1f}), latency p95 {st['latency']['p95_ms']:.0f} ms, "
          + (f"{dropped} dropped of {st['frames']} frames" if budget else f"{st['frames']} frames (unpaced)")
          + f"; wrote {args.json}")
    return EXIT_OK
