import csv
import os
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

import livefilter as lf
from livefilter.analysis.scene import (
    FLOOR,
    NEAR,
    SceneFeatures,
    SceneModel,
    SceneTracker,
    curve,
    default_model,
    feature_distance,
    similarity,
)
from livefilter.errors import ModelError

from ..conftest import ROOT

PHOTOS = ROOT.parent / "shared" / "data" / "photos"
LABELS = ROOT / "tests" / "data" / "scene_labels.csv"


def unit(v):
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v)


def feats(top, v):
    return SceneFeatures(top=top, feature=unit(v))


@pytest.fixture(scope="module")
def model():
    return default_model()


@pytest.fixture(scope="module")
def images():
    from skimage import data

    return {"chelsea": data.chelsea(), "coffee": data.coffee(), "astronaut": data.astronaut(),
            "rocket": data.rocket()}


# --- the curve and the rule (no model) -------------------------------------------------------------------------
def test_curve_is_one_near_floor_far_and_monotone():
    ds = np.linspace(0, 1, 201)
    s = np.array([curve(d) for d in ds])
    assert np.all(s[ds <= NEAR] == 1.0) and np.all(np.isclose(s[ds >= 0.8], FLOOR))
    assert np.all(np.diff(s) <= 1e-12) and s.min() >= FLOOR and s.max() <= 1.0


def test_same_top_class_is_one_else_the_curve_of_the_distance():
    a, b = feats(3, [1, 0, 0]), feats(3, [0, 1, 0])
    assert similarity(a, b) == 1.0
    c = feats(4, [0, 1, 0])
    assert np.isclose(feature_distance(a, c), np.sqrt(2) / 2)
    assert np.isclose(similarity(a, c), curve(np.sqrt(2) / 2))
    assert similarity(a, feats(5, [-1, 0, 0])) == FLOOR  # opposite features: the floor, never 0


# --- hysteresis (a fake clock, no model) ------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def tracker(clock, **kw):
    tr = SceneTracker(model=object(), clock=clock, threaded=False, **kw)
    tr.set_template(feats(1, [1, 0]))
    return tr


def test_no_template_is_one():
    tr = SceneTracker(model=object(), threaded=False)
    assert tr.value == 1.0 and not tr.has_template
    tr.offer(np.zeros((8, 8, 3), np.uint8))  # nothing to compare with: no evaluation, no model call
    assert tr.evaluations == 0


def test_hysteresis_ignores_wiggles_and_needs_confirmation():
    clock = Clock()
    tr = tracker(clock, band=0.1, confirm=2, rate=0.5)
    tr.update_raw(0.6)  # the first evaluation after a template sets the target
    assert tr.target == 0.6
    for s in (0.65, 0.55, 0.68, 0.52, 0.6):  # within the band: the target never moves
        tr.update_raw(s)
        assert tr.target == 0.6
    tr.update_raw(0.9)  # one outlier is not enough
    assert tr.target == 0.6
    tr.update_raw(0.6)
    tr.update_raw(0.9)
    assert tr.target == 0.6  # the count restarts after a value inside the band
    tr.update_raw(0.95)
    assert tr.target == 0.95  # two in a row beyond the band


def test_value_ramps_at_the_rate_never_steps():
    clock = Clock()
    tr = tracker(clock, rate=0.5)
    tr.update_raw(0.4)
    assert tr.value == 1.0  # no step: the ramp starts from the current value
    values = []
    for _ in range(60):  # 2 s at 30 fps
        clock.t += 1 / 30
        values.append(tr.value)
    steps = np.abs(np.diff([1.0] + values))
    assert steps.max() <= 0.5 / 30 + 1e-9
    assert np.isclose(values[-1], 0.4)
    tr.clear_template()  # a look without a photo: back to 1, ramped too
    clock.t += 0.2
    assert np.isclose(tr.value, 0.5) and tr.target == 1.0


