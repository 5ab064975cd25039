"""Choose how much of the guessed tone curve a black-and-white look keeps, on TRAINING data only.

For every black-and-white training film look, two templates F(A) from training photos; the monochrome path's
look (Rec. 601 luma, the guessed tone curve kept at weight w, the template's tint) is applied to 3 other training
photos B and scored by mean CIEDE2000 against F(B). w = 0 is the curve-less path.

    python tools/tune_mono_curve.py [--weights 0 0.5 0.75 1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared_data import SHARED, delta_e00, load_photo, look_family, looks, photos  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.look import (
    bake,  # noqa: E402
    monochrome,  # noqa: E402
)
from livefilter.look.mapping import fit_mapping  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.5, 0.75, 1.0])
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        print(f"needs {SHARED}", file=sys.stderr)
        return 2
    pics = [load_photo(p, 384) for p in photos("train")]
    rng = np.random.default_rng(0)
    scores: dict[float, list[float]] = {w: [] for w in args.weights}
    for p in [p for p in looks("train") if look_family(p) == "bw"]:
        F = lf.read_lut(p)
        for _ in range(2):
            ia, *ibs = rng.choice(len(pics), 4, replace=False)
            T = lf.render(pics[ia], F)
            truths = [(pics[i], lf.render(pics[i], F)) for i in ibs]
            for w in args.weights:
                lut = bake(fit_mapping(*monochrome.monochrome_pairs(T, curve_weight=w), "residual"))
                scores[w].append(float(np.mean([delta_e00(lf.render(b, lut), fb) for b, fb in truths])))
        print(p.name, {w: round(v[-1], 2) for w, v in scores.items()}, file=sys.stderr)
    print("| curve weight | " + " | ".join(str(w) for w in args.weights) + " |")
    print("|---|" + "---|" * len(args.weights))
    print(f"| mean dE00 ({len(scores[args.weights[0]])} templates) | "
          + " | ".join(f"{np.mean(v):.3f}" for v in scores.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
