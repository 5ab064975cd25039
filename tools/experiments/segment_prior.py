"""Experiment (training data only): per-segment looks from ONE photo through the look prior (issues 8 and 9).

From one photo a segment's own mapping learnt from the de-filter network's guess measured worse than the global look
(README "Per-segment looks"). The look prior (livefilter/look/prior.py) predicts a look from a template's features:
the scene network's pooled map and colour statistics. Here each segment of a split template (person: soft mask
>= 0.5, background: the rest; each >= 10 % of the frame) gets the prior's look from the whole image's scene
features and the colour statistics of ITS pixels only; the segment's look is the shipped mix with that table in
place of the whole template's prior table (the network's part and the kept weight as fit_look chose them):

    global:        (net + prior(whole)) / 2            (what fit_look ships; reproduced here and checked)
    segment prior: global + k (prior(segment) - prior(whole)) per segment, blended by the soft person mask
                   (k = 0.5: (net + prior(segment)) / 2; 1, 1.5: more of the segments' difference)

Templates as tools/eval_segments.py makes them, on TRAINING photos with people and the training colour film and
creative looks that the shipped prior did not learn from (tune_oneshot's draws). The prior here is a ridge (alpha
0.03, as shipped) on the prior's seed-0 pairs WITHOUT the pairs made from any training photo with people, so it
never saw the template photos nor the truths' photos; the shipped prior is replaced by it for the whole run.

    python tools/experiments/segment_prior.py PAIRS.npz [--split 24] [--single 12] [--json OUT.json] [--md OUT.md]
"""
import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

_TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_TOOLS.parent))
sys.path.insert(0, str(_TOOLS))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared_data import SHARED, delta_e00, look_family, looks, photos, write_results  # noqa: E402
from eval_segments import people_photos, split_templates  # noqa: E402
from feature_inverse import pair_draws  # noqa: E402
from train_look_prior import Ridge, regression_looks  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.look import fit, prior  # noqa: E402
from livefilter.look.coverage import blend_table  # noqa: E402
from livefilter.render import render_float  # noqa: E402

MIN_SHARE = 0.1
KS = (0.5, 1.0, 1.5)


class ExperimentPrior(prior.LookPrior):
    """A LookPrior from a Ridge held in memory (no file)."""

    def __init__(self, reg: Ridge):
        self.W, self.mu, self.sd, self.ym = (np.asarray(v, np.float32) for v in (reg.W, reg.mu, reg.sd, reg.ym))
        self.grid, self.meta = prior.GRID, {"grid": prior.GRID}


def table_of(lut: lf.Lut, size: int) -> np.ndarray:
    ident = lf.luts.lut.identity_table(size)
    return np.clip(lut.apply_float(ident.reshape(-1, 3)).reshape(ident.shape), 0, 1).astype(np.float32)


