"""Frame-to-frame change of the rendering-degree map on the synthetic clip, with each analysis on.

The live pipeline's analysis is replayed at exactly 30 fps of clip time (a simulated clock, the scene evaluated
synchronously once a second, faces every 2nd frame as ``LivePipeline``'s default ``analysis_every=2``), so the
figures are the algorithm's and not the load of the machine that runs it (bench-live's ``degree_change`` measures
the same on a real run, where a loaded machine renders fewer frames and each step is larger). Per frame: the mean
and the maximum over the map of |d_t - d_(t-1)|; reported: their mean and 99th percentile over the frames.

Runs: faces only; scene only; faces + scene; faces + segments (on the clip, and on its first frame held still with
sensor-like noise, where every change is flicker) and faces + scene + segments (then also the change of the soft
person mask that mixes a per-segment look's LUTs, "mask_change"); and a scene cut (the clip of the bundled face for
5 s, then the same pan/zoom over another photo for 5 s, template = the bundled look's photo), where the scene
similarity falls
and the ramp shows. The visible level is tools/degree_visible.py's step (1 dE00 at the p99 pixel): read from
runs/degree_visible.json when that tool has run, else its shipped figure, VISIBLE_STEP.

    python tools/degree_flicker.py          # writes runs/degree_flicker.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from _shared_data import RUNS, save_json  # noqa: E402

FPS, SECONDS, SIZE = 30.0, 10, (1280, 720)
# tools/degree_visible.py's step for the bundled look (docs/decisions.md, 'visible degree step')
VISIBLE_STEP = 0.059


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def _steps(values) -> dict:
    means, maxes = np.array([v[0] for v in values]), np.array([v[1] for v in values])
    return {"mean_of_mean": round(float(means.mean()), 5), "p99_of_mean": round(float(np.percentile(means, 99)), 5),
            "mean_of_max": round(float(maxes.mean()), 5), "p99_of_max": round(float(np.percentile(maxes, 99)), 5),
            "max_of_max": round(float(maxes.max()), 5)}


def replay(faces: bool, scene_template, frames, segments: bool = False) -> dict:
    from livefilter.analysis import DegreeEstimator
    from livefilter.analysis.scene import SceneTracker
    from livefilter.analysis.segments import Segmenter

    clock = Clock()
    tracker = None
    if scene_template is not None:
        tracker = SceneTracker(clock=clock, threaded=False)
        tracker.set_template(scene_template)
    est = DegreeEstimator(face_protect=faces, scene=tracker, segmenter=Segmenter() if segments else None)
    steps, mask_steps, scores = [], [], []
    prev = prev_mask = None
    try:
        for i, frame in enumerate(frames):
            clock.t = i / FPS
            if i % 2 == 0:
                est.update(frame)
            d = est.degree
            d = np.ones((2, 2), np.float32) if d is None else d
            if prev is not None:
                a = prev if prev.shape == d.shape else np.full_like(d, float(prev.mean()))
                diff = np.abs(d - a)
                steps.append((float(diff.mean()), float(diff.max())))
            prev = d
            m = est.mask
            if segments and m is not None:
                if prev_mask is not None and prev_mask.shape == m.shape:
                    md = np.abs(m - prev_mask)
                    mask_steps.append((float(md.mean()), float(md.max())))
                prev_mask = m.copy()
            scores.append(est.scene_score)
    finally:
        est.close()
    out = {"frames": len(frames), **_steps(steps),
           "scene_score_first_last": [round(scores[0], 3), round(scores[-1], 3)],
           "scene_evaluations": None if tracker is None else tracker.evaluations}
    if segments:  # the soft person mask that mixes a per-segment look's LUTs: its change per frame, the same way
        out["mask_change"] = _steps(mask_steps)
    return out


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    from skimage import data

    from livefilter.live.sources import SyntheticSource
    from livefilter.resources import sample_path

    n = int(FPS * SECONDS)
    clip = SyntheticSource(SIZE, fps=FPS)
    face_frames = [clip.frame_at(i) for i in range(n)]
    other = SyntheticSource(SIZE, fps=FPS, image=data.coffee())
    cut = face_frames[: n // 2] + [other.frame_at(i) for i in range(n // 2, n)]
    rng = np.random.default_rng(0)
    still = [np.clip(face_frames[0] + rng.normal(0, 2, face_frames[0].shape), 0, 255).astype(np.uint8)
             for _ in range(n)]
    template = sample_path("sample_after.jpg")  # the bundled look's photo (bench-live --scene's template)
    unlike = data.coffee()  # a template unlike the clip (s about 0.93 against it), so the scene part is not 1
    runs = {
        "faces": replay(True, None, face_frames),
        "scene (template unlike the clip)": replay(False, unlike, face_frames),
        "faces + scene (template unlike the clip)": replay(True, unlike, face_frames),
        "faces + scene (bundled template, s = 1)": replay(True, template, face_frames),
        "scene cut at 5 s (bundled template)": replay(False, template, cut),
        "faces + segments": replay(True, None, face_frames, segments=True),
        # the same frame held still, with camera-like noise: every change of the mask is flicker, none is motion
        "faces + segments, still frame + noise (sigma 2)": replay(True, None, still, segments=True),
        "faces + scene + segments (bundled template)": replay(True, template, face_frames, segments=True),
    }
    visible = RUNS / "degree_visible.json"
    vis = json.loads(visible.read_text())["visible_degree_step"] if visible.is_file() else VISIBLE_STEP
    result = {"clip": f"SyntheticSource {SIZE[0]}x{SIZE[1]}, {SECONDS} s at {FPS:g} fps (simulated clock)",
              "visible_degree_step": vis, "runs": runs}
    save_json(result, RUNS / "degree_flicker.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
