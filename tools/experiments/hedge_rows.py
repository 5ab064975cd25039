"""Throw-away: reading-1 scores at several strengths + fit-time features, on training or validation templates."""
import sys, json, warnings, itertools
from pathlib import Path
import numpy as np
sys.path.insert(0, "/work/main/tools"); sys.path.insert(0, "/work/main")
from _shared_data import SHARED, LabScorer, load_photo, look_family, looks, photos
import livefilter as lf
from livefilter.look import readings, library
from livefilter.look.settings import FitSettings

which = sys.argv[1]; out = sys.argv[2]; n = int(sys.argv[3]) if len(sys.argv) > 3 else 0
ALPHAS = [1.0, 0.85, 0.7, 0.55, 0.4, 0.25]
items = [p for p in looks(which, kinds=("film", "creative")) if look_family(p) in ("color", "creative")]
if n: items = items[:: max(1, len(items) // n)][:n]
ph = photos(which)
pics = [load_photo(p, 384) for p in ph]
rng = np.random.default_rng(0 if which == "val" else 1)
lib = library.default_library()
per = 60
orig_nb = library.LookLibrary.neighbours
state = {"photo": None}
if which == "train":
    tr = [p.name for p in photos("train")]
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
    st = FitSettings(candidates=7, min_difference=0.0, library_exclude=(folder,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        look = lf.fit_look(T, settings=st)
    inputs = [pics[i] for i in ibs]
    ident = scorer(inputs)
    byk = {r.kind: r for r in look.candidates}
    res = {"look": str(path.relative_to(SHARED)), "family": look_family(path), "identity": ident,
           "confidence": look.meta["confidence"], "lib_conf": byk.get("library").confidence if "library" in byk else None}
    for kind in ("automatic", "whole", "library"):
        r = byk.get(kind)
        if r is None: continue
        fx = []
        for img, i in zip(inputs, scorer.idx):
            px = scorer._take(img, i).reshape(-1, 3).astype(np.float64) / 255.0
            fx.append((px, np.asarray(r.mapping(px), np.float64)))
        sc = []
        for a in ALPHAS:
            preds = [np.clip((x + a * (y - x)) * 255 + 0.5, 0, 255).astype(np.uint8).reshape(-1, 1, 3) for x, y in fx]
            from skimage.color import rgb2lab, deltaE_ciede2000
            sc.append(float(np.mean([deltaE_ciede2000(rgb2lab(p), lab).mean() for p, lab in zip(preds, scorer.labs)])))
        res[kind] = sc
    outs = {kk: readings.srgb_to_lab(r.mapping(ref)) for kk, r in byk.items()}
    outs["identity"] = readings.srgb_to_lab(ref)
    res["diffs"] = {f"{a}|{b}": float(readings.delta_e00(outs[a], outs[b]).mean()) for a, b in itertools.combinations(outs, 2)}
    res["stats"] = lib.project(library.look_statistics(T)).tolist()
    rows.append(res)
    print(f"[{k+1}/{len(items)}] {path.stem} {ident:.2f} {res['automatic'][0]-ident:+.2f}", file=sys.stderr, flush=True)
    if k % 10 == 9 or k == len(items) - 1:
        Path(out).write_text(json.dumps({"alphas": ALPHAS, "rows": rows}))
