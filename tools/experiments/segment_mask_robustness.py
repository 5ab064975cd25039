"""Experiment (training data only): is segmenting the ORIGINAL (fit.SEGMENT_THE_ORIGINAL) better only because the
split-look benchmark grades its templates with the segmenter's own mask on the original?

Split templates as tools/eval_segments.py draws them (training photos with people and looks), but graded (and their
truths on 3 other photos too) with a mask that is NOT the segmenter's: its hard mask dilated or eroded by FRAC of the
long side, then feathered, as a colourist's hand-drawn mask would differ. The product renders by the segmenter's mask
as always. Per-segment looks fitted with the template's segments found on the template or on the original.

    python tools/experiments/segment_mask_robustness.py dilate|erode FRAC N
"""
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np

_TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_TOOLS.parent))
sys.path.insert(0, str(_TOOLS))
import eval_segments as es  # noqa: E402
from _shared_data import delta_e00, look_family, looks  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.look import fit  # noqa: E402

warnings.simplefilter("ignore")
op, frac, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])


def perturb(m):
    k = max(1, int(round(frac * max(m.shape))))
    ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
    hard = (m >= 0.5).astype(np.uint8)
    hard = cv2.dilate(hard, ker) if op == "dilate" else cv2.erode(hard, ker)
    return cv2.GaussianBlur(hard.astype(np.float32), (0, 0), k / 2 + 0.5)


pics = es.people_photos(384, "train")
pool = [p for p in looks("train", kinds=("film", "creative")) if look_family(p) in ("color", "creative")]
rng = np.random.default_rng(5)
res = {"global": [], "template": [], "original": []}
for k in range(n):
    ia, *ibs = rng.choice(len(pics), 4, replace=False)
    i1, i2 = rng.choice(len(pool), 2, replace=False)
    f1, f2 = lf.read_lut(pool[i1]), lf.read_lut(pool[i2])
    _, a, ma, ma_full = pics[ia]
    t = es.graded(a, f1, perturb(ma_full), f2)
    truths = [(pics[i][1], pics[i][2], es.graded(pics[i][1], f1, perturb(pics[i][3]), f2)) for i in ibs]

    def sc(look, truths=truths):
        return float(np.mean([delta_e00(es.predict(look, b, mb), fb) for b, mb, fb in truths]))

    res["global"].append(sc(lf.fit_look(t, a)))
    for v in ("template", "original"):
        fit.SEGMENT_THE_ORIGINAL = v == "original"
        res[v].append(sc(lf.fit_look(t, a, segments=True)))
    print(k, {m: round(v[-1], 2) for m, v in res.items()}, flush=True)
g = np.mean(res["global"])
print(op, frac, f"global {g:.2f}", " ".join(f"{v} {np.mean(res[v]):.2f} ({1 - np.mean(res[v]) / g:+.0%})"
                                           for v in ("template", "original")))
