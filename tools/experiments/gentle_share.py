"""Throw-away: the gentle reading's share (0.5 shipped) by the best-of-4 figure, training or validation templates."""
import sys, json, warnings, itertools
from pathlib import Path
import numpy as np
sys.path.insert(0, "/work/main/tools"); sys.path.insert(0, "/work/main")
from _shared_data import SHARED, LabScorer, load_photo, look_family, looks, photos
import eval_candidates as ec
import livefilter as lf
from livefilter.look import readings, library
from livefilter.look.settings import FitSettings, MAX_CANDIDATES

which, share, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
readings.gentle.__defaults__ = (share,)
items = [p for p in looks(which, kinds=("film", "creative")) if look_family(p) in ("color", "creative")]
pics = [load_photo(p, 384) for p in photos(which)]
rng = np.random.default_rng(0 if which == "val" else 1)
per = 60
orig_nb = library.LookLibrary.neighbours
state = {"photo": None}
def nb(self, rgb, k=80, sigma=0.35, exclude=None):
    if state["photo"] is None:
        return orig_nb(self, rgb, k, sigma, exclude)
    ex = np.zeros(len(self.names), bool) if exclude is None else np.asarray(exclude).copy()
    q = self.project(library.look_statistics(rgb))
    d = np.sqrt(np.maximum(((self.entries - q) ** 2).sum(1), 0.0)).astype(np.float64)
    d[ex[self.entry_look]] = np.inf
    e = state["photo"]; d[e * per:(e + 1) * per] = np.inf
    k = min(k, int(np.isfinite(d).sum())); idx = np.argpartition(d, k - 1)[:k]; idx = idx[np.lexsort((idx, d[idx]))]
    dist = d[idx]; s = max(sigma * float(np.median(dist)), 1e-9); w = np.exp(-0.5 * ((dist - dist[0]) / s) ** 2)
    return library.Neighbours(self.entry_look[idx], w / w.sum(), dist, float(np.median(d[np.isfinite(d)])))
library.LookLibrary.neighbours = nb
ref = readings.reference_colours()
rows = []
for k, path in enumerate(items):
    ia, *ibs = (int(i) for i in rng.choice(len(pics), 4, replace=False))
    state["photo"] = ia if which == "train" else None
    F = lf.read_lut(path); T = lf.render(pics[ia], F)
    scorer = LabScorer([lf.render(pics[i], F) for i in ibs], pixels=16000)
    folder = str(path.parent.relative_to(SHARED / "looks"))
    st = FitSettings(candidates=MAX_CANDIDATES, min_difference=0.0, library_exclude=(folder,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        look = lf.fit_look(T, settings=st)
    inputs = [pics[i] for i in ibs]
    scores = {"identity": scorer(inputs)}
    outs = {}
    for r in look.candidates:
        scores[r.kind] = scorer.lut(r.lut, inputs)
        outs[r.kind] = readings.srgb_to_lab(r.mapping(ref))
    outs["identity"] = readings.srgb_to_lab(ref)
    diffs = {f"{a}|{b}": float(readings.delta_e00(outs[a], outs[b]).mean()) for a, b in itertools.combinations(outs, 2)}
    rows.append({"look": str(path.relative_to(SHARED)), "family": look_family(path), "scores": scores, "diffs": diffs})
Path(out).write_text(json.dumps({"rows": rows}))
print(ec.table(ec.summarise(rows, 4, FitSettings().pool_order, 2.0), 4))
