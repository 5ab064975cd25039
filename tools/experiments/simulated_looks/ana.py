import json, sys, numpy as np
rows = json.loads(open(sys.argv[1]).read())
STR = ["1.0", "0.85", "0.7", "0.55", "0.4", "0.25"]
ident = np.array([r["identity"] for r in rows]); r1 = np.array([r["r1"]["1.0"] for r in rows])
print("r1 mean", r1.mean().round(3), "worse", int((r1 > ident).sum()), "worst", (r1 - ident).max().round(2))
has = np.array([bool(r["sims"]) for r in rows])
def feat(r, f):
    s = r["sims"]
    if not s: return np.nan
    e = np.array([x["e"] for x in s]); n = np.array([x["n"] for x in s]); a = np.array([x["alpha"] for x in s])
    return {"excess": np.mean(e - n), "ratio": np.mean(e / n), "alpha": np.median(a), "amin": a.min(), "amean": a.mean(),
            "ratio_max": np.max(e / n), "kept": r["kept"], "cov": r["coverage"]}[f]
exc = r1 - ident
for f in ["excess", "ratio", "alpha", "amin", "amean", "ratio_max", "kept", "cov"]:
    v = np.array([feat(r, f) for r in rows]); m = ~np.isnan(v)
    print(f, "corr with r1 excess", np.corrcoef(v[m], exc[m])[0, 1].round(3), "corr with rel", np.corrcoef(v[m], (exc / ident)[m])[0, 1].round(3))
# oracle strength
sc = np.array([[r["r1"][s] for s in STR] for r in rows])
print("oracle", sc.min(1).mean().round(3), int((sc.min(1) > ident).sum()))
for f in ["alpha", "amin", "ratio", "ratio_max"]:
    v = np.array([feat(r, f) for r in rows])
    for thr in np.nanpercentile(v, [5, 10, 20, 30, 50, 70, 80, 90, 95]):
        for j, s in enumerate(STR[1:], 1):
            sel = (v < thr) if f.startswith("a") else (v > thr)
            sel &= ~np.isnan(v)
            y = np.where(sel, sc[:, j], sc[:, 0])
            print(f"{f} {'<' if f.startswith('a') else '>'} {thr:.2f} -> {s}: {y.mean():.3f} worse {int((y > ident).sum())} worst {(y - ident).max():+.2f} obj {y.mean() + 3 * np.clip(y - ident, 0, None).mean():.3f}")
