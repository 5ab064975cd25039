"""The split-look benchmark: does a per-segment look (fit_look(..., segments=True)) learn a template whose person
was graded one way and the background another?

Photos with people: VALIDATION photos of ../shared/data (the split rule) where the selfie segmenter finds a person
covering 15-85 % of the frame (the segmenter's verdict: a few are animals or objects it takes for people; the
face detector alone finds faces in only 7 of the 79 validation photos at this size, too few). Split templates:
T = F1(A) * m + F2(A) * (1 - m) for such a photo A, m its soft person mask (livefilter.analysis.segments),
F1 != F2 validation colour film or creative looks; truth on 3 other photos with people B: F1(B) * m_B +
F2(B) * (1 - m_B). Ordinary templates: T = F(A) (F one validation look), truth F(B). For each template the look
is fitted per segment and global, on both paths: before/after (--original: the true A) and one photo (T alone).
Score: mean CIEDE2000 against the truth (lower is better), rendered with the float references of the LUT renderers
(render_segments_float / render_float: within 1 code value of them), B's mask the one the product computes.
Also, on the ordinary templates: salient-weighted sampling with the person mask as the salient region
(docs/method.md section 2, T = 0.5 + 0.5 t; fit_look(sampling="person")) against uniform sampling.

    python tools/eval_segments.py [--split 24] [--single 12] [--side 384] [--json out.json] [--md out.md]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared_data import SHARED, delta_e00, load_photo, look_family, looks, photos, write_results  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.analysis.segments import Segmenter, resize_mask  # noqa: E402
from livefilter.render import render_float, render_segments_float  # noqa: E402

PERSON_SHARE = (0.15, 0.85)


def people_photos(side: int, which: str = "val"):
    """(photo, small soft mask, full-size mask) for the validation (or training) photos with people."""
    out = []
    with Segmenter() as seg:
        for p in photos(which):
            img = load_photo(p, side)
            m = seg.mask(img)
            if PERSON_SHARE[0] <= float((m >= 0.5).mean()) <= PERSON_SHARE[1]:
                out.append((p, img, m, resize_mask(m, img.shape[:2])))
    return out


def graded(img, f1, m_full, f2=None):
    """F1 on the person and F2 on the rest, blended by the soft mask (F2 None: F1 everywhere)."""
    a = render_float(img, f1).astype(np.float64)
    if f2 is None:
        return a.astype(np.uint8)
    b = render_float(img, f2).astype(np.float64)
    m = m_full[:, :, None]
    return np.clip(a * m + b * (1 - m) + 0.5, 0, 255).astype(np.uint8)


def split_templates(pics, pool, kinds, seed: int = 0):
    """The benchmark's templates, drawn the same way on every run: yields (kind,
    A's index, F1's and F2's indices in ``pool`` (F2 None: single-look), the template, and per B (3 other photos
    with people) (photo, small mask, full-size mask, truth)). ``kinds``: "split" / "single" per template."""
    luts = {}
    rng = np.random.default_rng(seed)
    for kind in kinds:
        ia, *ibs = rng.choice(len(pics), 4, replace=False)
        i1, i2 = rng.choice(len(pool), 2, replace=False)
        f1 = luts.setdefault(i1, lf.read_lut(pool[i1]))
        f2 = luts.setdefault(i2, lf.read_lut(pool[i2])) if kind == "split" else None
        _, a, _, ma_full = pics[ia]
        truths = [(pics[i][1], pics[i][2], pics[i][3], graded(pics[i][1], f1, pics[i][3], f2)) for i in ibs]
        yield kind, ia, i1, i2 if f2 is not None else None, graded(a, f1, ma_full, f2), truths


def predict(look, img, m_small):
    if look.label_luts:
        return render_segments_float(img, look.category_luts(), m_small[None])
    return render_float(img, look.lut)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", type=int, default=24, help="split templates (F1 on the person, F2 elsewhere)")
    ap.add_argument("--single", type=int, default=12, help="ordinary single-look templates")
    ap.add_argument("--side", type=int, default=384)
    ap.add_argument("--no-one-photo", action="store_true", help="only the before/after path")
    ap.add_argument("--no-original", action="store_true", help="only the one-photo path")
    ap.add_argument("--train", action="store_true", help="TRAINING photos and looks (to choose settings; report "
                    "validation figures only)")
    ap.add_argument("--set", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                    help="override a FitSettings field (e.g. segment_min_gain 0.5) or a livefilter.look.sampling "
                         "constant for this run")
    ap.add_argument("--seg-model", help="a segmentation-aware de-filter .onnx to use instead of "
                    "models/defilter_seg.onnx "
                    "(tools/export_onnx.py --out)")
    ap.add_argument("--json")
    ap.add_argument("--md")
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        print(f"needs {SHARED}", file=sys.stderr)
        return 2
    from livefilter.look import FitSettings, sampling

    if args.seg_model:
        import livefilter.look.defilter as dfl

        dfl.SEG_MODEL_PATH = Path(args.seg_model).resolve()
    overrides = {}
    for name, value in args.set:
        if hasattr(sampling, name):
            setattr(sampling, name, json.loads(value))
        else:
            v = json.loads(value)
            overrides[name] = tuple(v) if isinstance(v, list) else v
    settings = FitSettings(**overrides)
    split_name = "train" if args.train else "val"
    t0 = time.time()
    warnings.simplefilter("ignore")
    pics = people_photos(args.side, split_name)
    print(f"{len(pics)} {split_name} photos with people", file=sys.stderr)
    pool = [p for p in looks(split_name, kinds=("film", "creative")) if look_family(p) in ("color", "creative")]
    rows = []
    paths = ([] if args.no_original else ["original"]) + ([] if args.no_one_photo else ["one photo"])
    items = ["split"] * args.split + ["single"] * args.single
    for k, (kind, ia, i1, i2, t, drawn) in enumerate(split_templates(pics, pool, items)):
        _, a, ma, _ = pics[ia]
        truths = [(b, mb, fb) for b, mb, _, fb in drawn]
        row = {"kind": kind, "photo": str(pics[ia][0].relative_to(SHARED)), "F1": str(pool[i1].relative_to(SHARED)),
               "F2": None if i2 is None else str(pool[i2].relative_to(SHARED)),
               "person share": float((ma >= 0.5).mean())}
        for path in paths:
            orig = a if path == "original" else None
            fits = {"global": lf.fit_look(t, orig, settings=settings),
                    "per segment": lf.fit_look(t, orig, segments=True, settings=settings)}
            if kind == "single":
                fits["salient (person mask)"] = lf.fit_look(t, orig, sampling="person", settings=settings)
            for name, look in fits.items():
                row[f"{path}: {name}"] = float(np.mean([delta_e00(predict(look, b, mb), fb) for b, mb, fb in truths]))
            row[f"{path}: identity"] = float(np.mean([delta_e00(b, fb) for b, _, fb in truths]))
        rows.append(row)
        print(f"[{k + 1}/{len(items)}] {kind} " + " ".join(f"{m}={v:.2f}" for m, v in row.items()
                                                           if isinstance(v, float) and ":" in m), file=sys.stderr)
    summary = {}
    md = ["| templates | path | n | identity | global look | per-segment look | per-segment vs global | "
          "salient (person mask) |", "|---|---|---|---|---|---|---|---|"]
    for kind in ("split", "single"):
        sel = [r for r in rows if r["kind"] == kind]
        for path in paths:
            if not sel:
                continue
            s = {m: float(np.mean([r[f"{path}: {m}"] for r in sel]))
                 for m in ("identity", "global", "per segment", "salient (person mask)") if f"{path}: {m}" in sel[0]}
            better = sum(r[f"{path}: per segment"] < r[f"{path}: global"] for r in sel)
            s["per-segment better than global"] = int(better)
            s["n"] = len(sel)
            s["gain"] = 1 - s["per segment"] / s["global"]
            summary[f"{kind}, {path}"] = s
            sal = f"{s['salient (person mask)']:.2f}" if "salient (person mask)" in s else "-"
            md.append(f"| {kind} | {path} | {len(sel)} | {s['identity']:.2f} | {s['global']:.2f} | "
                      f"{s['per segment']:.2f} | {s['gain']:+.0%} ({s['per-segment better than global']}/{len(sel)} "
                      f"better) | {sal} |")
    result = {"protocol": __doc__.split("\n\n")[1:3], "split": split_name, "settings": dict(args.set),
              "segmentation-aware model": args.seg_model,
              "summary": summary, "rows": rows, "seconds": time.time() - t0,
              "photos with people": [str(p[0].relative_to(SHARED)) for p in pics],
              "machine": {"python": platform.python_version(), "platform": platform.platform(),
                          "note": "2 cores shared with other jobs (timings not reported)"}}
    write_results(result, "\n".join(md), args.json, args.md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
