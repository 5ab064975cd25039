"""The quality benchmark: does livefilter learn a look from ONE photo?

For each look F (validation film and creative looks from ../shared/data, held-out synthetic looks, film-like and
creative), template = F(A) for a photo A; truth = F(B) for 3 other photos B. The "narrow" family repeats every
colour film look and every creative look with a NARROW validation photo as A (colours covering little of the cube:
night, one dominant colour, low or high key). Our prediction = the look fitted from the template ALONE (de-filter
network -> mapping), applied to B. Score: mean CIEDE2000 (sRGB -> Lab, skimage) and PSNR against F(B).
Baselines in the same run: identity (B unchanged), Reinhard Lab mean/std transfer, MKL and histogram matching
(color-matcher), and the oracle (the seed's mapping fitted with the TRUE original A: the ceiling when
de-filtering is perfect), and ours without the coverage fall-back. Per family: how many looks ours makes worse
than doing nothing and the worst excess. Also the de-filter PSNR against the true original (and the template's own
PSNR, the "do nothing" guess).

    python tools/eval_looks.py [--looks N] [--synthetic 30] [--json out.json] [--md out.md]
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import time
import warnings
from pathlib import Path

import cv2
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
    psnr,
    write_results,
)
from synth_looks import random_look  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.analysis.border import inside  # noqa: E402
from livefilter.look import FitSettings  # noqa: E402

SYNTH_SEED = 8_000_000  # held out: training draws from 10,000,000 up, its validation pool from 9,000,000
SYNTH_CREATIVE_SEED = 8_500_000


def _mean(values):
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def reinhard(src: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Reinhard et al. colour transfer: match per-channel mean and std in Lab."""
    s = cv2.cvtColor(src.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    r = cv2.cvtColor(ref.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    out = (s - s.mean((0, 1))) / (s.std((0, 1)) + 1e-6) * r.std((0, 1)) + r.mean((0, 1))
    rgb = cv2.cvtColor(out.astype(np.float32), cv2.COLOR_Lab2RGB)
    return np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)


def color_matcher(method: str):
    from color_matcher import ColorMatcher

    def run(src, ref):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = ColorMatcher().transfer(src=src.astype(np.float64) / 255, ref=ref.astype(np.float64) / 255,
                                          method=method)
        return np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)

    return run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--looks", type=int, default=0, help="use only N of the validation film looks (0 = all)")
    ap.add_argument("--synthetic", type=int, default=30, help="held-out synthetic looks")
    ap.add_argument("--side", type=int, default=384)
    ap.add_argument("--json")
    ap.add_argument("--md")
    ap.add_argument("--synthetic-creative", type=int, default=30, help="held-out creative synthetic looks")
    ap.add_argument("--no-narrow", action="store_true", help="skip the narrow-template family")
    ap.add_argument("--shard", default="0/1", help="K/N: measure only every N-th item from the K-th (same draws), "
                    "to run N processes in parallel; combine their --json files with --merge")
    ap.add_argument("--model", help="another de-filter model (default: the shipped one)")
    ap.add_argument("--rule", type=float, nargs=2, metavar=("A", "B"),
                    help="the kept-weight rule w = clip(A + B d, 0, 1) that goes with --model")
    ap.add_argument("--no-baselines", action="store_true", help="skip Reinhard, MKL and histogram matching (slow)")
    ap.add_argument("--merge", nargs="+", help="summarise the rows of these shard --json files instead of measuring")
    args = ap.parse_args(argv)
    shard, n_shards = (int(v) for v in args.shard.split("/"))
    settings = FitSettings(candidates=1)  # the automatic reading: what this benchmark scores
    if args.model:  # settings of another model, to compare (not the product's defaults)
        from livefilter.look import defilter

        defilter.MODEL_PATH = Path(args.model)
        if args.rule:
            settings = FitSettings(candidates=1, guess_weight_rule=tuple(args.rule))
    if not SHARED.is_dir():
        print(f"needs {SHARED}", file=sys.stderr)
        return 2
    real = looks("val", kinds=("film", "creative"))
    if args.looks:
        real = real[:: max(1, len(real) // args.looks)][: args.looks]
    items = [(str(p.relative_to(SHARED)), look_family(p), lf.read_lut(p)) for p in real]
    items += [(f"synthetic {SYNTH_SEED + i}", "synthetic", random_look(SYNTH_SEED + i)[0])
              for i in range(args.synthetic)]
    items += [(f"synthetic creative {SYNTH_CREATIVE_SEED + i}", "synthetic creative",
               random_look(SYNTH_CREATIVE_SEED + i, creative=True)[0]) for i in range(args.synthetic_creative)]
    if not args.no_narrow:
        items += [(name, "narrow", F) for name, fam, F in items if fam in ("color", "creative")]
    pics = [load_photo(p, args.side) for p in photos("val")]
    narrow = [i for i, p in enumerate(pics) if is_narrow(p)]
    baselines = {} if args.no_baselines else {"reinhard": reinhard, "mkl": color_matcher("mkl"),
                                              "histogram": color_matcher("hm")}
    rng = np.random.default_rng(0)
    rows = []
    t0 = time.time()
    for k, (name, family, F) in enumerate(items):
        ia, *ibs = rng.choice(len(pics), 4, replace=False)
        if family == "narrow":
            ia = narrow[rng.integers(len(narrow))]
            ibs = [i for i in ibs if i != ia][:3]
        if args.merge or k % n_shards != shard:
            continue
        A = pics[ia]
        T = lf.render(A, F)
        truths = [(pics[i], lf.render(pics[i], F)) for i in ibs]
        # the look library searched without the look's own folder (film maker, author): as for an unseen look
        folder = str(Path(name).parent.relative_to("looks")) if name.startswith("looks/") else None
        held_out = dataclasses.replace(settings, library_exclude=(folder,)) if folder else settings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = lf.fit_look(T, settings=held_out)
            ours_nocov = lf.fit_look(T, coverage=0.0, settings=held_out)
            oracle = lf.fit_look(T, A, mapping="seed", coverage=0.0)
        preds = {
            "identity": lambda b: b,
            "ours": ours.apply,
            "ours, no coverage fall-back": ours_nocov.apply,
            "oracle (seed, true original)": oracle.apply,
            **{n: (lambda b, f=f, t=T: f(b, t)) for n, f in baselines.items()},
        }
        row = {"look": name, "family": family, "index": k}
        for m, fn in preds.items():
            outs = [fn(b) for b, _ in truths]
            row[m] = float(np.mean([delta_e00(o, fb) for o, (_, fb) in zip(outs, truths)]))
            row[m + " psnr"] = float(np.mean([psnr(o, fb) for o, (_, fb) in zip(outs, truths)]))
        row["path"] = ours.meta["original"]
        g = ours.defiltered  # None on the monochrome path: no guess is made there
        if g is not None:
            if "border" in ours.meta:  # the guess is of the picture inside the template's border
                A, T = (inside(x, tuple(ours.meta["border"].values())) for x in (A, T))
            a_small = cv2.resize(A, g.shape[1::-1], interpolation=cv2.INTER_AREA)
            t_small = cv2.resize(T, g.shape[1::-1], interpolation=cv2.INTER_AREA)
            row["defilter psnr"] = psnr(g, a_small)
            row["template psnr"] = psnr(t_small, a_small)
        rows.append(row)
        print(f"[{k + 1}/{len(items)}] {name}: identity {row['identity']:.2f} ours {row['ours']:.2f} "
              f"oracle {row['oracle (seed, true original)']:.2f}", file=sys.stderr)
    if args.merge:
        import json

        shards = [json.loads(Path(f).read_text()) for f in args.merge]
        rows = sorted((r for sh in shards for r in sh["rows"]), key=lambda r: r["index"])
        t0 = time.time() - sum(sh["seconds"] for sh in shards)  # the shards' measuring time, not the merge's
    methods = ["identity", "ours", "ours, no coverage fall-back", "oracle (seed, true original)", *baselines]
    film_fams = ("bw", "color", "picturefx")
    summary = {}
    for fam in ["all", "film (all)"] + sorted({r["family"] for r in rows}):
        if fam == "all":
            sel = rows
        elif fam == "film (all)":
            sel = [r for r in rows if r["family"] in film_fams]
        else:
            sel = [r for r in rows if r["family"] == fam]
        if not sel:
            continue
        summary[fam] = {"looks": len(sel), **{m: float(np.mean([r[m] for r in sel])) for m in methods},
                        **{m + " psnr": float(np.mean([r[m + " psnr"] for r in sel])) for m in methods},
                        "defilter psnr": _mean([r.get("defilter psnr") for r in sel]),
                        "template psnr": _mean([r.get("template psnr") for r in sel]),
                        "monochrome path": int(sum(r["path"] == "monochrome path" for r in sel)),
                        "ours better than identity": int(sum(r["ours"] < r["identity"] for r in sel)),
                        "ours worse than identity": int(sum(r["ours"] > r["identity"] for r in sel)),
                        "worst excess": float(max(r["ours"] - r["identity"] for r in sel))}
    md = ["| looks | n | " + " | ".join(methods) + " | ours worse than identity | worst excess | "
          "de-filter PSNR (template PSNR) dB |", "|---|---|" + "---|" * (len(methods) + 3)]
    for fam, s in summary.items():
        ps = "-" if s["defilter psnr"] is None else f"{s['defilter psnr']:.2f} ({s['template psnr']:.2f})"
        md.append(f"| {fam} | {s['looks']} | " + " | ".join(f"{s[m]:.2f}" for m in methods)
                  + f" | {s['ours worse than identity']}/{s['looks']} | {s['worst excess']:+.2f} | {ps} |")
    result = {"protocol": __doc__.split("\n\n")[1], "summary": summary, "rows": rows, "seconds": time.time() - t0,
              "machine": {"python": platform.python_version(), "platform": platform.platform()}}
    write_results(result, "\n".join(md), args.json, args.md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
