"""Experiment: per-template self-calibration by simulated looks (not product code)."""
import json, sys, time, warnings
from pathlib import Path
import numpy as np
sys.path.insert(0, "/work/main/tools"); sys.path.insert(0, "/work/main")
from _shared_data import SHARED, LabScorer, load_photo, look_family, looks, photos
import livefilter as lf
from livefilter.look.settings import FitSettings
from skimage.color import rgb2lab, deltaE_ciede2000

split = sys.argv[1]; nsim = int(sys.argv[2]); out = sys.argv[3]
STR = [1.0, 0.85, 0.7, 0.55, 0.4, 0.25]
items = [p for p in looks(split, kinds=("film", "creative")) if look_family(p) in ("color", "creative")]
pics = [load_photo(p, 384) for p in photos(split)]
simpool = [p for p in looks("train", kinds=("film", "creative")) if look_family(p) in ("color", "creative")]
simluts = {}
rng = np.random.default_rng(0)
srng = np.random.default_rng(1)
rows = []
done = {}
if Path(out).exists():
    done = {r["look"]: r for r in json.loads(Path(out).read_text())}
t0 = time.time()
for k, path in enumerate(items):
    ia, *ibs = (int(i) for i in rng.choice(len(pics), 4, replace=False))
    sims = [int(i) for i in srng.choice(len(simpool), nsim + 4, replace=False)]
    key = str(path.relative_to(SHARED))
    if key in done:
        rows.append(done[key]); continue
    folder = str(path.parent.relative_to(SHARED / "looks"))
    F = lf.read_lut(path)
    T = lf.render(pics[ia], F)
    inputs = [pics[i] for i in ibs]
    scorer = LabScorer([lf.render(x, F) for x in inputs], pixels=16000)
    st = FitSettings(candidates=1, library_exclude=(folder,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        look = lf.fit_look(T, settings=st)
    G = look.defiltered
    row = {"look": key, "family": look_family(path), "identity": scorer(inputs),
           "r1": {str(s): scorer.lut(look.lut, inputs, [s] * 3) for s in STR},
           "path": look.meta["original"], "kept": look.meta["confidence"]["kept"],
           "coverage": look.meta["confidence"]["coverage"], "sims": []}
    if G is not None:
        glab = rgb2lab(G)
        used = 0
        for si in sims:
            sp = simpool[si]
            sf = str(sp.parent.relative_to(SHARED / "looks"))
            if sf == folder or used >= nsim:
                continue
            used += 1
            L = simluts.setdefault(si, lf.read_lut(sp))
            Ti = lf.render(G, L)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                li = lf.fit_look(Ti, settings=FitSettings(candidates=1, library_exclude=(folder, sf)))
            px = G.reshape(-1, 3).astype(np.float64) / 255
            y = np.clip(li.lut.apply_float(px), 0, 1)
            t = Ti.reshape(-1, 3).astype(np.float64) / 255
            dF, dL = y - px, t - px
            alpha = float((dF * dL).sum() / max((dF * dF).sum(), 1e-12))
            ylab = rgb2lab((y * 255 + 0.5).astype(np.uint8).reshape(G.shape))
            tlab = rgb2lab(Ti)
            e = float(deltaE_ciede2000(ylab, tlab).mean()); n = float(deltaE_ciede2000(glab, tlab).mean())
            row["sims"].append({"e": e, "n": n, "alpha": alpha, "kept": li.meta["confidence"]["kept"]})
    rows.append(row)
    print(f"[{k+1}/{len(items)}] {path.stem} id {row['identity']:.2f} r1 {row['r1']['1.0']:.2f} "
          f"sim excess {np.mean([s['e']-s['n'] for s in row['sims']]) if row['sims'] else float('nan'):.2f} "
          f"alpha {np.median([s['alpha'] for s in row['sims']]) if row['sims'] else float('nan'):.2f} {time.time()-t0:.0f}s", flush=True)
    if k % 10 == 9:
        Path(out).write_text(json.dumps(rows))
Path(out).write_text(json.dumps(rows))
