import sys, json, numpy as np
sys.path.insert(0, "/work/main/tools"); sys.path.insert(0, "/work/main")
from _shared_data import LabScorer
import livefilter as lf
from livefilter.analysis.scene import default_model, feature_distance, curve
import eval_candidates as ec
from skimage.color import deltaE_ciede2000, rgb2lab
items, pics = ec._looks_and_photos("val", 0, 384)
model = default_model(); rng = np.random.default_rng(0)
res = {f: [] for f in (0.4, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 1.0)}
ss = {f: [] for f in res}
for path in items:
    ia, *ibs = (int(i) for i in rng.choice(len(pics), 4, replace=False))
    F = lf.read_lut(path); T = lf.render(pics[ia], F); ft = model.describe(T)
    for i in ibs:
        fb = model.describe(pics[i]); d = feature_distance(ft, fb)
        sc = LabScorer([lf.render(pics[i], F)], pixels=16000)
        px = sc._take(pics[i], sc.idx[0]).reshape(-1, 3).astype(np.float64) / 255.0
        y = F.apply_float(px) if hasattr(F, "apply_float") else None
        for f in res:
            s = 1.0 if ft.top == fb.top else curve(d, floor=f)
            o = np.clip((px + s * (y - px)) * 255 + 0.5, 0, 255).astype(np.uint8).reshape(-1, 1, 3)
            res[f].append(float(deltaE_ciede2000(rgb2lab(o), sc.labs[0]).mean())); ss[f].append(s)
for f in res:
    print(f, "exact look gated: %.2f dE00, mean s %.3f" % (np.mean(res[f]), np.mean(ss[f])))