def test_offer_evaluates_about_once_per_interval():
    class Fake:
        side = 8
        calls = 0

        def prepare(self, img):
            return img[:8, :8].copy()

        def describe(self, img):
            Fake.calls += 1
            return feats(1, [1, 0])

    clock = Clock()
    tr = SceneTracker(model=Fake(), clock=clock, threaded=False, interval=1.0)
    tr.set_template(feats(1, [1, 0]))
    for _ in range(90):  # 3 s of frames at 30 fps
        tr.offer(np.zeros((16, 16, 3), np.uint8))
        clock.t += 1 / 30
    assert 3 <= Fake.calls <= 4 and tr.value == 1.0


def test_threaded_worker_evaluates_in_the_background(model, images):
    tr = SceneTracker(model=model, interval=0.0)
    try:
        tr.set_template(images["chelsea"])
        _one_evaluation_of(tr, images["chelsea"])
    finally:
        tr.close()


def _one_evaluation_of(tr, image):
    tr.offer(image)
    for _ in range(500):
        if tr.evaluations:
            break
        time.sleep(0.02)
    assert tr.evaluations == 1 and tr.raw == 1.0



def _nice_of_threads() -> dict[int, int]:
    out = {}
    for stat in Path("/proc/self/task").glob("*/stat"):
        try:
            out[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[16])
        except (OSError, IndexError, ValueError):
            pass  # a thread that ended meanwhile
    return out


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="per-thread priorities are read from Linux /proc")
def test_live_tracker_runs_its_own_model_on_two_low_priority_threads(model, images):
    before, mine = _nice_of_threads(), os.getpriority(os.PRIO_PROCESS, 0)
    tr = SceneTracker(threads=2, interval=0.0)
    try:
        tr.set_template(images["chelsea"])  # the model is made here, not by the first offer()
        new = {t: n for t, n in _nice_of_threads().items() if t not in before}
        assert tr.model is not default_model()
        assert new and all(n == 19 for n in new.values()), new  # the onnxruntime pool threads, at nice 19
        assert tr.threads == min(2, os.cpu_count() or 1)
        assert os.getpriority(os.PRIO_PROCESS, 0) == mine  # the caller's own priority is untouched
        _one_evaluation_of(tr, images["chelsea"])
    finally:
        tr.close()

# --- the shipped model ------------------------------------------------------------------------------------------
def test_same_image_reencoded_and_mirrored(model, images):
    for name, img in images.items():
        a = model.describe(img)
        assert similarity(a, a) == 1.0
        h, w = img.shape[:2]
        small = cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 75])
        assert similarity(a, model.describe(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED))) >= 0.95, name
        assert similarity(a, model.describe(np.ascontiguousarray(img[:, ::-1]))) >= 0.9, name


def test_public_api_takes_arrays_and_paths(images, tmp_path):
    p = tmp_path / "cat.png"
    cv2.imwrite(str(p), cv2.cvtColor(images["chelsea"], cv2.COLOR_RGB2BGR))
    assert lf.scene_similarity(p, images["chelsea"]) == 1.0
    s = lf.scene_similarity(images["chelsea"], images["rocket"])
    assert FLOOR <= s < 1.0
    for bad in (np.zeros((4, 4), np.float32), np.zeros((4, 4), np.uint8), np.zeros((0, 0, 3), np.uint8)):
        with pytest.raises(lf.InputError, match=r"expected a uint8 \(H, W, 3\) RGB image, got"):  # (0, 0, 3): cv2.error
            lf.scene_similarity(bad, images["rocket"])


def test_missing_or_broken_model_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="reinstall"):
        SceneModel(tmp_path / "nope.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot be loaded"):
        SceneModel(bad)


