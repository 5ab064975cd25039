"""Experiment (training data only): how good could a look picked from a library of looks be?

For tune_oneshot's training templates (film colour, creative, synthetic, narrow; B&W skipped), the best of
every training film/creative look from ANOTHER folder than the template's own (x kept weight), scored with the
protocol (applied to 3 other photos B, dE00 against F(B)). An upper bound for look retrieval.

    python tools/experiments/retrieval_oracle.py K/N OUT.json
"""
import json
import sys
from pathlib import Path

import numpy as np

_TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_TOOLS.parent))
sys.path.insert(0, str(_TOOLS))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared_data import SHARED, LabScorer, load_photo, looks, photos  # noqa: E402
from tune_oneshot import _lut, draws  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.look.coverage import blend_table  # noqa: E402

if len(sys.argv) < 3:
    sys.exit(__doc__)
si, sn = map(int, sys.argv[1].split("/"))
out = sys.argv[2]
lib_paths = [p for p in looks("train", kinds=("film", "creative")) if "bw" not in p.parts]
from livefilter.luts.lut import identity_table  # noqa: E402

_g = identity_table(33)
lib = [(p, lf.read_lut(p).apply_float(_g.reshape(-1, 3)).reshape(_g.shape).astype(np.float32)) for p in lib_paths]
pics = [load_photo(p, 384) for p in photos("train")]
rows = []
W = (1.0, 0.75, 0.5, 0.25)
for k, _n, name, family, item, _ia, ibs in draws(pics, 30):
    if k % sn != si or family not in ("creative", "synthetic"):
        continue
    F = _lut(item)
    bs = [pics[i] for i in ibs]
    scorer = LabScorer([lf.render(pics[i], F) for i in ibs], pixels=4096)
    folder = item.parent if isinstance(item, Path) else None
    best = (scorer(bs), "identity", 0.0)
    for p, L in lib:
        if folder is not None and p.parent == folder:
            continue
        t = L
        for w in W:
            s = scorer.lut(lf.Lut(blend_table(t, None, 0, w)), bs)
            if s < best[0]:
                best = (s, str(p.relative_to(SHARED)), w)
    rows.append({"look": name, "family": family, "identity": scorer(bs), "best": best})
    print(k, name, family, round(rows[-1]["identity"], 2), best, flush=True)
    Path(out).write_text(json.dumps(rows))
