"""Choose the one-photo fitting settings on TRAINING data: mapping kind and how much of the guessed look to keep.

Same protocol as tools/eval_looks.py (template = F(A), the look is learnt from the template alone and applied to 3
other photos B, mean CIEDE2000 against F(B)), but on the TRAINING split: every 3rd training film look, training
photos, and synthetic looks from seeds 7,000,000+ (never drawn in training nor in eval_looks.py). The validation
split is never read, so the chosen settings are not tuned on it.

For every template the de-filter guess is made once; then each mapping kind (--mappings, default seed) is
fitted and its look is applied at several weights w (output = B + w * (look(B) - B)); the rule
w = clip(a + b d, 0, 1) of the guess change d that scores best is fitted last. Black-and-white templates take the
monochrome path in the product; their score is that path's, whatever the setting.

    python tools/tune_oneshot.py [--model M.onnx] [--mappings seed residual] [--synthetic 40] [--json J] [--md M]
    python tools/tune_oneshot.py --rows J      # summarise an earlier run again
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared_data import SHARED, delta_e00, load_photo, look_family, looks, photos, write_results  # noqa: E402
from synth_looks import random_look  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter import defilter  # noqa: E402
from livefilter.look import bake, sample_pairs  # noqa: E402
from livefilter.mapping import fit_mapping  # noqa: E402

SYNTH_SEED = 7_000_000
WEIGHTS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0)


def score_at(row: dict, w: float, mapping: str = "seed") -> float:
    """A row's dE00 at weight w, interpolated between the measured weights (monochrome rows: their path's)."""
    ws = sorted(WEIGHTS)
    return float(np.interp(w, ws, [row[f"{mapping} w={x}"] for x in ws]))


def fit_weight_rule(rows: list[dict], groups: dict) -> dict:
    """The linear rule w = clip(a + b * d, 0, 1) of the guess change d that minimises the mean dE00 of all rows."""
    best = None
    for a in np.arange(-0.5, 1.0001, 0.05):
        for b in np.arange(0.0, 0.1001, 0.005):
            w = {id(r): float(np.clip(a + b * r.get("guess change", 0.0), 0, 1)) for r in rows}
            total = float(np.mean([score_at(r, w[id(r)]) for r in rows]))
            if best is None or total < best[0]:
                best = (total, float(a), float(b), w)
    _, a, b, w = best
    return {"a": round(a, 3), "b": round(b, 4),
            "scores": {g: float(np.mean([score_at(r, w[id(r)]) for r in sel])) for g, sel in groups.items() if sel}}


def measure(args) -> list[dict]:
    """One row per template: its path, identity score, guess change and dE00 at every mapping and weight."""
    items = [(str(p.relative_to(SHARED)), look_family(p), lf.read_lut(p)) for p in looks("train")[::3]]
    items += [(f"synthetic {SYNTH_SEED + i}", "synthetic", random_look(SYNTH_SEED + i)[0])
              for i in range(args.synthetic)]
    pics = [load_photo(p, args.side) for p in photos("train")]
    rng = np.random.default_rng(0)
    rows = []
    for k, (name, family, F) in enumerate(items):
        ia, *ibs = rng.choice(len(pics), 4, replace=False)
        T = lf.render(pics[ia], F)
        truths = [(pics[i], lf.render(pics[i], F)) for i in ibs]
        row = {"look": name, "family": family, "identity": float(np.mean([delta_e00(b, fb) for b, fb in truths]))}
        if defilter.is_monochrome(T):
            row["path"] = "monochrome path"
            look = lf.fit_look(T)
            score = float(np.mean([delta_e00(look.apply(b), fb) for b, fb in truths]))
            row.update({f"{m} w={w}": score for m in args.mappings for w in WEIGHTS})
        else:
            row["path"] = "de-filter network"
            small, guess = defilter.defilter(T)
            row["guess change"] = defilter.guess_change(small, guess)
            src, dst, _ = sample_pairs(small, guess)
            for m in args.mappings:
                lut = bake(fit_mapping(src, dst, m))
                outs = [lf.render(b, lut).astype(np.float32) for b, _ in truths]
                for w in WEIGHTS:
                    row[f"{m} w={w}"] = float(np.mean([
                        delta_e00(np.clip(b + w * (o - b) + 0.5, 0, 255).astype(np.uint8), fb)
                        for o, (b, fb) in zip(outs, truths)]))
        rows.append(row)
        print(f"[{k + 1}/{len(items)}] {name}: identity {row['identity']:.2f} seed w=0.8 {row['seed w=0.8']:.2f}",
              file=sys.stderr)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="de-filter model to use (default: the shipped models/defilter.onnx)")
    ap.add_argument("--synthetic", type=int, default=40)
    ap.add_argument("--side", type=int, default=384)
    ap.add_argument("--mappings", nargs="+", default=["seed"], choices=("seed", "residual"))
    ap.add_argument("--rows", help="summarise the rows of an earlier --json again instead of measuring")
    ap.add_argument("--json")
    ap.add_argument("--md")
    args = ap.parse_args(argv)
    t0 = time.time()
    if args.rows:
        import json

        old = json.loads(Path(args.rows).read_text())
        rows, model, seconds = old["rows"], old["model"], old["seconds"]
        args.mappings = [m for m in ("seed", "residual") if f"{m} w=1.0" in rows[0]]
    else:
        if not SHARED.is_dir():
            print(f"needs {SHARED}", file=sys.stderr)
            return 2
        if args.model:
            defilter.MODEL_PATH = Path(args.model)
        rows, model = measure(args), defilter.MODEL_PATH.name
        seconds = time.time() - t0
    settings = [f"{m} w={w}" for m in args.mappings for w in WEIGHTS]
    groups = {"film (all)": [r for r in rows if r["family"] != "synthetic"], "all": rows}
    groups.update({f: [r for r in rows if r["family"] == f] for f in sorted({r["family"] for r in rows})})
    summary = {g: {"looks": len(sel), "identity": float(np.mean([r["identity"] for r in sel])),
                   **{s: float(np.mean([r[s] for r in sel])) for s in settings}} for g, sel in groups.items() if sel}
    md = ["| looks | n | identity | " + " | ".join(settings) + " |", "|---|---|---|" + "---|" * len(settings)]
    md += [f"| {g} | {s['looks']} | {s['identity']:.2f} | " + " | ".join(f"{s[k]:.2f}" for k in settings) + " |"
           for g, s in summary.items()]
    rule = fit_weight_rule(rows, groups)
    md += ["", f"Weight from the guess change d (code values): w = clip({rule['a']:.2f} + {rule['b']:.3f} d, 0, 1): "
           + ", ".join(f"{g} {v:.2f}" for g, v in rule["scores"].items())]
    result = {"protocol": __doc__.split("\n\n")[1], "model": model, "summary": summary, "weight rule": rule,
              "rows": rows, "seconds": seconds}
    write_results(result, "\n".join(md), args.json, args.md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
