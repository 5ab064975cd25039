"""Experiment (training data only): a statistical prior de-filter against the network's guess.

The guess of the original made by moving the template's statistics toward those of natural (training) photos:
per-luma-band mean chroma (casts, split toning), mean chroma (saturation) and luma percentiles (fades, contrast),
each by a fraction. Variants are scored on tune_oneshot's templates with its protocol (seed quartic from guess to
template, coverage p0 0.3, kept weight w).

    python tools/experiments/prior_exp.py --shard K/N --json OUT.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

_TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_TOOLS.parent))
sys.path.insert(0, str(_TOOLS))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared_data import LabScorer, load_photo, photos  # noqa: E402
from tune_oneshot import _lut, draws  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.look import bake, coverage_of, fit_mappings, pairing_for, pixel_pairs  # noqa: E402
from livefilter.look import monochrome as mono  # noqa: E402
from livefilter.look.coverage import blend_table  # noqa: E402
from livefilter.look.defilter import at_preset_size, guess_change  # noqa: E402
from livefilter.look.fit import Pairing  # noqa: E402
from livefilter.look.sampling import WORK_SIDE, downscale  # noqa: E402

BANDS = np.array([8.0, 25.0, 45.0, 65.0, 85.0])
SIG = 12.0
PCT = np.array([1.0, 10.0, 50.0, 90.0, 99.0])


def to_lab(rgb):
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB).reshape(-1, 3)


def to_rgb(lab, shape):
    out = cv2.cvtColor(lab.reshape(shape).astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def band_weights(L):
    w = np.exp(-((L[:, None] - BANDS[None]) ** 2) / (2 * SIG**2))
    return w / np.maximum(w.sum(1, keepdims=True), 1e-9)


def stats(lab):
    L, a, b = lab.T
    w = band_weights(L)
    ws = w.sum(0)
    am = (w * a[:, None]).sum(0) / np.maximum(ws, 1e-9)
    bm = (w * b[:, None]).sum(0) / np.maximum(ws, 1e-9)
    return {"wsum": ws / len(L), "a": am, "b": bm, "C": float(np.hypot(a, b).mean()), "Lp": np.percentile(L, PCT)}


def make_prior(pics):
    ss = [stats(to_lab(at_preset_size(p))) for p in pics]
    W = np.array([s["wsum"] for s in ss])
    prior = {"a": (W * np.array([s["a"] for s in ss])).sum(0) / W.sum(0),
             "b": (W * np.array([s["b"] for s in ss])).sum(0) / W.sum(0),
             "C": float(np.median([s["C"] for s in ss])),
             "Lp": np.median(np.array([s["Lp"] for s in ss]), 0)}
    return prior


def prior_guess(small, P, alpha, beta, gamma):
    lab = to_lab(small)
    s = stats(lab)
    L, a, b = lab.T.copy()
    w = band_weights(L)
    # a band the template barely shows gets a shrunk estimate (toward no cast change)
    conf = s["wsum"] / (s["wsum"] + 0.05)
    da = conf * (s["a"] - P["a"])
    db = conf * (s["b"] - P["b"])
    a = a - alpha * (w @ da)
    b = b - alpha * (w @ db)
    if gamma:
        C = float(np.hypot(a, b).mean())
        k = float(np.clip((P["C"] / max(C, 1e-3)) ** gamma, 0.5, 2.0))
        a, b = a * k, b * k
    if beta:
        src = s["Lp"]
        dst = src + beta * (P["Lp"] - src)
        dst = np.maximum.accumulate(dst + np.arange(len(dst)) * 1e-3)
        L2 = np.interp(L, src, dst)
        lo = (dst[1] - dst[0]) / max(src[1] - src[0], 1e-3)
        hi = (dst[-1] - dst[-2]) / max(src[-1] - src[-2], 1e-3)
        L2 = np.where(L < src[0], dst[0] + (L - src[0]) * lo, L2)
        L2 = np.where(L > src[-1], dst[-1] + (L - src[-1]) * hi, L2)
        L = np.clip(L2, 0, 100)
    return to_rgb(np.stack([L, a, b], 1), small.shape)


VARIANTS = [(a, b, g) for a in (0.3, 0.6, 0.9) for b in (0.0, 0.3) for g in (0.0, 0.5)]
WEIGHTS = (1.0, 0.75, 0.5, 0.25, 0.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", type=int, default=30)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--shard", default="0/1")
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    pics = [load_photo(p, 384) for p in photos("train")]
    P = make_prior(pics)
    print({k: np.round(v, 2).tolist() if isinstance(v, np.ndarray) else round(v, 2) for k, v in P.items()},
          file=sys.stderr)
    rows = []
    si, sn = map(int, args.shard.split("/"))
    for k, n, name, family, item, ia, ibs in draws(pics, args.synthetic, args.limit):
        if k % sn != si:
            continue
        F = _lut(item)
        T = lf.render(pics[ia], F)
        bs = [pics[i] for i in ibs]
        scorer = LabScorer([lf.render(pics[i], F) for i in ibs], pixels=16384)
        row = {"look": name, "family": family, "identity": scorer(bs), "mono stat": mono.monochrome_residual(T)}
        if row["mono stat"] < mono.MONO_TOL:
            mpair = Pairing(downscale(T, WORK_SIDE), None, "monochrome")
            mglob, _ = fit_mappings(pixel_pairs(mpair), "residual")
            row["mono"] = scorer.lut(bake(mglob), bs)
            rows.append(row)
            continue
        tpl = lf.look.load_template(T)
        p = pairing_for(tpl, monochrome=False)
        guesses = {"net": p.original}
        truth = at_preset_size(pics[ia])
        for v in VARIANTS:
            if v[0] == 0.6:
                guesses[f"prior {v}"] = prior_guess(p.template, P, *v)
            guesses[f"prior(net) {v}"] = prior_guess(p.original, P, *v)
        guesses["truth"] = truth
        for key, g in guesses.items():
            q = Pairing(p.template, g, "network", None, change=guess_change(p.template, g))
            pairs = pixel_pairs(q)
            glob, _ = fit_mappings(pairs, "seed")
            cov = coverage_of(q, pairs)
            table = bake(glob).table
            row[key] = {"d": q.change, "psnr": float(10 * np.log10(255**2 / max(1e-9, np.mean(
                (g.astype(float) - truth.astype(float)) ** 2)))),
                "s": [scorer.lut(lf.Lut(blend_table(table, cov, 0.3, w)), bs) for w in WEIGHTS]}
        rows.append(row)
        print(f"[{k + 1}/{n}] {name} ({family}): id {row['identity']:.2f} "
              f"net {min(row['net']['s']):.2f} pn {min(min(row[f'prior(net) {v}']['s']) for v in VARIANTS):.2f} "
              f"truth {min(row['truth']['s']):.2f}", file=sys.stderr, flush=True)
        if k % 10 == 0:
            Path(args.json).write_text(json.dumps(rows))
    Path(args.json).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
