"""The candidates benchmark: from ONE photo, is the right look among the K readings `fit --candidates K` offers?

For each validation look F of ../shared/data (colour film and creative grades) a validation photo A is graded,
template T = F(A); truth = F(B) for 3 other validation photos B (384 px). Every reading of T is fitted (the whole
pool, no near-duplicate skipped) with the look library searched WITHOUT the look's own folder (its film maker or
author: the library then knows the look no better than an unseen one), and each reading is scored by its mean
CIEDE2000 against F(B). The selection the product makes (the automatic reading, then FitSettings.pool_order,
near-duplicates skipped) is replayed from the scores and the readings' differences on the reference colours, so
orders and thresholds are compared on the same fits. Figures: candidate 1 alone, best of K (an upper bound on a
user choosing by eye), looks worse than doing nothing, the worst excess (and candidate 1's excess over doing nothing
summed over the looks), the readings' mean pairwise difference, and the offered readings more than 15 dE00 worse
than doing nothing (a reading that wrecks the picture). ``--template-jpeg Q``: the template saved as JPEG at
quality Q first, as a photo a user brings usually is; ``--split train``: the training looks and photos (settings are
chosen there). ``--photos K``: the look learnt from K photos in it (``fit A B C``, the product's readings as offered),
against the first photo's automatic reading alone. ``--scene``: each reading at each test photo's scene similarity
to the template, as `apply` and `live` grade with a .look.npz (whole, as a .cube grades, without it).

    python tools/eval_candidates.py [--looks N] [--side PX] [--template-jpeg Q] [--split val|train] [--json out.json]
                                    [--rows rows.json] [--from-rows rows.json] [--photos K] [--scene]
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared_data import SHARED, LabScorer, load_photo, look_family, looks, photos  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.analysis.scene import default_model, similarity  # noqa: E402
from livefilter.look import readings  # noqa: E402
from livefilter.look.fit import MAX_TEMPLATES  # noqa: E402
from livefilter.look.readings import Reading  # noqa: E402
from livefilter.look.settings import MAX_CANDIDATES, FitSettings  # noqa: E402
from livefilter.look.template import load_template  # noqa: E402


def as_jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])


def _looks_and_photos(split: str, n_looks: int, side: int) -> tuple[list, list]:
    """The split's colour film and creative looks (every k-th, ``n_looks`` of them; 0: all) and its photos."""
    items = [p for p in looks(split, kinds=("film", "creative")) if look_family(p) in ("color", "creative")]
    if n_looks:
        items = items[:: max(1, len(items) // n_looks)][:n_looks]
    return items, [load_photo(p, side) for p in photos(split)]


def measure(n_looks: int = 0, side: int = 384, log=print, jpeg: int = 0, split: str = "val",
            cluster_support: float = FitSettings().cluster_support, scene: bool = False) -> list[dict]:
    """``scene``: each reading scored at each test photo's scene similarity to the template, as `apply` and `live`
    grade with a .look.npz from `fit` (which keeps the template's scene); without it, whole, as a .cube grades."""
    items, pics = _looks_and_photos(split, n_looks, side)
    model = default_model() if scene else None
    rng = np.random.default_rng(0)
    rows = []
    ref = readings.reference_colours()
    for k, path in enumerate(items):
        ia, *ibs = (int(i) for i in rng.choice(len(pics), 4, replace=False))
        F = lf.read_lut(path)
        T = lf.render(pics[ia], F)
        if jpeg:
            T = as_jpeg(T, jpeg)
        scorer = LabScorer([lf.render(pics[i], F) for i in ibs], pixels=16000)
        folder = str(path.parent.relative_to(SHARED / "looks"))
        # the black-and-white reading up to MONO_READING_MAX, so that summaries replay lower thresholds
        settings = FitSettings(candidates=MAX_CANDIDATES, min_difference=0.0, library_exclude=(folder,),
                               cluster_support=cluster_support,
                               monochrome_reading=MONO_READING_MAX)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            look = lf.fit_look(T, settings=settings)
        inputs = [pics[i] for i in ibs]
        strengths = None
        if model is not None:
            template = model.describe(T)
            strengths = [similarity(template, model.describe(x)) for x in inputs]
        scores = {"identity": scorer([*inputs])}
        outs = {}
        for r in look.candidates:
            scores[r.kind] = scorer.lut(r.lut, inputs, strengths)
            outs[r.kind] = readings.srgb_to_lab(r.mapping(ref))
        outs["identity"] = readings.srgb_to_lab(ref)
        diffs = {f"{a}|{b}": float(readings.delta_e00(outs[a], outs[b]).mean())
                 for a, b in itertools.combinations(outs, 2)}
        rows.append({"look": str(path.relative_to(SHARED)), "family": look_family(path), "scores": scores,
                     "diffs": diffs, "path": look.meta["original"], "confidence": look.meta["confidence"],
                     "readings": look.meta["candidates"], "grey": load_template(T).without_border().grey,
                     "scene": strengths})
        log(f"[{k + 1}/{len(items)}] {path.stem}: identity {scores['identity']:.2f} automatic "
            f"{scores['automatic']:.2f} best {min(v for n, v in scores.items() if n != 'identity'):.2f}")
    return rows


def measure_several(k: int, n_looks: int = 0, side: int = 384, log=print, split: str = "val") -> list[dict]:
    """Each look learnt from ``k`` photos graded with it (``fit_look([T1..Tk])``, the readings as the product offers
    them) and from the first of them alone (its automatic reading), scored on 3 other photos."""
    items, pics = _looks_and_photos(split, n_looks, side)
    rng = np.random.default_rng(0)
    rows = []
    for i, path in enumerate(items):
        idx = [int(j) for j in rng.choice(len(pics), k + 3, replace=False)]
        F = lf.read_lut(path)
        templates = [lf.render(pics[j], F) for j in idx[:k]]
        inputs = [pics[j] for j in idx[k:]]
        scorer = LabScorer([lf.render(img, F) for img in inputs], pixels=16000)
        settings = FitSettings(library_exclude=(str(path.parent.relative_to(SHARED / "looks")),))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            several = lf.fit_look(templates, settings=settings)
            one = lf.fit_look(templates[0], settings=settings, candidates=1)
        scores = {"identity": scorer(inputs), "one photo": scorer.lut(one.lut, inputs)}
        scores |= {r.kind: scorer.lut(r.lut, inputs) for r in several.candidates or [Reading("automatic", None,
                                                                                               lut=several.lut)]}
        rows.append({"look": str(path.relative_to(SHARED)), "family": look_family(path), "scores": scores})
        log(f"[{i + 1}/{len(items)}] {path.stem}: identity {scores['identity']:.2f} one photo "
            f"{scores['one photo']:.2f}, {k} photos {scores['automatic']:.2f}")
    return rows


def summarise_several(rows) -> str:
    lines = ["| looks | n | doing nothing | one photo: reading 1 | worse / worst | several: reading 1 | "
             "worse / worst | best offered | worse / worst | readings |", "|---|---|---|---|---|---|---|---|---|---|"]
    for fam in ("all", "color", "creative"):
        sel = [r for r in rows if fam == "all" or r["family"] == fam]
        if not sel:
            continue
        ident = np.array([r["scores"]["identity"] for r in sel])
        cols = [np.array([r["scores"]["one photo"] for r in sel]), np.array([r["scores"]["automatic"] for r in sel]),
                np.array([min(v for n, v in r["scores"].items() if n not in ("identity", "one photo")) for r in sel])]
        cells = [f"{c.mean():.2f} | {int((c > ident).sum())} / {(c - ident).max():+.2f}" for c in cols]
        offered = np.mean([len(r["scores"]) - 2 for r in sel])
        lines.append(f"| {fam} | {len(sel)} | {ident.mean():.2f} | {' | '.join(cells)} | {offered:.1f} |")
    return "\n".join(lines)


def diff(row, a, b) -> float:
    return row["diffs"].get(f"{a}|{b}", row["diffs"].get(f"{b}|{a}", 0.0))


MONO_READING_MAX = 16 / 255
WRECKED = 15  # an offered reading this much worse than doing nothing (dE00): counted apart


def replay(row, k: int, order, min_difference: float, mono_reading: float = FitSettings().monochrome_reading
           ) -> list[str]:
    """The kinds the product would offer for this row (readings.select, from the recorded differences; the
    black-and-white reading where the template's Template.grey is under ``mono_reading``)."""
    kinds = [n for n in row["scores"] if n != "monochrome" or row.get("grey", 0.0) < mono_reading]
    taken = ["automatic"]
    for kind in readings.offered_order(order, kinds):
        if len(taken) >= k:
            break
        if kind not in kinds:
            continue
        if min(diff(row, kind, t) for t in taken) < min_difference:
            continue
        taken.append(kind)
    return taken


def summarise(rows, k: int, order, min_difference: float, mono_reading: float = FitSettings().monochrome_reading
              ) -> dict:
    out = {}
    for fam in ("all", "color", "creative"):
        sel = [r for r in rows if fam == "all" or r["family"] == fam]
        if not sel:
            continue
        ident = np.array([r["scores"]["identity"] for r in sel])
        chosen = [replay(r, k, order, min_difference, mono_reading) for r in sel]
        best = np.array([min(r["scores"][c] for c in ch) for r, ch in zip(sel, chosen)])
        first = np.array([r["scores"]["automatic"] for r in sel])
        pair = [np.mean([diff(r, a, b) for a, b in itertools.combinations(ch, 2)]) for r, ch in zip(sel, chosen)
                if len(ch) > 1]
        out[fam] = {"looks": len(sel), "doing nothing": float(ident.mean()), "candidate 1": float(first.mean()),
                    "candidate 1 worse than nothing": int((first > ident).sum()),
                    "candidate 1 worst excess": float((first - ident).max()),
                    "candidate 1 excess sum": float(np.clip(first - ident, 0, None).sum()),
                    f"best of {k}": float(best.mean()), "best worse than nothing": int((best > ident).sum()),
                    "best worst excess": float((best - ident).max()),
                    "mean candidates": float(np.mean([len(c) for c in chosen])),
                    "mean pairwise dE00": float(np.mean(pair)) if pair else 0.0,
                    "with a whole look": int(sum(("whole" in c or "nearest" in c) for c in chosen)),
                    # a reading that wrecks the picture rather than reading the look wrongly
                    f"readings over +{WRECKED}": int(sum(r["scores"][c] - r["scores"]["identity"] > WRECKED
                                                         for r, ch in zip(sel, chosen) for c in ch))}
    return out


def table(summary: dict, k: int) -> str:
    lines = [f"| looks | n | doing nothing | candidate 1 | worse / worst / excess | best of {k} | worse / worst | "
             f"readings | pairwise dE00 | over +{WRECKED} |", "|---|---|---|---|---|---|---|---|---|---|"]
    for fam, s in summary.items():
        lines.append(f"| {fam} | {s['looks']} | {s['doing nothing']:.2f} | {s['candidate 1']:.2f} | "
                     f"{s['candidate 1 worse than nothing']} / {s['candidate 1 worst excess']:+.2f} / "
                     f"{s['candidate 1 excess sum']:.1f} | "
                     f"{s[f'best of {k}']:.2f} | {s['best worse than nothing']} / {s['best worst excess']:+.2f} | "
                     f"{s['mean candidates']:.1f} | {s['mean pairwise dE00']:.2f} | {s[f'readings over +{WRECKED}']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--looks", type=int, default=0, help="only N validation looks (0 = all colour film + creative)")
    ap.add_argument("--side", type=int, default=384, help="long side of the photos (templates above the fit's "
                    "working size of 512 px also measure the fit's own resizing)")
    ap.add_argument("-k", type=int, default=FitSettings().candidates, help="candidates offered")
    ap.add_argument("--min-difference", type=float, default=FitSettings().min_difference)
    ap.add_argument("--order", default=",".join(FitSettings().pool_order), help="comma-separated pool order")
    ap.add_argument("--monochrome-reading", type=float, default=FitSettings().monochrome_reading * 255,
                    help="offer the black-and-white reading under this monochrome residual (code values)")
    ap.add_argument("--template-jpeg", type=int, default=0, metavar="Q",
                    help="save each template as JPEG at quality Q before the fit (0: as rendered)")
    ap.add_argument("--split", choices=("val", "train"), default="val")
    ap.add_argument("--cluster-support", type=float, default=FitSettings().cluster_support,
                    help="the least share of the neighbours' weight a cluster reading holds")
    ap.add_argument("--photos", type=int, default=1, help="learn each look from this many photos in it (fit A B C)")
    ap.add_argument("--scene", action="store_true", help="score each reading at each test photo's scene "
                    "similarity to the template, as apply and live grade with a .look.npz")
    ap.add_argument("--rows", help="write the measured rows (scores, differences) here")
    ap.add_argument("--from-rows", help="summarise these rows instead of measuring")
    ap.add_argument("--json", help="write the summary here")
    args = ap.parse_args(argv)
    if not 1 <= args.photos <= MAX_TEMPLATES:
        ap.error(f"--photos is 1 to {MAX_TEMPLATES}")
    if args.photos > 1 and (args.from_rows or args.json or args.template_jpeg or args.scene):
        ap.error("--photos measures afresh: --from-rows, --json, --template-jpeg and --scene are for one photo")
    if args.from_rows and args.scene:
        ap.error("--scene measures afresh (rows keep how they were scored)")
    t0 = time.time()
    if args.photos > 1:
        if not SHARED.is_dir():
            print(f"needs {SHARED}", file=sys.stderr)
            return 2
        rows = measure_several(args.photos, args.looks, args.side, log=lambda s: print(s, file=sys.stderr),
                               split=args.split)
        if args.rows:
            Path(args.rows).write_text(json.dumps({"rows": rows, "photos": args.photos}, indent=0))
        print(summarise_several(rows))
        return 0
    if args.from_rows:
        rows = json.loads(Path(args.from_rows).read_text())["rows"]
    else:
        if not SHARED.is_dir():
            print(f"needs {SHARED}", file=sys.stderr)
            return 2
        rows = measure(args.looks, args.side, log=lambda s: print(s, file=sys.stderr), jpeg=args.template_jpeg,
                       split=args.split, cluster_support=args.cluster_support, scene=args.scene)
        if args.rows:
            Path(args.rows).write_text(json.dumps({"rows": rows, "cluster_support": args.cluster_support}, indent=0))
    order = tuple(args.order.split(","))
    summary = summarise(rows, args.k, order, args.min_difference, args.monochrome_reading / 255)
    print(table(summary, args.k))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "protocol": __doc__.split("\n\n")[1], "k": args.k, "order": order, "min_difference": args.min_difference,
            "monochrome_reading": args.monochrome_reading, "template_jpeg": args.template_jpeg, "split": args.split,
            "scene": any(r.get("scene") for r in rows),
            "summary": summary, "seconds": round(time.time() - t0, 1),
            "machine": {"python": platform.python_version(), "platform": platform.platform()}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
