"""Experiment (training data only): pick the look from a library of looks, without the truth.

For each library look L (training colour film + creative looks of ANOTHER folder than the template's own look),
the template T is un-done by L's inverse (a residual mapping fitted from L's outputs to its inputs, baked once):
A_L = L^-1(T). A_L is scored as a natural photo: a Mahalanobis distance of its colour statistics (per-luma-band mean
chroma, mean chroma, luma percentiles) to those of the training photos, plus how well L re-creates T from A_L
(a look cannot make colours outside its range). The best few are kept and scored with the protocol.

    python tools/experiments/retrieval_select.py K/N OUT.json [LIBRARY_CACHE.npz]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

_TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_TOOLS.parent))
sys.path.insert(0, str(_TOOLS))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared_data import SHARED, LabScorer, load_photo, looks, photos  # noqa: E402
from prior_exp import band_weights, to_lab  # noqa: E402
from tune_oneshot import _lut, draws  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.look import bake  # noqa: E402
from livefilter.look.coverage import blend_table  # noqa: E402
from livefilter.look.defilter import at_preset_size, defilter, guess_change  # noqa: E402
from livefilter.look.mapping import fit_mapping  # noqa: E402
from livefilter.luts.lut import identity_table  # noqa: E402

PCT = np.array([1.0, 5.0, 25.0, 50.0, 75.0, 95.0, 99.0])


def features(rgb):
    lab = to_lab(rgb)
    L, a, b = lab.T
    w = band_weights(L)
    ws = w.sum(0) + 1e-6
    am = (w * a[:, None]).sum(0) / ws
    bm = (w * b[:, None]).sum(0) / ws
    C = np.hypot(a, b)
    return np.concatenate([am, bm, [C.mean(), np.percentile(C, 90)], np.percentile(L, PCT), [a.mean(), b.mean()]])


def library(cache: Path):
    if cache.is_file():
        z = np.load(cache, allow_pickle=True)
        return list(z["names"]), z["fwd"], z["inv"]
    g = identity_table(33).reshape(-1, 3)
    names, fwd, inv = [], [], []
    rng = np.random.default_rng(0)
    x = rng.random((20000, 3))
    for p in looks("train", kinds=("film", "creative")):
        if "bw" in p.parts:
            continue
        L = lf.read_lut(p)
        y = L.apply_float(x)
        m = fit_mapping(np.clip(y, 0, 1), x, "residual")
        names.append(str(p.relative_to(SHARED)))
        fwd.append(L.apply_float(g).reshape(33, 33, 33, 3).astype(np.float32))
        inv.append(bake(m, 33).table.astype(np.float32))
    np.savez(cache, names=np.array(names), fwd=np.array(fwd), inv=np.array(inv))
    return names, np.array(fwd), np.array(inv)


def apply(table, img):
    px = img.reshape(-1, 3).astype(np.float64) / 255.0
    out = lf.Lut(table).apply_float(px)
    return np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8).reshape(img.shape)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    si, sn = map(int, sys.argv[1].split("/"))
    out = sys.argv[2]
    t0 = time.time()
    names, fwd, inv = library(Path(sys.argv[3]) if len(sys.argv) > 3 else Path("/tmp/livefilter_look_library.npz"))
    print(f"library {len(names)} in {time.time() - t0:.0f} s", flush=True)
    pics = [load_photo(p, 384) for p in photos("train")]
    F_nat = np.array([features(at_preset_size(p)) for p in pics])
    mu, cov = F_nat.mean(0), np.cov(F_nat.T)
    cov += np.eye(len(mu)) * 1e-3 * np.trace(cov) / len(mu)
    icov = np.linalg.inv(cov)
    nat_d = np.array([(f - mu) @ icov @ (f - mu) for f in F_nat])
    print("natural photos' own distance: median", np.median(nat_d), flush=True)
    rows = []
    ident = identity_table(33).astype(np.float32)
    for k, _n, name, family, item, ia, ibs in draws(pics, 30):
        if k % sn != si or family == "bw" or (family == "color" and k % 2):
            continue
        F = _lut(item)
        T = lf.render(pics[ia], F)
        small = at_preset_size(T)
        bs = [pics[i] for i in ibs]
        scorer = LabScorer([lf.render(pics[i], F) for i in ibs], pixels=4096)
        folder = str(Path(item).parent.relative_to(SHARED)) if isinstance(item, Path) else None
        cands = [("identity", ident, small)]
        for n, f_t, i_t in zip(names, fwd, inv):
            if folder is not None and str(Path(n).parent) == folder:
                continue
            cands.append((n, f_t, apply(i_t, small)))
        recs = []
        for n, f_t, A in cands:
            fa = features(A)
            m = float((fa - mu) @ icov @ (fa - mu))
            re = float(np.abs(apply(f_t, A).astype(np.float32) - small.astype(np.float32)).mean())
            recs.append((n, m, re))
        row = {"look": name, "family": family, "identity": scorer(bs), "cands": []}
        # score the truth of the top candidates by a few criteria (and a random sample, for the spread)
        order_m = sorted(range(len(recs)), key=lambda i: recs[i][1])
        order_mr = sorted(range(len(recs)), key=lambda i: recs[i][1] + 2.0 * recs[i][2])
        keep = set(order_m[:8]) | set(order_mr[:8]) | {0}
        _, G = defilter(T)
        for i in keep:
            n, m, re = recs[i]
            t = cands[i][1]
            A = cands[i][2]
            _, GA = defilter(A)
            s = [scorer.lut(lf.Lut(blend_table(t, None, 0, w)), bs) for w in (1.0, 0.75, 0.5)]
            proj = [float(np.abs(apply(blend_table(t, None, 0, w), G).astype(np.float32) - small.astype(np.float32)
                                 ).mean()) for w in (1.0, 0.75, 0.5)]
            row["cands"].append({"name": n, "m": m, "re": re, "s": s, "d_net": guess_change(A, GA),
                                 "proj": proj})
        row["m_identity"] = recs[0][1]
        rows.append(row)
        best_m = min(row["cands"], key=lambda c: c["m"])
        print(k, name, family, f"id {row['identity']:.2f} m_id {recs[0][1]:.1f} pick {best_m['name']} "
              f"m {best_m['m']:.1f} s {best_m['s'][0]:.2f}/{best_m['s'][2]:.2f}", flush=True)
        Path(out).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
