"""Experiment: the guess's stability under extra looks on the template (not product code)."""
import json, sys, warnings
import numpy as np
sys.path.insert(0, "/work/main/tools"); sys.path.insert(0, "/work/main")
from _shared_data import SHARED, load_photo, look_family, looks, photos
import livefilter as lf
from livefilter.look.defilter import defilter
from skimage.color import rgb2lab, deltaE_ciede2000
rows = {r["look"]: r for r in json.loads(open("/tmp/sim/val6.json").read())}
items = [p for p in looks("val", kinds=("film", "creative")) if look_family(p) in ("color", "creative")]
pics = [load_photo(p, 384) for p in photos("val")]
simpool = [p for p in looks("train", kinds=("film", "creative")) if look_family(p) in ("color", "creative")]
rng = np.random.default_rng(0); srng = np.random.default_rng(1)
sl = [lf.read_lut(simpool[i]) for i in srng.choice(len(simpool), 8, replace=False)]
out = []
for path in items:
    ia, *ibs = (int(i) for i in rng.choice(len(pics), 4, replace=False))
    T = lf.render(pics[ia], lf.read_lut(path))
    small, G = defilter(T)
    gl = rgb2lab(G); tl = rgb2lab(small)
    rho, gd = [], []
    for L in sl:
        Ti = lf.render(small, L)
        _, Gi = defilter(Ti)
        d = deltaE_ciede2000(rgb2lab(Gi), gl).mean(); n = deltaE_ciede2000(rgb2lab(Ti), tl).mean()
        rho.append(d / n)
    r = rows[str(path.relative_to(SHARED))]
    out.append((np.mean(rho), np.max(rho), r["r1"]["1.0"] - r["identity"], r["kept"]))
a = np.array(out)
print("corr mean rho", np.corrcoef(a[:, 0], a[:, 2])[0, 1], "max rho", np.corrcoef(a[:, 1], a[:, 2])[0, 1])
# partial: residual of excess after kept
res = a[:, 2] - np.polyval(np.polyfit(a[:, 3], a[:, 2], 1), a[:, 3])
print("corr with residual after kept", np.corrcoef(a[:, 0], res)[0, 1], np.corrcoef(a[:, 1], res)[0, 1])

print("median rho", np.median(a[:, 0]))
np.save("/tmp/sim/equi.npy", a)
order = np.argsort(a[:, 1])
for i in order: print(f"{a[i,1]:.3f} {a[i,0]:.3f} exc {a[i,2]:+.2f} kept {a[i,3]:.2f}")
