"""Before/after quality of the colour mappings, with the TRUE original (no de-filtering involved).

For each real film look F (../shared/data/looks, validation split by default) and photo A: template = F(A),
the look is fitted from (A, F(A)) and applied to 3 other photos B; score = mean CIEDE2000 against F(B).
Compares identity, the seed's quartic (least squares and L-BFGS) and quartic + smooth residual grid (with and
without the coverage fall-back, or at several strengths with --coverage). "all" excludes the --narrow rows
(every colour look again, with a narrow photo as A).

    python tools/eval_mapping.py [--split val|train] [--looks N] [--json out.json] [--md out.md]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared_data import (  # noqa: E402
    SHARED,
    delta_e00,
    is_narrow,
    load_photo,
    look_family,
    looks,
    photos,
    write_results,
)

import livefilter as lf  # noqa: E402


def plain_lstsq(template, original):
    """The baseline the issue names: the seed's quartic by plain least squares (no ridge) on the same samples."""
    from livefilter.look import Look, bake, sample_pairs
    from livefilter.look.mapping import QuarticMapping

    src, dst, _ = sample_pairs(template, original)
    return Look(lut=bake(QuarticMapping.fit(src, dst, ridge=0.0)))


METHODS = {
    "identity": None,
    "seed (plain lstsq)": plain_lstsq,
    "seed (lstsq)": {"mapping": "seed", "solver": "lstsq"},
    "seed (L-BFGS)": {"mapping": "seed", "solver": "lbfgs"},
    "residual (uniform)": {"mapping": "residual"},
    "residual (no coverage fall-back)": {"mapping": "residual", "coverage": 0.0},
    "residual (salient)": {"mapping": "residual", "sampling": "salient"},
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("val", "train"), default="val")
    ap.add_argument("--looks", type=int, default=0, help="use only the first N looks (0 = all)")
    ap.add_argument("--side", type=int, default=384, help="photo long side for evaluation")
    ap.add_argument("--json")
    ap.add_argument("--md")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--coverage", type=float, nargs="*", default=[],
                    help="also the residual mapping at these coverage fall-back strengths p0 (to choose it)")
    ap.add_argument("--narrow", action="store_true",
                    help="also every look with a NARROW photo as A (colours covering little of the cube)")
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        print(f"needs {SHARED}", file=sys.stderr)
        return 2
    look_paths = looks(args.split)
    if args.looks:
        look_paths = look_paths[:: max(1, len(look_paths) // args.looks)][: args.looks]
    photo_paths = photos(args.split)
    pics = [load_photo(p, args.side) for p in photo_paths]
    methods = {k: METHODS[k] for k in args.methods.split(",")}
    methods.update({f"residual p0={p0}": {"mapping": "residual", "coverage": p0} for p0 in args.coverage})
    narrow = [i for i, p in enumerate(pics) if is_narrow(p)]
    jobs = [(lp, None) for lp in look_paths]
    if args.narrow:
        jobs += [(lp, "narrow") for lp in look_paths if look_family(lp) != "bw"]
    rows = []
    fit_ms = {k: [] for k in methods}
    rng = np.random.default_rng(0)
    t0 = time.time()
    for li, (lp, tag) in enumerate(jobs):
        film = lf.read_lut(lp)
        ia, *ibs = rng.choice(len(pics), 4, replace=False)
        if tag == "narrow":
            ia = narrow[rng.integers(len(narrow))]
            ibs = [i for i in ibs if i != ia][:3]
        a = pics[ia]
        truths = [(pics[i], lf.render(pics[i], film)) for i in ibs]
        row = {"look": str(lp.relative_to(SHARED)), "family": tag or look_family(lp)}
        for name, kw in methods.items():
            if kw is None:
                row[name] = float(np.mean([delta_e00(b, fb) for b, fb in truths]))
                continue
            t = time.perf_counter()
            tpl = lf.render(a, film)
            look = kw(tpl, a) if callable(kw) else lf.fit_look(tpl, a, **kw)
            fit_ms[name].append((time.perf_counter() - t) * 1e3)
            row[name] = float(np.mean([delta_e00(look.apply(b), fb) for b, fb in truths]))
        rows.append(row)
        print(f"[{li + 1}/{len(jobs)}] {row['look']}: " + ", ".join(f"{k} {row[k]:.2f}" for k in methods),
              file=sys.stderr)
    summary = {}
    for fam in ["all"] + sorted({r["family"] for r in rows}):
        sel = [r for r in rows if (fam == "all" and r["family"] != "narrow") or r["family"] == fam]
        summary[fam] = {"looks": len(sel), **{k: float(np.mean([r[k] for r in sel])) for k in methods},
                        **{k + " worse than identity": int(sum(r[k] > r["identity"] for r in sel))
                           for k in methods if k != "identity"}}
    result = {
        "protocol": "fit on (A, F(A)) with the true original; mean CIEDE2000 of the look applied to 3 other photos "
                    f"vs F(B); photos at long side {args.side}",
        "split": args.split,
        "summary": summary,
        "fit_ms_median": {k: float(np.median(v)) for k, v in fit_ms.items() if v},
        "rows": rows,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "seconds": round(time.time() - t0, 1),
    }
    md = ["| looks | n | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
    for fam, s in summary.items():
        md.append(f"| {fam} | {s['looks']} | " + " | ".join(f"{s[k]:.2f}" for k in methods) + " |")
    write_results(result, "\n".join(md), args.json, args.md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
