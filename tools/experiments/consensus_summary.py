import json, sys, numpy as np
rows = json.load(open(sys.argv[1]))["rows"]
keys = [k for k in rows[0] if k not in ("look", "family", "identity")]
keys = sorted({k for r in rows for k in r if k not in ("look", "family", "identity")}, key=lambda k: (k != "automatic", k))
for k in keys:
    sel = [r for r in rows if k in r]
    i = np.array([r["identity"] for r in sel]); a = np.array([r["automatic"] for r in sel]); v = np.array([r[k] for r in sel])
    print(f"{k:16s} n={len(sel)} mean {v.mean():.3f} (auto {a.mean():.3f}) d {np.mean(v-a):+.3f} worse {(v>i).sum()} (auto {(a>i).sum()}) worst {np.max(v-i):+.2f} (auto {np.max(a-i):+.2f})")
