"""Throw-away: the kept-weight rule of the network + look prior look, searched on templates the held-out network
never saw (rows from score.py), scored on validation. python analyse.py TRAIN_ROWS VAL_ROWS VAL_HELDOUT_ROWS"""
import json
import sys

import numpy as np


def load(f):
    rows = json.load(open(f))
    fl = lambda v: np.nan if v is None else float(v)  # noqa: E731
    ident = np.array([r["identity"] for r in rows])
    S = np.array([r["scores"] for r in rows])
    g = np.array([fl(r["conf"].get("guess_change")) for r in rows])
    p = np.array([fl(r["conf"].get("prior_change")) for r in rows])
    kept = np.array([r["conf"]["kept"] for r in rows])
    return ident, np.array(rows[0]["ws"]), S, g, p, kept


def drop_monochrome(d):  # rows without changes (the monochrome path): no rule touches them
    ok = np.isfinite(d[3])
    return tuple(x[ok] if x.ndim and len(x) == len(ok) else x for x in d)


feats = {"mean(g,p)": lambda g, p: (g + p) / 2, "g": lambda g, p: g, "min(g,p)": lambda g, p: np.minimum(g, p),
         "p": lambda g, p: p, "min(g,mean)": lambda g, p: np.minimum(g, (g + p) / 2)}


def w_of(d, f, a, b, cap=1.0):
    ident, WS, S, g, p, kept = d
    ok = np.isfinite(g) & np.isfinite(p)
    return np.where(ok, np.clip(a + b * np.nan_to_num(f(g, p)), 0, cap), kept)


def st(d, f, a, b, cap=1.0):
    sc = np.array([np.interp(wi, d[1], s) for wi, s in zip(w_of(d, f, a, b, cap), d[2])])
    ex = sc - d[0]
    return sc.mean(), int((ex > 0).sum()), ex.max(), np.clip(ex, 0, None).sum()


tr, va, vh = drop_monochrome(load(sys.argv[1])), load(sys.argv[2]), load(sys.argv[3])
F = "train %.3f %2d %+.2f ex %.1f | val %.3f %2d %+.2f ex %.1f | val, held-out network %.3f %2d %+.2f ex %.1f"
m0 = st(tr, feats["mean(g,p)"], .2, .02)[0]
print("shipped (0.2, 0.02) mean(g,p):", F % (*st(tr, feats["mean(g,p)"], .2, .02), *st(va, feats["mean(g,p)"], .2, .02),
                                           *st(vh, feats["mean(g,p)"], .2, .02)))
for lam in (3, 10, 30):  # objective mean + lam * mean excess
    for name, f in feats.items():
        best = min(((s[0] + lam * s[3] / len(tr[0]), a, b, s) for a in np.arange(0, .61, .025)
                    for b in np.arange(0, .0601, .0025) for s in [st(tr, f, a, b)]), key=lambda r: r[0])
        print(f"lam {lam:2d} {name:11s} a {best[1]:.3f} b {best[2]:.4f}", F % (*best[3], *st(va, f, best[1], best[2]),
                                                                      *st(vh, f, best[1], best[2])))
for cap in (1.0, 0.8, 0.6):  # the least training excess at a training mean no worse than the shipped rule's
    for name, f in feats.items():
        ok = [(s[3], s[0], a, b, s) for a in np.arange(0, .61, .0125) for b in np.arange(0, .0601, .00125)
              for s in [st(tr, f, a, b, cap)] if s[0] <= m0]
        if ok:
            _, _, a, b, s = min(ok, key=lambda r: (r[0], r[1]))
            print(f"cap {cap:.1f} {name:11s} a {a:.4f} b {b:.5f}", F % (*s, *st(va, f, a, b, cap), *st(vh, f, a, b, cap)))