def segment_features(t: np.ndarray, m: np.ndarray, deep: np.ndarray) -> np.ndarray:
    """The prior's features of one segment: the whole image's scene features, its own pixels' colour statistics
    (colour_statistics takes any set of pixels)."""
    px = t[m][:, None, :]
    return np.concatenate([deep, prior.colour_statistics(px)]).astype(np.float32)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pairs")
    ap.add_argument("--split", type=int, default=24)
    ap.add_argument("--single", type=int, default=12)
    ap.add_argument("--side", type=int, default=384)
    ap.add_argument("--json")
    ap.add_argument("--md")
    args = ap.parse_args(argv)
    t0 = time.time()
    warnings.simplefilter("ignore")
    from livefilter.analysis.scene import default_model

    pics = people_photos(args.side, "train")
    train_paths = photos("train")
    people = {train_paths.index(p[0]) for p in pics}
    z = np.load(args.pairs)
    _, pair_photo = pair_draws(len(z["X"]))
    keep = ~np.isin(pair_photo, list(people))
    reg = Ridge(z["X"][keep], z["Y"][keep], 0.03)
    prior._priors[prior.PRIOR_PATH] = ExperimentPrior(reg)  # the shipped prior replaced for this run
    print(f"{len(pics)} training photos with people; prior from {int(keep.sum())} of {len(keep)} pairs",
          file=sys.stderr)
    learnt = set(map(str, regression_looks()))
    pool = [p for p in looks("train", kinds=("film", "creative"))
            if look_family(p) in ("color", "creative") and str(p) not in learnt]
    rows = []
    items = ["split"] * args.split + ["single"] * args.single
    scene = default_model()
    for k, (kind, ia, i1, i2, t, drawn) in enumerate(split_templates(pics, pool, items)):
        ma_full = pics[ia][3]
        truths = [(b, m_full, fb) for b, _, m_full, fb in drawn]  # this script blends by the full-size mask
        look = lf.fit_look(t)
        w, size = look.meta["guess_weight"], look.lut.size
        share = fit.PRIOR_SHARE
        try:
            fit.PRIOR_SHARE = 0.0
            net = lf.fit_look(t, guess_weight=w).lut.table
        finally:
            fit.PRIOR_SHARE = share
        deep = scene.pooled_features(prior.square(t))
        p_whole = prior.default_prior().predict(t)
        rebuilt = (1 - share) * net + share * blend_table(table_of(p_whole, size), None, 0.0, w)
        person = ma_full >= 0.5
        whole = blend_table(table_of(p_whole, size), None, 0.0, w)
        prior_tables = {}
        for name, sel in (("person", person), ("background", ~person)):
            if sel.mean() >= MIN_SHARE:
                off = prior.default_prior().offsets(segment_features(t, sel, deep))
                g = prior.lattice()
                p_seg = lf.Lut(np.clip(g + off.reshape(g.shape), 0, 1).astype(np.float32))
                prior_tables[name] = blend_table(table_of(p_seg, size), None, 0.0, w)
        gap = (float(np.abs(prior_tables["person"] - prior_tables["background"]).mean() * 255)
               if len(prior_tables) == 2 else 0.0)

        def tables_at(k, look=look, whole=whole, prior_tables=prior_tables):
            """Each segment's look: the global look moved by k times its prior's difference from the whole template's
            prior (k = PRIOR_SHARE: the segment's prior in place of the whole's in the shipped mix)."""
            return {name: np.clip(look.lut.table + k * (prior_tables.get(name, whole) - whole), 0, 1)
                    for name in ("person", "background")}

        def seg_render(b, mb, tables):
            ph = render_float(b, lf.Lut(tables["person"])).astype(np.float64)
            bg = render_float(b, lf.Lut(tables["background"])).astype(np.float64)
            m = mb[:, :, None]
            return np.clip(ph * m + bg * (1 - m) + 0.5, 0, 255).astype(np.uint8)

        row = {"kind": kind, "photo": str(pics[ia][0].relative_to(SHARED)), "F1": str(pool[i1].relative_to(SHARED)),
               "F2": None if i2 is None else str(pool[i2].relative_to(SHARED)), "weight": w,
               "rebuilt max diff": float(np.abs(rebuilt - look.lut.table).max()), "segment gap": gap,
               "identity": float(np.mean([delta_e00(b, fb) for b, _, fb in truths])),
               "global": float(np.mean([delta_e00(render_float(b, look.lut), fb) for b, _, fb in truths])),
               **{f"segment prior k={k}": float(np.mean([delta_e00(seg_render(b, mb, tables_at(k)), fb)
                                                         for b, mb, fb in truths])) for k in KS}}
        row["segment prior"] = row[f"segment prior k={share}"]
        rows.append(row)
        print(f"[{k + 1}/{len(items)}] {kind} id {row['identity']:.2f} global {row['global']:.2f} "
              + " ".join(f"k={q} {row[f'segment prior k={q}']:.2f}" for q in KS)
              + f" gap {gap:.1f} (rebuilt {row['rebuilt max diff']:.1e})", file=sys.stderr, flush=True)
    cols = ["global"] + [f"segment prior k={k}" for k in KS]
    md = ["| templates | n | identity | " + " | ".join(cols) + " |", "|---|---|---|" + "---|" * len(cols)]
    summary = {}
    for kind in ("split", "single"):
        sel = [r for r in rows if r["kind"] == kind]
        if not sel:
            continue
        s = {m: float(np.mean([r[m] for r in sel])) for m in ["identity", *cols]}
        s["n"] = len(sel)
        summary[kind] = s
        cells = [f"{s['global']:.2f}"] + [
            f"{s[c]:.2f} ({1 - s[c] / s['global']:+.0%}, {sum(r[c] < r['global'] for r in sel)}/{len(sel)})"
            for c in cols[1:]]
        md.append(f"| {kind} | {len(sel)} | {s['identity']:.2f} | " + " | ".join(cells) + " |")
    write_results({"protocol": __doc__.split("\n\n")[1:4], "summary": summary, "rows": rows,
                   "seconds": time.time() - t0}, "\n".join(md), args.json, args.md)
    return 0


if __name__ == "__main__":
    if not SHARED.is_dir():
        sys.exit(f"needs {SHARED}")
    sys.exit(main())