@pytest.mark.skipif(not (PHOTOS.is_dir() and LABELS.is_file()), reason="needs ../shared/data/photos")
def test_labelled_groups_are_ordered(model):
    """On 5 hand-labelled photos per group: same-group pairs score clearly higher than different-group pairs on
    average (the full validation, AUC and all, is tools/eval_scene.py)."""
    rows = list(csv.DictReader(LABELS.open()))
    per: dict[str, list[str]] = {}
    for r in rows:
        if len(per.setdefault(r["group"], [])) < 5:
            per[r["group"]].append(r["path"])
    items = [(g, model.describe(cv2.cvtColor(cv2.imread(str(PHOTOS / Path(p))), cv2.COLOR_BGR2RGB)))
             for g, ps in per.items() for p in ps]
    same, diff = [], []
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            (same if items[i][0] == items[j][0] else diff).append(similarity(items[i][1], items[j][1]))
    assert np.mean(same) > np.mean(diff) + (1.0 - FLOOR) / 6  # a sixth of the curve's range


def test_a_look_file_keeps_its_templates_scene(tmp_path):
    """fit -o LOOK.look.npz stores the template's scene features; live with that look file compares the frames
    with them (s is no longer 1 for an unrelated scene), as it does with the template photo itself."""
    from livefilter.analysis.scene import SceneFeatures, default_model
    from livefilter.cli import main
    from livefilter.live.pipeline import LivePipeline
    from livefilter.live.sinks import NullSink
    from livefilter.live.sources import SyntheticSource

    from ..conftest import SAMPLES

    out = tmp_path / "look.look.npz"
    assert main(["fit", str(SAMPLES / "sample_after.jpg"), "--original", str(SAMPLES / "sample_before.jpg"),
                 "-o", str(out)]) == 0
    look = lf.load_look(out)
    feats = SceneFeatures.from_meta(look.meta["scene"])
    want = default_model().describe(lf.read_image(SAMPLES / "sample_after.jpg"))
    assert feats.top == want.top and np.abs(feats.feature - want.feature).max() < 1e-5
    with LivePipeline(SyntheticSource((64, 48)), [NullSink()], look=out, backend="cpu", face_protect=False) as p:
        assert p.estimator.scene.has_template
    with LivePipeline(SyntheticSource((64, 48)), [NullSink()], look=lf.Look(lut=look.lut), backend="cpu",
                      face_protect=False) as p:
        assert not p.estimator.scene.has_template  # a look without a scene: s stays 1


def test_a_look_fitted_in_python_keeps_its_templates_scene(tmp_path):
    """fit_look from one photo keeps the template's scene as `fit -o .look.npz` does (a Python user's look was met
    at s = 1 by apply and live); scene=False, several photos and a video's stills keep none."""
    from livefilter.analysis.scene import SceneFeatures, default_model
    from livefilter.live.pipeline import LivePipeline
    from livefilter.live.sinks import NullSink
    from livefilter.live.sources import SyntheticSource

    from ..conftest import SAMPLES

    after = lf.read_image(SAMPLES / "sample_after.jpg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        look = lf.fit_look(after, candidates=2)
        plain = lf.fit_look(after, candidates=1, scene=False)
        several = lf.fit_look([after, lf.read_image(SAMPLES / "sample_test.jpg")])
    want = default_model().describe(after)
    feats = SceneFeatures.from_meta(look.meta["scene"])
    assert feats.top == want.top and np.abs(feats.feature - want.feature).max() < 1e-5
    look.pick(2).save(tmp_path / "l.look.npz")
    assert lf.load_look(tmp_path / "l.look.npz").meta["scene"] == look.meta["scene"]  # picked and saved: kept
    assert "scene" not in plain.meta and "scene" not in several.meta
    kept = []
    for given in (look, SAMPLES / "sample_after.jpg"):  # the Look object and the photo: the same template scene
        with LivePipeline(SyntheticSource((64, 48)), [NullSink()], look=given, backend="cpu",
                          face_protect=False) as p:
            kept.append(p.estimator.scene._template)
    assert all(k is not None and k.top == want.top and np.abs(k.feature - want.feature).max() < 1e-5 for k in kept)
