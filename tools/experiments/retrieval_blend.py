"""Experiment (training data only): the shipped one-photo look blended with the library look that best maps the
network's guess to the template (searched over every library look of another folder, x kept weight).

    python tools/experiments/retrieval_blend.py K/N OUT.json [LIBRARY_CACHE.npz]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

_TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_TOOLS.parent))
sys.path.insert(0, str(_TOOLS))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared_data import SHARED, LabScorer, load_photo, photos  # noqa: E402
from retrieval_select import library  # noqa: E402
from tune_oneshot import _lut, draws  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.look import bake, coverage_of, fit_mappings, pairing_for, pixel_pairs  # noqa: E402
from livefilter.look.coverage import blend_table  # noqa: E402
from livefilter.look.fit import guess_weight_for  # noqa: E402
from livefilter.luts.lut import identity_table  # noqa: E402

WEIGHTS = (1.0, 0.75, 0.5, 0.25)
MIXES = (0.0, 0.25, 0.5, 0.75, 1.0)  # share of the library look in the blend


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    si, sn = map(int, sys.argv[1].split("/"))
    names, fwd, _ = library(Path(sys.argv[3]) if len(sys.argv) > 3 else Path("/tmp/livefilter_look_library.npz"))
    pics = [load_photo(p, 384) for p in photos("train")]
    ident = identity_table(33).astype(np.float32)
    rows = []
    for k, _n, name, family, item, ia, ibs in draws(pics, 30):
        if k % sn != si or family == "bw":
            continue
        F = _lut(item)
        T = lf.render(pics[ia], F)
        bs = [pics[i] for i in ibs]
        scorer = LabScorer([lf.render(pics[i], F) for i in ibs], pixels=4096)
        p = pairing_for(lf.look.load_template(T), monochrome=False)
        pairs = pixel_pairs(p)
        glob, _ = fit_mappings(pairs, "seed")
        ours = blend_table(bake(glob).table, coverage_of(p, pairs), 0.3, guess_weight_for(p.change))
        folder = str(Path(item).parent.relative_to(SHARED)) if isinstance(item, Path) else None
        sel = np.random.default_rng(1).choice(p.template.shape[0] * p.template.shape[1], 3000, replace=False)
        g = p.original.reshape(-1, 3)[sel].astype(np.float64) / 255
        t = p.template.reshape(-1, 3)[sel].astype(np.float64) / 255
        best = (float(np.abs(g - t).mean()), ident, "identity", 0.0)
        for n, f_t in zip(names, fwd):
            if folder is not None and str(Path(n).parent) == folder:
                continue
            y = lf.Lut(f_t).apply_float(g)
            for w in WEIGHTS:
                e = float(np.abs(g + w * (y - g) - t).mean())
                if e < best[0]:
                    best = (e, f_t, n, w)
        lib_t = ident + best[3] * (best[1] - ident)
        row = {"look": name, "family": family, "identity": scorer(bs), "pick": best[2], "w": best[3],
               "mix": [scorer.lut(lf.Lut((1 - m) * ours + m * lib_t), bs) for m in MIXES]}
        rows.append(row)
        print(k, name, family, f"id {row['identity']:.2f}", " ".join(f"{v:.2f}" for v in row["mix"]), best[2], best[3],
              flush=True)
        Path(sys.argv[2]).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
