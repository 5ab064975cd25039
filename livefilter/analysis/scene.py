"""Scene similarity between the template and the frame (docs/method.md section 4): the degree outside faces.

A scene network (models/scene.onnx: ImageNet EfficientNet-Lite0, see models/NOTICE and
tools/export_scene_model.py) gives each image its ImageNet class scores and an intermediate feature map (the
output of block 14, 192 channels at 1/32 scale: the best of the layers measured). The descriptor is two unit
vectors, concatenated and normalised: the map average-pooled (which also makes it nearly blind to mirroring) and
centred, and the square roots of the class probabilities, centred. The centres are the means over a reference
photo set, stored in the model's metadata: without centring every cosine is high, because all photos' features
share a large common part (AUC 0.850 centred against 0.78, 0.858 with the class part: docs/decisions.md, 'scene
descriptor'). Then

    s = 1                                 when both images get the same top class,
    s = curve(|f_a - f_b| / 2)            otherwise (the normalised feature distance, in [0, 1]),

where ``curve`` is 1 up to ``near``, falls linearly to ``floor`` at ``far`` and stays there: a different but
compatible scene keeps most of the look, an unrelated one keeps ``floor`` of it. ``near`` and ``far`` were chosen
by tools/eval_scene.py on hand-labelled photos (tests/data/scene_labels.csv): docs/decisions.md, 'scene curve'; the
validation is in docs/quality.md. ``floor`` is a trade: every cut costs accuracy on other photos (a look's true
grade is the same on every scene), so an unrelated scene keeps 80 % (docs/decisions.md, 'scene floor').

Live, :class:`SceneTracker` holds the template's features (computed once per look) and evaluates the frame about
once a second in its own low-priority thread; hysteresis (a change must exceed ``band`` on ``confirm`` evaluations
in a row) and a rate limit on the applied value keep the look from pumping.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..render.checks import check_rgb
from ..resources import REINSTALL, model_path
from .shrink import shrink

log = logging.getLogger(__name__)

SCENE_MODEL = "scene.onnx"
#: the similarity curve: NEAR and FAR chosen by tools/eval_scene.py (see the module docstring); FLOOR, what an
#: unrelated scene keeps of the look, by the looks' accuracy on other photos (docs/decisions.md, 'scene floor')
NEAR, FAR, FLOOR = 0.64, 0.73, 0.8
#: the live hysteresis band: a sixth of the curve's range, the 0.1 chosen on the 0.4..1 range (docs/decisions.md,
#: 'scene hysteresis'), kept in proportion so that the same change of scene moves the target
BAND = (1.0 - FLOOR) / 6.0
#: what the cut means for a look that keeps its template's scene, as apply and info say it
UNLIKE_NOTE = (f"a photo or a frame unlike the template's gets {FLOOR * 100:.0f} to 100 % of the look "
               "(--no-scene: all of it)")
#: onnxruntime threads of the live tracker's own model, at nice 19 so the render loop keeps its cores: 11.7 ms an
#: evaluation against 20.4 on one thread (docs/decisions.md, 'scene threads')
LIVE_THREADS = 2


@dataclass(frozen=True)
class SceneFeatures:
    """What the scene network says about one image: its top ImageNet class and its unit feature vector."""

    top: int
    feature: np.ndarray  # float32 (C,), unit length

    def to_meta(self) -> dict:
        """JSON-able form, kept in a .look.npz's metadata (the template's scene, for live's scene similarity)."""
        return {"top": self.top, "feature": [round(float(v), 6) for v in self.feature], "model": SCENE_MODEL}

    @classmethod
    def from_meta(cls, d: dict) -> SceneFeatures:
        return cls(top=int(d["top"]), feature=np.asarray(d["feature"], dtype=np.float32))


def curve(distance: float, near: float = NEAR, far: float = FAR, floor: float = FLOOR) -> float:
    """Normalised feature distance (0..1) -> similarity: 1 up to ``near``, linear to ``floor`` at ``far``."""
    t = min(max((far - distance) / max(far - near, 1e-9), 0.0), 1.0)
    return float(floor + (1.0 - floor) * t)


def similarity(a: SceneFeatures, b: SceneFeatures, **curve_kw) -> float:
    """s in [0, 1] for two images' features (see the module docstring)."""
    if a.top == b.top:
        return 1.0
    return curve(feature_distance(a, b), **curve_kw)


def feature_distance(a: SceneFeatures, b: SceneFeatures) -> float:
    """|f_a - f_b| / 2 for unit vectors: 0 (same direction) .. 1 (opposite)."""
    return float(np.clip(np.linalg.norm(a.feature - b.feature) / 2.0, 0.0, 1.0))


