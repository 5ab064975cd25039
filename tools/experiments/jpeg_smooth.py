"""Experiment (outside the tree): a JPEG template smoothed before the fit (its blocks and 4:2:0 chroma), reading 1
on the 80 validation looks of eval_candidates, templates saved as JPEG q75."""
import sys, json, warnings
sys.path.insert(0, "/work/main/tools")
import numpy as np, cv2
import eval_candidates as ec
import livefilter as lf
from livefilter.look.settings import FitSettings
from _shared_data import SHARED, LabScorer, look_family

side = int(sys.argv[1]) if len(sys.argv) > 1 else 384
q = int(sys.argv[2]) if len(sys.argv) > 2 else 75
items, pics = ec._looks_and_photos("val", 0, side)
rng = np.random.default_rng(0)

def chroma(rgb, s):
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    ycc[..., 1:] = cv2.GaussianBlur(ycc[..., 1:], (0, 0), s)
    return cv2.cvtColor(np.clip(ycc + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_YCrCb2RGB)

VARIANTS = {"none": lambda x: x, "gauss0.6": lambda x: cv2.GaussianBlur(x, (0, 0), 0.6),
            "gauss1.0": lambda x: cv2.GaussianBlur(x, (0, 0), 1.0), "chroma1.0": lambda x: chroma(x, 1.0),
            "chroma2.0": lambda x: chroma(x, 2.0), "bilateral": lambda x: cv2.bilateralFilter(x, 5, 12, 3)}
out = []
for k, path in enumerate(items):
    ia, *ibs = (int(i) for i in rng.choice(len(pics), 4, replace=False))
    F = lf.read_lut(path)
    T = ec.as_jpeg(lf.render(pics[ia], F), q) if q else lf.render(pics[ia], F)
    scorer = LabScorer([lf.render(pics[i], F) for i in ibs], pixels=16000)
    folder = str(path.parent.relative_to(SHARED / "looks"))
    settings = FitSettings(candidates=1, library_exclude=(folder,))
    inputs = [pics[i] for i in ibs]
    scores = {"identity": scorer([*inputs])}
    for name, f in VARIANTS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            look = lf.fit_look(np.ascontiguousarray(f(T)), settings=settings, scene=False)
        scores[name] = scorer.lut(look.lut, inputs)
    out.append({"look": str(path.relative_to(SHARED)), "family": look_family(path), "scores": scores})
    print(k, path.stem, " ".join(f"{n} {v - scores['identity']:+.2f}" for n, v in scores.items()), flush=True)
    json.dump(out, open(f"/tmp/exp/jpeg_smooth_{side}_{q}.json", "w"))
