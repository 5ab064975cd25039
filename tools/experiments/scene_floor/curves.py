# The scene floor measurement (docs/decisions.md, "scene floor"): python curves.py val|train, then python replay.py sg2_val.json
"""Probe: per-photo score curves of each reading over strength, plus scene distance (for replaying floors)."""
import sys, json, warnings
import numpy as np
sys.path.insert(0, "/work/main/tools"); sys.path.insert(0, "/work/main")
from _shared_data import SHARED, LabScorer
import livefilter as lf
from livefilter.analysis.scene import default_model, feature_distance
from livefilter.look.settings import FitSettings
import eval_candidates as ec
from skimage.color import deltaE_ciede2000, rgb2lab

split = sys.argv[1]
T_GRID = np.round(np.arange(0.3, 1.0001, 0.05), 2)
items, pics = ec._looks_and_photos(split, 0, 384)
model = default_model()
rng = np.random.default_rng(0)
rows = []
for k, path in enumerate(items):
    ia, *ibs = (int(i) for i in rng.choice(len(pics), 4, replace=False))
    F = lf.read_lut(path)
    T = lf.render(pics[ia], F)
    folder = str(path.parent.relative_to(SHARED / "looks"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        look = lf.fit_look(T, settings=FitSettings(candidates=4, library_exclude=(folder,)))
    ft = model.describe(T)
    row = {"look": str(path.relative_to(SHARED)), "family": ec.look_family(path), "photos": []}
    for i in ibs:
        fb = model.describe(pics[i])
        sc = LabScorer([lf.render(pics[i], F)], pixels=16000)
        px = sc._take(pics[i], sc.idx[0]).reshape(-1, 3).astype(np.float64) / 255.0
        lab_t = sc.labs[0]
        def score(out):
            o = np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8).reshape(-1, 1, 3)
            return float(deltaE_ciede2000(rgb2lab(o), lab_t).mean())
        ph = {"same_top": ft.top == fb.top, "d": feature_distance(ft, fb), "identity": score(px), "readings": {}}
        for r in look.candidates:
            y = r.lut.apply_float(px)
            ph["readings"][r.kind] = [score(px + t * (y - px)) for t in T_GRID]
        row["photos"].append(ph)
    row["order"] = [r.kind for r in look.candidates]
    rows.append(row)
    if k % 10 == 0:
        print(k, path.stem, flush=True)
        json.dump({"t": T_GRID.tolist(), "rows": rows}, open(f"/tmp/probe/sg2_{split}.json", "w"))
json.dump({"t": T_GRID.tolist(), "rows": rows}, open(f"/tmp/probe/sg2_{split}.json", "w"))
print("done", flush=True)
