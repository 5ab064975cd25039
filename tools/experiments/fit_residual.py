"""Experiment (outside the tree): the fit's residual (how well one global colour mapping explains guess -> template)
as a hedge signal for reading 1. Replays tools/eval_candidates.py's measure() templates."""
import sys, json, warnings
sys.path.insert(0, "/work/main/tools")
import numpy as np
import eval_candidates as ec
import livefilter as lf
from livefilter.look import fit as fitmod, readings
from livefilter.look.settings import FitSettings
from _shared_data import SHARED, LabScorer, look_family

captured = []
orig = fitmod.fit_mappings
def spy(pairs, mapping, solver="lstsq"):
    glob, per = orig(pairs, mapping, solver)
    captured.append((pairs.src.copy(), pairs.dst.copy(), glob))
    return glob, per
fitmod.fit_mappings = spy

items, pics = ec._looks_and_photos("val", 0, 384)
rng = np.random.default_rng(0)
out = []
STR = (1.0, 0.85, 0.7, 0.55, 0.4)
for k, path in enumerate(items):
    ia, *ibs = (int(i) for i in rng.choice(len(pics), 4, replace=False))
    F = lf.read_lut(path)
    T = lf.render(pics[ia], F)
    scorer = LabScorer([lf.render(pics[i], F) for i in ibs], pixels=16000)
    folder = str(path.parent.relative_to(SHARED / "looks"))
    settings = FitSettings(candidates=1, library_exclude=(folder,))
    captured.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        look = lf.fit_look(T, settings=settings, scene=False)
    src, dst, glob = captured[0]
    pred = np.asarray(glob(src))
    res = np.linalg.norm(pred - dst, axis=1)
    chg = np.linalg.norm(dst - src, axis=1)
    de = readings.delta_e00(readings.srgb_to_lab(np.clip(pred, 0, 1)), readings.srgb_to_lab(dst))
    dchg = readings.delta_e00(readings.srgb_to_lab(src), readings.srgb_to_lab(dst))
    inputs = [pics[i] for i in ibs]
    ident = scorer([*inputs])
    sc = {s: scorer.lut(look.with_strength(s).lut if s < 1 else look.lut, inputs) for s in STR}
    row = {"look": str(path.relative_to(SHARED)), "family": look_family(path), "identity": ident,
           "scores": {str(s): v for s, v in sc.items()},
           "res_rgb": float(res.mean()), "res_p90": float(np.percentile(res, 90)), "chg_rgb": float(chg.mean()),
           "res_de": float(de.mean()), "chg_de": float(dchg.mean()),
           "weight": look.meta["guess_weight"], "n_calls": len(captured)}
    out.append(row)
    print(k, path.stem, f"exc {sc[1.0]-ident:+.2f} res {row['res_de']:.2f} chg {row['chg_de']:.2f} w {row.get('weight')}", flush=True)
    json.dump(out, open("/tmp/exp/residual.json", "w"))
