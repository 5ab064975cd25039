"""Throw-away: reading 1 with a per-colour consensus between the network's hedged look and the library's reading."""
import sys, json, warnings
from pathlib import Path
import numpy as np
sys.path.insert(0, "/work/main/tools"); sys.path.insert(0, "/work/main")
from _shared_data import SHARED, LabScorer, load_photo, look_family, looks, photos
import livefilter as lf
from livefilter.look import readings, library, fit as fitmod
from livefilter.look.look import bake
from livefilter.look.settings import FitSettings

which = sys.argv[1]; out = sys.argv[2]; n = int(sys.argv[3]) if len(sys.argv) > 3 else 0
items = [p for p in looks(which, kinds=("film", "creative")) if look_family(p) in ("color", "creative")]
if n: items = items[:: max(1, len(items) // n)][:n]
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
# capture the hedged look and the library reading from inside the fit
cap = {}
orig_rop = readings.read_one_photo
def rop(rgb, hedged, kept, conf, settings, **kw):
    cap["hedged"] = hedged
    return orig_rop(rgb, hedged, kept, conf, settings, **kw)
fitmod.read_one_photo = rop

class Cons:
    def __init__(self, h, L, s, share, mode):
        self.h, self.L, self.s, self.share, self.mode = h, L, s, share, mode
    def __call__(self, x):
        x = np.asarray(x, np.float64)
        dh = np.asarray(self.h(x), np.float64) - x
        dl = np.asarray(self.L(x), np.float64) - x
        if self.mode == "sign":
            agree = np.sign(dh) == np.sign(dl)
            d = np.where(agree, dh, self.s * dh)
        elif self.mode == "cap":  # the network's change no larger than the library's + s
            m = np.abs(dl) + self.s
            d = np.clip(dh, -m, m)
        elif self.mode == "vec":  # per colour: shrink by the cosine between the two changes
            c = (dh * dl).sum(-1, keepdims=True) / np.maximum(np.linalg.norm(dh, axis=-1, keepdims=True) * np.linalg.norm(dl, axis=-1, keepdims=True), 1e-9)
            d = dh * np.where(c > 0, 1.0, self.s)
        return x + d + self.share * dl

VARIANTS = [("sign", 0.5), ("sign", 0.0), ("cap", 0.02), ("cap", 0.05), ("vec", 0.5), ("vec", 0.0)]
rows = []
for k, path in enumerate(items):
    ia, *ibs = (int(i) for i in rng.choice(len(pics), 4, replace=False))
    state["photo"] = ia if which == "train" else None
    F = lf.read_lut(path); T = lf.render(pics[ia], F)
    scorer = LabScorer([lf.render(pics[i], F) for i in ibs], pixels=16000)
    folder = str(path.parent.relative_to(SHARED / "looks"))
    st = FitSettings(candidates=8, min_difference=0.0, library_exclude=(folder,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        look = lf.fit_look(T, settings=st)
    inputs = [pics[i] for i in ibs]
    byk = {r.kind: r for r in look.candidates}
    res = {"look": str(path.relative_to(SHARED)), "family": look_family(path), "identity": scorer(inputs),
           "automatic": scorer.lut(byk["automatic"].lut, inputs)}
    L = byk.get("library")
    if L is not None and look.meta["original"] != "monochrome path":
        for mode, s in VARIANTS:
            for share in (0.25,):
                res[f"{mode}{s}_{share}"] = scorer.lut(bake(Cons(cap["hedged"], L.mapping, s, share, mode), 33), inputs)
    rows.append(res)
    print(f"[{k+1}/{len(items)}] {path.stem} {res['identity']:.2f} {res['automatic']-res['identity']:+.2f}", file=sys.stderr, flush=True)
    if k % 10 == 9 or k == len(items) - 1:
        Path(out).write_text(json.dumps({"rows": rows}))