class SceneModel:
    """The scene network run with onnxruntime on the CPU (``threads`` intra-op threads)."""

    def __init__(self, path: str | os.PathLike | None = None, threads: int = 1):
        import onnxruntime as ort

        self.path = Path(path) if path is not None else model_path(SCENE_MODEL)
        if not self.path.is_file():
            raise ModelError(f"scene model is missing; {REINSTALL}", self.path)
        so = ort.SessionOptions()
        so.intra_op_num_threads = max(1, int(threads))
        so.inter_op_num_threads = 1
        # idle pool threads sleep instead of spinning: once a second they would otherwise busy-wait on a render core
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(self.path), so, providers=["CPUExecutionProvider"])
            meta = self._session.get_modelmeta().custom_metadata_map
            self.side = int(meta["livefilter.input_side"])
            self.center = np.asarray(json.loads(meta["livefilter.feature_center"]), np.float32)
            self.prob_center = np.asarray(json.loads(meta["livefilter.prob_center"]), np.float32)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types for corrupt files; KeyError: no metadata
            raise ModelError(f"scene model cannot be loaded ({exc}); {REINSTALL}", self.path) from None
        self._lock = threading.Lock()  # one run at a time: an InferenceSession is not meant to be re-entered

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """RGB uint8 (H, W, 3) of any size -> the network's input side, uint8 (the whole image, squashed)."""
        if image.shape[:2] == (self.side, self.side):
            return image
        return shrink(image, (self.side, self.side))  # the whole image, squashed

    def describe(self, image: np.ndarray) -> SceneFeatures:
        """Top class and unit feature vector of an RGB uint8 image (no mirror-image average: pooling alone keeps
        a mirror image's s >= 0.9 on the labelled photos; docs/decisions.md, 'scene descriptor')."""
        scores, fmap = self._run(self.prepare(np.ascontiguousarray(image[..., :3])))
        logits = scores[0].astype(np.float64)
        e = np.exp(logits - logits.max())
        parts = [fmap.mean(axis=(2, 3)).mean(axis=0) - self.center, np.sqrt(e / e.sum()) - self.prob_center]
        f = np.concatenate([v / max(float(np.linalg.norm(v)), 1e-12) for v in parts]) / np.sqrt(2.0)
        return SceneFeatures(top=int(logits.argmax()), feature=f.astype(np.float32))

    def pooled_features(self, small: np.ndarray) -> np.ndarray:
        """The intermediate feature map, average-pooled and not centred, float32 (C,), of a uint8 RGB image already
        at the network's input size (the look prior's input, livefilter.look.prior)."""
        _, fmap = self._run(small[..., :3])
        return fmap.mean(axis=(2, 3))[0].astype(np.float32)

    def _run(self, small: np.ndarray):
        """(class scores, feature map) of a uint8 RGB image at the network's input size."""
        x = (small.astype(np.float32) * (1.0 / 255.0)).transpose(2, 0, 1)[None]
        with self._lock:
            return self._session.run(None, {"image": np.ascontiguousarray(x)})


_DEFAULT: SceneModel | None = None
_DEFAULT_LOCK = threading.Lock()


