"""Validate the scene similarity on hand-labelled photos and choose its curve.

tests/data/scene_labels.csv labels photos of ../shared/data/photos with a coarse scene group (people, nature,
water, city, indoor, food_objects, vehicles, animals), looked at by a person. For every pair of labelled photos
this reports the ROC AUC of s (same group = positive) and of the raw feature distance, the mean s of same-group
and different-group pairs, s of every photo against itself, a re-encoded copy (half size, JPEG quality 75) and
its mirror image, and the cost of one evaluation with onnxruntime on 1 and 2 threads.

The curve's near and far are chosen here (its floor, what an unrelated scene keeps of the look, against the
looks' accuracy: docs/decisions.md, 'scene floor'): near = the median distance of same-group pairs (half of the
compatible scenes get the full look, the rest most of it), far = the 90th percentile of different-group distances.

    python tools/eval_scene.py                                  # models/scene.onnx
    python tools/eval_scene.py --model a.onnx --model b.onnx    # compare exports (layer, size, fp16/fp32)
    python tools/eval_scene.py --sheet docs/scene_pairs.png     # also draw a few pairs with their scores
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from livefilter.analysis.scene import FLOOR, SceneFeatures, SceneModel, curve, feature_distance  # noqa: E402

PHOTOS = ROOT.parent / "shared" / "data" / "photos"
LABELS = ROOT / "tests" / "data" / "scene_labels.csv"


def auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula; ties count half."""
    from scipy.stats import rankdata

    r = rankdata(score)
    n1 = int(positive.sum())
    n0 = positive.size - n1
    return float((r[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def read_rgb(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"{path}: cannot read")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def reencoded(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    small = cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 75])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def s_of(a: SceneFeatures, b: SceneFeatures, near: float, far: float) -> float:
    return 1.0 if a.top == b.top else curve(feature_distance(a, b), near, far, FLOOR)


def cost_ms(model_path: Path, threads: int, img: np.ndarray, runs: int = 30) -> dict:
    m = SceneModel(model_path, threads=threads)
    small = m.prepare(img)
    for _ in range(5):
        m.describe(small)
    ts, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.thread_time()
        m.describe(small)
        ts.append((time.perf_counter() - t) * 1e3)
        cpu.append((time.thread_time() - c) * 1e3)
    # thread CPU time: with one intra-op thread onnxruntime runs on the caller's thread, so this is the work itself,
    # without the waits for a core that a shared machine adds to the wall time
    out = {"median_ms": round(float(np.median(ts)), 2), "p90_ms": round(float(np.percentile(ts, 90)), 2)}
    if threads == 1:
        out["thread_cpu_median_ms"] = round(float(np.median(cpu)), 2)
    return out


def evaluate(model_path: Path, rows: list[dict], images: dict) -> dict:
    m = SceneModel(model_path)
    feats = [m.describe(images[r["path"]]) for r in rows]
    mirror = [m.describe(np.ascontiguousarray(images[r["path"]][:, ::-1])) for r in rows]
    copies = [m.describe(reencoded(images[r["path"]])) for r in rows]
    groups = np.array([r["group"] for r in rows])
    n = len(rows)
    iu = np.triu_indices(n, 1)
    same = (groups[:, None] == groups[None, :])[iu]
    dist = np.array([feature_distance(feats[i], feats[j]) for i, j in zip(*iu)])
    top = np.array([feats[i].top == feats[j].top for i, j in zip(*iu)])
    near = float(np.median(dist[same]))
    far = float(np.percentile(dist[~same], 90))
    s = np.where(top, 1.0, np.array([curve(d, near, far, FLOOR) for d in dist]))
    s_self = [s_of(f, f, near, far) for f in feats]
    s_copy = [s_of(f, c, near, far) for f, c in zip(feats, copies)]
    s_mirror = [s_of(f, g, near, far) for f, g in zip(feats, mirror)]
    by_group = {}
    for g in sorted(set(groups)):
        pick = (groups[iu[0]] == g) & same
        other = ((groups[iu[0]] == g) | (groups[iu[1]] == g)) & ~same
        by_group[g] = {"photos": int((groups == g).sum()), "same_mean_s": round(float(s[pick].mean()), 3),
                       "vs_others_mean_s": round(float(s[other].mean()), 3)}
    return {
        "model": model_path.name, "bytes": model_path.stat().st_size, "input_side": m.side,
        "feature_channels": int(m.center.size), "class_part": int(m.prob_center.size),
        "photos": n, "pairs": int(same.size), "same_group_pairs": int(same.sum()),
        "auc_s": round(auc(same, s), 4), "auc_feature_distance": round(auc(same, -dist), 4),
        "top_class_agree": {"same_group": round(float(top[same].mean()), 4),
                            "different_group": round(float(top[~same].mean()), 4)},
        "curve": {"near": round(near, 4), "far": round(far, 4), "floor": FLOOR},
        "mean_s": {"same_group": round(float(s[same].mean()), 3), "different_group": round(float(s[~same].mean()), 3)},
        "self": {"min": float(min(s_self))},
        "reencoded_half_size_q75": {"min": round(float(min(s_copy)), 3), "mean": round(float(np.mean(s_copy)), 3),
                                    "share_ge_0.95": round(float(np.mean(np.array(s_copy) >= 0.95)), 3)},
        "mirror": {"min": round(float(min(s_mirror)), 3), "mean": round(float(np.mean(s_mirror)), 3),
                   "share_ge_0.9": round(float(np.mean(np.array(s_mirror) >= 0.9)), 3)},
        "by_group": by_group,
        "_pairs": (iu, s, same),
    }


def draw_sheet(out: Path, rows, images, result) -> None:
    """A few pairs with their s: the most and least similar same-group pairs and different-group pairs."""
    iu, s, same = result["_pairs"]
    rng = np.random.default_rng(3)
    picks = []
    for mask, label in ((same, "same group"), (~same, "different groups")):
        idx = np.flatnonzero(mask)
        order = idx[np.argsort(s[idx])]
        chosen = [order[-1], order[len(order) // 2], order[0]] + list(rng.choice(idx, 1))
        picks += [(k, label) for k in chosen]
    tile, pad, text = 160, 8, 34
    sheet = np.full((len(picks) // 2 * (tile + text + pad), 2 * (2 * tile + pad) + 3 * pad, 3), 255, np.uint8)
    for n, (k, label) in enumerate(picks):
        i, j = iu[0][k], iu[1][k]
        r, c = divmod(n, 2)
        y, x = r * (tile + text + pad), pad + c * (2 * tile + 2 * pad)
        for q, idx in enumerate((i, j)):
            img = images[rows[idx]["path"]]
            h, w = img.shape[:2]
            f = tile / max(h, w)
            small = cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
            sheet[y:y + small.shape[0], x + q * tile:x + q * tile + small.shape[1]] = small
        caption = f"s = {s[k]:.2f}  ({label}: {rows[i]['group']} / {rows[j]['group']})"
        cv2.putText(sheet, caption, (x, y + tile + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp.png")
    cv2.imwrite(str(tmp), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    tmp.replace(out)


def machine() -> dict:
    import os

    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "note": "shared machine: other engineers' jobs were running; the training job was paused while timing"}


def cost_report(models: list[Path], json_path: Path) -> int:
    """The cost of one frame's evaluation as the live worker pays it: the 1080p frame downscaled to the input
    side (cv2 INTER_AREA), then the network and the descriptor; 50 runs after 5 warm-up runs."""
    frame = np.random.default_rng(0).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    out = {"what": "median / p90 ms of SceneModel.prepare (1080p -> input side) and SceneModel.describe",
           "results": [], "machine": machine()}
    for mp in models:
        m = SceneModel(mp, threads=1)
        ts = []
        for i in range(55):
            t = time.perf_counter()
            m.prepare(frame)
            if i >= 5:
                ts.append((time.perf_counter() - t) * 1e3)
        out["results"].append({"model": mp.name, "input_side": m.side,
                               "downscale_1080p": {"median_ms": round(float(np.median(ts)), 2)},
                               **{f"describe_{t}_threads": cost_ms(mp, t, frame, runs=50) for t in (1, 2)}})
    print(json.dumps(out, indent=1))
    json_path = json_path.with_name("scene_cost.json") if json_path.name == "scene_eval.json" else json_path
    tmp = json_path.with_name(f".{json_path.name}.tmp")
    tmp.write_text(json.dumps(out, indent=1))
    tmp.replace(json_path)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, action="append", help="ONNX file(s) (default: models/scene.onnx)")
    ap.add_argument("--photos", type=Path, default=PHOTOS)
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--json", type=Path, default=ROOT / "runs" / "scene_eval.json")
    ap.add_argument("--sheet", type=Path, help="write a contact sheet of pairs with their s (PNG)")
    ap.add_argument("--no-cost", action="store_true", help="skip the timing")
    ap.add_argument("--cost-only", action="store_true",
                    help="only time one evaluation (1 and 2 threads, and the 1080p frame's downscale)")
    args = ap.parse_args(argv)
    if not args.photos.is_dir():
        raise SystemExit(f"{args.photos}: the shared photos are needed (../shared/data/photos)")
    models = args.model or [ROOT / "models" / "scene.onnx"]
    if args.cost_only:
        return cost_report(models, args.json)
    rows = list(csv.DictReader(args.labels.open()))
    images = {r["path"]: read_rgb(args.photos / r["path"]) for r in rows}
    results = []
    for mp in models:
        res = evaluate(mp, rows, images)
        if not args.no_cost:
            img = images[rows[0]["path"]]
            res["cost_per_evaluation"] = {f"{t}_threads": cost_ms(mp, t, img) for t in (1, 2)}
        if args.sheet and mp == models[0]:
            draw_sheet(args.sheet, rows, images, res)
        del res["_pairs"]
        results.append(res)
        print(json.dumps(res, indent=1))
    out = {"labels": str(args.labels.relative_to(ROOT)), "results": results, "machine": machine()}
    out["machine"]["note"] = "shared machine: other engineers' jobs and a training job were running"
    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.json.with_name(f".{args.json.name}.tmp")
    tmp.write_text(json.dumps(out, indent=1))
    tmp.replace(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
