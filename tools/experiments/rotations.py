"""Experiment (outside the tree): reading 1 averaged over the template's rotations / mirror (test-time augmentation
of the de-filter network), on the 80 validation looks of eval_candidates."""
import sys, json, warnings
sys.path.insert(0, "/work/main/tools")
import numpy as np
import eval_candidates as ec
import livefilter as lf
from livefilter.look.settings import FitSettings
from livefilter.luts.lut import Lut, identity_table
from _shared_data import SHARED, LabScorer, look_family

items, pics = ec._looks_and_photos("val", 0, 384)
rng = np.random.default_rng(0)
out = []
VARIANTS = {"r0": lambda x: x, "r90": lambda x: np.rot90(x, 1), "r180": lambda x: np.rot90(x, 2),
            "r270": lambda x: np.rot90(x, 3), "flip": lambda x: x[:, ::-1]}
for k, path in enumerate(items):
    ia, *ibs = (int(i) for i in rng.choice(len(pics), 4, replace=False))
    F = lf.read_lut(path)
    T = lf.render(pics[ia], F)
    scorer = LabScorer([lf.render(pics[i], F) for i in ibs], pixels=16000)
    folder = str(path.parent.relative_to(SHARED / "looks"))
    settings = FitSettings(candidates=1, library_exclude=(folder,))
    tables, weights = {}, {}
    for name, f in VARIANTS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            look = lf.fit_look(np.ascontiguousarray(f(T)), settings=settings, scene=False)
        tables[name] = look.lut.table
        weights[name] = look.meta["guess_weight"]
    inputs = [pics[i] for i in ibs]
    ident = identity_table(tables["r0"].shape[0])
    combos = {"r0": ["r0"], "r0+r180": ["r0", "r180"], "r0+flip": ["r0", "flip"], "rot4": ["r0", "r90", "r180", "r270"],
              "all5": list(VARIANTS), "r90": ["r90"]}
    scores = {"identity": scorer([*inputs])}
    for c, names in combos.items():
        mean = ident + np.mean([tables[n] - ident for n in names], axis=0)
        scores[c] = scorer.lut(Lut(np.clip(mean, 0, 1).astype(np.float32)), inputs)
        if c != "r0":
            for s in (1.15, 1.3):  # averaged looks are milder: taken further, as several photos are
                m = ident + s * np.mean([tables[n] - ident for n in names], axis=0)
                scores[f"{c}@{s}"] = scorer.lut(Lut(np.clip(m, 0, 1).astype(np.float32)), inputs)
    out.append({"look": str(path.relative_to(SHARED)), "family": look_family(path), "scores": scores, "w": weights})
    print(k, path.stem, " ".join(f"{n} {v - scores['identity']:+.2f}" for n, v in scores.items() if "@" not in n), flush=True)
    json.dump(out, open("/tmp/exp/rotations.json", "w"))