def default_model() -> SceneModel:
    """The shipped scene model, loaded once per process."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = SceneModel()
        return _DEFAULT


def _lowest_priority() -> None:
    try:  # Linux: nice is per thread, and threads started by this one inherit it
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


def background_model(threads: int) -> SceneModel:
    """A scene model of its own whose onnxruntime threads all run at the lowest CPU priority: the session (and its
    thread pool, which inherits the creating thread's priority) is made on a short-lived nice-19 thread."""
    box: dict = {}

    def make():
        _lowest_priority()
        try:
            box["model"] = SceneModel(threads=threads)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            box["error"] = exc

    t = threading.Thread(target=make, name="lf-scene-init", daemon=True)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["model"]


def _as_image(x) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return check_rgb(x, "RGB image", alpha=True, empty=False)
    from ..imageio import read_image

    return read_image(x)  # uint8 RGB whatever the file holds


def scene_similarity(a, b, *, model: SceneModel | None = None) -> float:
    """How alike two images' scenes are, in [0, 1] (1: the same top class or near features; see
    :mod:`livefilter.analysis.scene`). ``a``, ``b``: RGB uint8 (H, W, 3) arrays or image file paths."""
    m = model or default_model()
    return similarity(m.describe(_as_image(a)), m.describe(_as_image(b)))


class SceneTracker:
    """Scene similarity of the live frames to the current template, cheap to read and steady.

    ``set_template`` computes the template's features once (call it from a background thread: it runs the
    network). ``offer(frame)`` is called for every analysed frame; about every ``interval`` seconds it hands a
    downscaled copy to the tracker's worker thread (never waits). The worker's raw s changes the target only when
    it differs from the target by more than ``band`` on ``confirm`` evaluations in a row (hysteresis); ``value``
    moves toward the target by at most ``rate`` per second (no step, no pumping). No template: ``value`` is 1.
    ``threads`` > 1 (and no ``model``): the tracker runs a model of its own on that many onnxruntime threads, all at
    the lowest priority (:func:`background_model`); 1: the process's shared model, on the worker thread alone.
    """

    def __init__(self, model: SceneModel | None = None, *, interval: float = 1.0, band: float = BAND,
                 confirm: int = 2, rate: float = 0.5, clock=time.monotonic, threaded: bool = True,
                 jump_first: bool = False, threads: int = 1):
        self._model = model
        self.threads = max(1, min(int(threads), os.cpu_count() or 1))
        self.interval, self.band, self.confirm, self.rate = float(interval), float(band), int(confirm), float(rate)
        self._clock = clock
        self._threaded = threaded
        # the first evaluation against a template: live eases toward it (a look swap must not step); a file at
        # rest starts at it (its first frame was never shown with another value)
        self.jump_first = bool(jump_first)
        self._lock = threading.Lock()
        self._template: SceneFeatures | None = None
        self._target = 1.0
        self._from, self._t_from = 1.0, clock()  # the ramp: value goes from _from (at _t_from) toward _target
        self._pending = 0
        self._first = True
        self._last_offer = -np.inf
        self.raw: float | None = None  # the latest evaluation, before hysteresis
        self.evaluations = 0
        self.eval_ms: list[float] = []
        self._job = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def model(self) -> SceneModel:
        if self._model is None:
            self._model = default_model() if self.threads == 1 else background_model(self.threads)
        return self._model

    # --- the template -------------------------------------------------------------------------------------
    def set_template(self, image) -> SceneFeatures:
        """Compute and keep the template's features (an RGB uint8 array, a path or :class:`SceneFeatures`)."""
        model = self.model  # loaded here, on the caller's background thread, not by the first offer()
        feats = image if isinstance(image, SceneFeatures) else model.describe(_as_image(image))
        with self._lock:
            self._template = feats
            self._pending, self._first = 0, True
            self._last_offer = -np.inf  # evaluate the next frame against the new template
        return feats

    def clear_template(self) -> None:
        """No template (a look file without one): s eases back to 1."""
        with self._lock:
            self._template = None
            self._retarget(1.0)

    @property
    def has_template(self) -> bool:
        return self._template is not None

    # --- the frames ---------------------------------------------------------------------------------------
    def offer(self, frame: np.ndarray) -> None:
        """Maybe evaluate this frame (about once per ``interval``); returns at once."""
        now = self._clock()
        if self._template is None or now - self._last_offer < self.interval:
            return
        if self._threaded and self._job is not None:
            return  # the previous evaluation is still running: skip this one
        self._last_offer = now
        small = self.model.prepare(frame)  # a copy at the network's size: the caller may reuse its buffer
        if not self._threaded:
            self._evaluate(small)
            return
        self._job = small
        if self._thread is None:
            self._thread = threading.Thread(target=self._worker, name="lf-scene", daemon=True)
            self._thread.start()
        self._wake.set()

    def _worker(self) -> None:
        _lowest_priority()  # the scene evaluation must never delay the render loop
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            job = self._job
            if job is None:
                continue
            try:
                self._evaluate(job)
            except Exception as exc:  # noqa: BLE001 - a failed evaluation keeps the last value
                log.warning("scene analysis failed on a frame: %s", exc)
            finally:
                self._job = None

    def _evaluate(self, small: np.ndarray) -> None:
        t = time.perf_counter()
        feats = self.model.describe(small)
        self.eval_ms.append((time.perf_counter() - t) * 1e3)
        del self.eval_ms[:-100]
        template = self._template
        if template is None:
            return
        self.update_raw(similarity(template, feats))

    def update_raw(self, s: float) -> None:
        """Feed one evaluation's s through the hysteresis (public for tests and offline use)."""
        with self._lock:
            self.raw, self.evaluations = float(s), self.evaluations + 1
            if self._first:  # the first evaluation against a new template sets the target at once
                self._first, self._pending = False, 0
                self._retarget(s)
                if self.jump_first:
                    self._from = float(s)
            elif abs(s - self._target) > self.band:
                self._pending += 1
                if self._pending >= self.confirm:
                    self._pending = 0
                    self._retarget(s)
            else:
                self._pending = 0

    def _retarget(self, s: float) -> None:
        now = self._clock()
        self._from, self._t_from = self._value_at(now), now
        self._target = float(s)

    def _value_at(self, now: float) -> float:
        step = self.rate * max(now - self._t_from, 0.0)
        if self._target >= self._from:
            return min(self._target, self._from + step)
        return max(self._target, self._from - step)

    @property
    def target(self) -> float:
        return self._target

    @property
    def value(self) -> float:
        """The s to render with now: on its way to the target at no more than ``rate`` per second."""
        return self._value_at(self._clock())

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
