import json, sys, numpy as np
NEAR, FAR = 0.64, 0.73
D = json.load(open(sys.argv[1])); T = np.array(D["t"]); rows = D["rows"]
def s_of(ph, floor):
    if ph["same_top"]: return 1.0
    t = min(max((FAR - ph["d"]) / (FAR - NEAR), 0), 1)
    return floor + (1 - floor) * t
def at(curve, t):  # interpolate the score curve at strength t (linear in strength between grid points)
    return float(np.interp(t, T, curve)) if t < 1 else curve[-1]
def evaluate(strength_fn):
    ident, r1, best = [], [], []
    for r in rows:
        ident.append(np.mean([p["identity"] for p in r["photos"]]))
        per = {k: np.mean([at(p["readings"][k], strength_fn(p)) for p in r["photos"]]) for k in r["order"]}
        r1.append(per["automatic"]); best.append(min(per.values()))
    ident, r1, best = map(np.array, (ident, r1, best))
    ex = np.clip(r1 - ident, 0, None)
    return (f"r1 {r1.mean():.3f} worse {(r1 > ident).sum():3d} worst {(r1 - ident).max():+.2f} exc {ex.mean():.3f} "
            f"obj3 {r1.mean() + 3 * ex.mean():.3f} | best4 {best.mean():.3f} worse {(best > ident).sum():3d} worst {(best - ident).max():+.2f}")
print(len(rows), "looks; mean s at 0.4:", np.mean([s_of(p, 0.4) for r in rows for p in r["photos"]]),
      "same top share", np.mean([p["same_top"] for r in rows for p in r["photos"]]))
for f in (0.4, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 1.0):
    print(f"floor {f:.1f}  ", evaluate(lambda p: s_of(p, f)))
for u in (0.6, 0.865):
    print(f"uniform {u:.1f}", evaluate(lambda p: u))
