"""Throw-away: each template's reading 1 scored at 11 kept weights (the network + look prior look, the capped library share
added). python score.py train|val ROWS.json; LIVEFILTER_MODELS picks the network (the held-out one on train)."""
import json, sys, warnings
from pathlib import Path
import numpy as np
sys.path.insert(0, "."); sys.path.insert(0, "./tools")
from _shared_data import SHARED, LabScorer, load_photo, look_family, looks, photos
import livefilter as lf
from livefilter.look.coverage import OffsetMapping
from livefilter.look.settings import MAX_CANDIDATES, FitSettings

split = sys.argv[1] if len(sys.argv) > 1 else "val"
out = sys.argv[2]
if split == "train":  # the looks the held-out network never saw: train_look_prior.regression_looks' complement
    film = [p for i, p in enumerate(looks("train")) if i % 3 == 0]
    creative = [p for i, p in enumerate(looks("train", kinds=("creative",))) if i % 2 == 0]
    items = [p for p in film + creative if look_family(p) in ("color", "creative")]
else:
    items = [p for p in looks(split, kinds=("film", "creative")) if look_family(p) in ("color", "creative")]
pics = [load_photo(p, 384) for p in photos(split)]
rng = np.random.default_rng(0)
WS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.2)
rows = []
for k, path in enumerate(items):
    ia, *ibs = (int(i) for i in rng.choice(len(pics), 4, replace=False))
    F = lf.read_lut(path)
    T = lf.render(pics[ia], F)
    sc = LabScorer([lf.render(pics[i], F) for i in ibs], pixels=16000)
    inputs = [pics[i] for i in ibs]
    folder = str(path.parent.relative_to(SHARED / "looks"))
    st = FitSettings(candidates=MAX_CANDIDATES, min_difference=0.0, library_exclude=(folder,), library_share=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        look = lf.fit_look(T, settings=st)
    by = {r.kind: r for r in look.candidates}
    from skimage.color import deltaE_ciede2000, rgb2lab
    def score(m):
        res = []
        for img, i, lab in zip(inputs, sc.idx, sc.labs):
            px = sc._take(img, i).reshape(-1, 3).astype(np.float64) / 255.0
            o = np.clip(np.asarray(m(px)) * 255.0 + 0.5, 0, 255).astype(np.uint8).reshape(-1, 1, 3)
            res.append(deltaE_ciede2000(rgb2lab(o), lab).mean())
        return float(np.mean(res))
    row = {"look": str(path.relative_to(SHARED)), "family": look_family(path), "identity": sc([*inputs])}
    conf = look.meta["confidence"]
    whole = by["whole"].mapping if "whole" in by else by["automatic"].mapping
    libm = by["library"].mapping if "library" in by else None
    def reading(w, cap=0.03, share=0.25):
        def m(x):
            out = x + w * (whole(x) - x)
            if libm is not None:
                add = share * (libm(x) - x)
                n = np.linalg.norm(add, axis=-1, keepdims=True)
                out = out + add * np.minimum(1.0, cap / np.maximum(n, 1e-12))
            return out
        return m
    row["ws"] = WS
    row["scores"] = [score(reading(w)) for w in WS]
    row["check"] = score(reading(conf.get("kept", 1.0)))
    row["conf"] = look.meta["confidence"]
    rows.append(row)
    print(k, path.stem, round(row["identity"], 2), round(row["check"], 2), flush=True)
    Path(out).write_text(json.dumps(rows))
