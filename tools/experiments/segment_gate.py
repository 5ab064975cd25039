"""Experiment (training data only): when should a segment keep its own mapping (fit.SEGMENT_MIN_GAIN)?

Split and single-look templates drawn as tools/eval_segments.py draws them (before/after path), fitted with every
segment keeping its own mapping; for each template, each segment's fit errors on its own samples (global mapping
vs its own) and the score (mean dE00 on 3 other photos with people) of every subset of segments keeping their own
look. A gate is then a rule on the errors, scored offline: the printed table gives the per-segment gain over the
global look for thresholds on the error gain and on the own/global error ratio.

    python tools/experiments/segment_gate.py --seed 1 --split 30 --single 30 --json OUT.json
    python tools/experiments/segment_gate.py --table OUT1.json OUT2.json
"""
import argparse
import itertools
import json
import sys
import warnings
from pathlib import Path

import numpy as np

_TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_TOOLS.parent))
sys.path.insert(0, str(_TOOLS))
import eval_segments as es  # noqa: E402
from _shared_data import delta_e00, look_family, looks  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.look import fit  # noqa: E402
from livefilter.render import render_float, render_segments_float  # noqa: E402


def collect(seed: int, n_split: int, n_single: int) -> list[dict]:
    fit.SEGMENT_MIN_GAIN = -np.inf  # every segment keeps its own mapping; the gate is applied offline
    pics = es.people_photos(384, "train")
    pool = [p for p in looks("train", kinds=("film", "creative")) if look_family(p) in ("color", "creative")]
    rng = np.random.default_rng(seed)
    rows = []
    for k, kind in enumerate(["split"] * n_split + ["single"] * n_single):
        ia, *ibs = rng.choice(len(pics), 4, replace=False)
        i1, i2 = rng.choice(len(pool), 2, replace=False)
        f1 = lf.read_lut(pool[i1])
        f2 = lf.read_lut(pool[i2]) if kind == "split" else None
        _, a, _, ma_full = pics[ia]
        t = es.graded(a, f1, ma_full, f2)
        truths = [(pics[i][1], pics[i][2], es.graded(pics[i][1], f1, pics[i][3], f2)) for i in ibs]
        look = lf.fit_look(t, a, segments=True)
        own = sorted(look.label_luts)
        scores = {}
        for r in range(len(own) + 1):
            for sub in itertools.combinations(own, r):
                luts = [look.label_luts[c] if c in sub else look.lut for c in look.categories]
                scores[",".join(map(str, sub))] = float(np.mean([
                    delta_e00(render_segments_float(b, luts, mb[None]) if sub else render_float(b, look.lut), fb)
                    for b, mb, fb in truths]))
        rows.append({"kind": kind, "photo": str(pics[ia][0].name), "F1": pool[i1].name,
                     "F2": None if f2 is None else pool[i2].name, "errors": look.meta["segments"]["fit error"],
                     "scores": scores})
        print(k, kind, rows[-1]["errors"], {s: round(v, 2) for s, v in scores.items()}, file=sys.stderr, flush=True)
    return rows


def table(rows: list[dict]) -> str:
    def score(r, gain, ratio):
        kept = sorted(k for k, e in r["errors"].items()
                      if e["global"] - e["own"] >= gain and e["own"] <= ratio * e["global"])
        return r["scores"][",".join(kept)]

    out = ["| min gain (code values) | max own/global error | split: vs global | single-look: vs global (worse) |",
           "|---|---|---|---|"]
    for gain in (0.2, 0.3, 0.4, 0.5, 0.7, 1.0):
        for ratio in (1.0, 0.7, 0.5):
            cells = []
            for kind in ("split", "single"):
                sel = [r for r in rows if r["kind"] == kind]
                base = np.mean([r["scores"][""] for r in sel])
                got = [score(r, gain, ratio) for r in sel]
                worse = sum(g > r["scores"][""] + 1e-9 for g, r in zip(got, sel))
                cells.append(f"{1 - np.mean(got) / base:+.1%}" + (f" ({worse}/{len(sel)})" if kind == "single" else ""))
            out.append(f"| {gain} | {ratio} | {cells[0]} | {cells[1]} |")
    ratios = {kind: [e["own"] / e["global"] for r in rows if r["kind"] == kind for e in r["errors"].values()]
              for kind in ("split", "single")}
    gains = {kind: [e["global"] - e["own"] for r in rows if r["kind"] == kind for e in r["errors"].values()]
             for kind in ("split", "single")}
    out.append("")
    out.append(f"{sum(r['kind'] == 'split' for r in rows)} split, {sum(r['kind'] == 'single' for r in rows)} "
               f"single-look templates. Per segment: split gain {min(gains['split']):.2f}-{max(gains['split']):.2f}, "
               f"ratio {min(ratios['split']):.2f}-{max(ratios['split']):.2f}; single-look gain "
               f"{min(gains['single']):.2f}-{max(gains['single']):.2f}, ratio "
               f"{min(ratios['single']):.2f}-{max(ratios['single']):.2f}.")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--split", type=int, default=30)
    ap.add_argument("--single", type=int, default=30)
    ap.add_argument("--json")
    ap.add_argument("--table", nargs="+", metavar="JSON", help="print the gate table of earlier runs")
    args = ap.parse_args()
    if args.table:
        print(table([r for path in args.table for r in json.loads(Path(path).read_text())]))
        return 0
    warnings.simplefilter("ignore")
    rows = collect(args.seed, args.split, args.single)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
