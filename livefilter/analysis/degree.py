"""The rendering degree map (docs/method.md section 4): how much of the look each pixel gets.

d = scene score everywhere, lowered on faces: each face box is extended by 20 % and split into 5 x 5 blocks;
each block gets a protection level p from a 2D Gaussian centred on the box, and d = scene * (1 - strength * p).
The blocks' values are interpolated between their centres (down to 0 at the extended box's edge) with a
cubic spline whose slope is 0 at the edges (continuous slope everywhere, clipped to [0, 1]), so the map shows
neither block seams nor the creases of linear interpolation; because the Gaussian is separable, that
interpolation is the outer product of two 1D ones. The map is computed at low resolution (the renderer
upsamples it inside the render pass) and smoothed in time (face boxes are tracked and eased, the map is
blended over updates) so that detection jitter does not flicker.
"""

from __future__ import annotations

import threading

import numpy as np
from scipy.interpolate import CubicSpline

from .faces import FaceDetector
from .segments import Segmenter

BLOCKS = 5
EXTEND = 0.20
SIGMA = 0.5  # of the Gaussian, in units of the extended box's half size
GRID_STEP = 8  # the degree map has one value per 8 x 8 frame pixels


def block_profile(blocks: int = BLOCKS, sigma: float = SIGMA) -> tuple[np.ndarray, np.ndarray]:
    """1D node positions (in [-1, 1] across the extended box) and protection values: the block centres'
    Gaussian values with 0 at both edges."""
    centres = (np.arange(blocks) + 0.5) / blocks * 2 - 1
    nodes = np.concatenate([[-1.0], centres, [1.0]])
    values = np.concatenate([[0.0], np.exp(-0.5 * (centres / sigma) ** 2), [0.0]])
    return nodes, values


_PROFILE = CubicSpline(*block_profile(), bc_type="clamped")


def _profile(u: np.ndarray) -> np.ndarray:
    out = np.zeros_like(u)
    inside = np.abs(u) < 1
    out[inside] = np.clip(_PROFILE(u[inside]), 0.0, 1.0)
    return out


def grid_shape(frame_h: int, frame_w: int, step: int = GRID_STEP) -> tuple[int, int]:
    """The degree map's size for a frame: one cell per ``step`` pixels, at least 2 a side but never more than the
    frame (the renderers take no larger map: a photo 1 pixel high failed with a look that has its scene)."""
    return (min(frame_h, max(2, -(-frame_h // step))), min(frame_w, max(2, -(-frame_w // step))))


def face_protection(boxes, shape: tuple[int, int], weights=None) -> np.ndarray:
    """Protection p in [0, 1] on a grid of ``shape`` from face boxes (x0, y0, x1, y1) normalised to [0, 1].

    ``weights`` (one per box, 0..1) scales each face's protection (used to fade faces in and out).
    """
    gh, gw = shape
    p = np.zeros((gh, gw), np.float32)
    if boxes is None or len(boxes) == 0:
        return p
    ys = (np.arange(gh) + 0.5) / gh
    xs = (np.arange(gw) + 0.5) / gw
    for k, (x0, y0, x1, y1) in enumerate(np.asarray(boxes, dtype=np.float64)):
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hw, hh = (x1 - x0) * (1 + EXTEND) / 2, (y1 - y0) * (1 + EXTEND) / 2
        if hw <= 0 or hh <= 0:
            continue
        px = _profile((xs - cx) / hw)
        py = _profile((ys - cy) / hh)
        w = 1.0 if weights is None else float(weights[k])
        np.maximum(p, (w * np.outer(py, px)).astype(np.float32), out=p)
    return p


def degree_map(boxes, shape, *, scene: float = 1.0, face_strength: float = 1.0, weights=None) -> np.ndarray:
    """d = scene * (1 - face_strength * p): float32 (gh, gw) in [0, 1]."""
    p = face_protection(boxes, shape, weights)
    return np.clip(scene * (1.0 - face_strength * p), 0.0, 1.0).astype(np.float32)


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class FaceTracker:
    """Smooths face boxes over time: matched boxes are eased toward new detections (exponential smoothing),
    new faces fade in and lost faces are held, then fade out, so the degree map never jumps."""

    def __init__(self, smoothing: float = 0.5, fade_in: int = 3, hold: int = 10, fade_out: int = 5):
        self.smoothing = smoothing
        self.fade_in, self.hold, self.fade_out = fade_in, hold, fade_out
        self.tracks: list[dict] = []

    def update(self, detections, settled: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Feed one analysis step's boxes (normalised x0, y0, x1, y1); returns (boxes, weights) to render.
        ``settled``: new faces were already there (the first frame of a file), so they start fully faded in."""
        dets = [np.asarray(d, dtype=np.float64) for d in (detections or [])]
        used = set()
        for t in self.tracks:
            best, best_iou = None, 0.3
            for i, d in enumerate(dets):
                if i not in used and (iou := _iou(t["box"], d)) > best_iou:
                    best, best_iou = i, iou
            if best is None:
                t["missed"] += 1
            else:
                used.add(best)
                t["box"] = t["box"] + (1 - self.smoothing) * (dets[best] - t["box"])
                t["missed"] = 0
                t["age"] += 1
        for i, d in enumerate(dets):
            if i not in used:
                self.tracks.append({"box": d, "missed": 0, "age": self.fade_in if settled else 1})
        self.tracks = [t for t in self.tracks if t["missed"] <= self.hold + self.fade_out]
        boxes = np.array([t["box"] for t in self.tracks]).reshape(-1, 4)
        weights = np.array([self._weight(t) for t in self.tracks])
        return boxes, weights

    def _weight(self, t) -> float:
        w = min(1.0, t["age"] / self.fade_in)
        if t["missed"] > self.hold:
            w *= max(0.0, 1.0 - (t["missed"] - self.hold) / self.fade_out)
        return w

    def reset(self) -> None:
        self.tracks = []


class DegreeSmoother:
    """Blends successive degree maps (exponential smoothing) so that changes ease in over a few updates."""

    def __init__(self, alpha: float = 0.5):
        self.alpha = alpha
        self.state: np.ndarray | None = None

    def update(self, d: np.ndarray) -> np.ndarray:
        if self.state is None or self.state.shape != d.shape:
            self.state = d.astype(np.float32, copy=True)
        else:
            self.state += self.alpha * (d - self.state)
        return self.state


class DegreeEstimator:
    """frame -> rendering degree map, from every analysis that is on (docs/method.md section 4).

    d = scene * (1 - face_strength * p_face), smoothed over updates. The parts:
    - faces: a detector (created on first use unless given) -> :class:`FaceTracker` -> protection p;
    - scene: a :class:`~livefilter.analysis.scene.SceneTracker` (optional) whose ``value`` is the template/frame
      scene similarity, evaluated in its own background thread about once a second, with hysteresis;
    - segments: (reserved) a per-segment part will multiply in here, before the smoothing.

    ``update(frame)`` is called by the analysis worker (or synchronously by ``LivePipeline.process``); it returns
    the new map (float32, one value per ``GRID_STEP`` x ``GRID_STEP`` pixels) or None when d would be 1
    everywhere (the renderer then skips the blend). Each update makes a new array, so a reader can keep the
    one it got: the render loop swaps maps by reference.
    """

    def __init__(self, *, face_protect: bool = True, face_strength: float = 1.0, face_detector=None, scene=None,
                 smoothing: float = 0.5, segmenter=None):
        self.face_protect = bool(face_protect)
        self.face_strength = float(face_strength)
        self.scene = scene
        self._detector = face_detector
        self._owns_detector = face_detector is None
        self._tracker = FaceTracker()
        self._smoother = DegreeSmoother(smoothing)
        self._degree: np.ndarray | None = None
        self._boxes = np.zeros((0, 4))
        #: segments: a Segmenter (analysis/segments.py) while the look has per-segment LUTs, else None
        self.segmenter = segmenter
        self._mask: np.ndarray | None = None
        # held while the segmenter is in use: turning segments off (the look worker) waits for an update in
        # progress (the analysis worker) before it closes the segmenter
        self._seg_lock = threading.Lock()

    # --- what the pipeline and the CLI read -------------------------------------------------------------------
    @property
    def degree(self) -> np.ndarray | None:
        """The latest degree map (float32 (gh, gw) in [0, 1]), or None for "the full look everywhere"."""
        return self._degree

    @property
    def boxes(self) -> np.ndarray:
        """The tracked face boxes behind the latest map: (n, 4) normalised x0, y0, x1, y1."""
        return self._boxes

    @property
    def mask(self) -> np.ndarray | None:
        """The latest soft person mask for a per-segment look, (1, mh, mw) float32 (the mask render takes for
        the 2 LUTs background / person), or None while segments are off."""
        return self._mask if self.segmenter is not None else None

    def set_segments(self, on: bool) -> None:
        """Segment the frames (a look with per-segment LUTs is live) or not. The segmenter loads a model: call
        this from a background thread (the look worker), not the render loop."""
        if on and self.segmenter is None:
            new = Segmenter()  # loads a model: outside the lock
            with self._seg_lock:
                new, self.segmenter = (None, new) if self.segmenter is None else (new, self.segmenter)
            if new is not None:  # another thread turned segments on meanwhile
                new.close()
        elif not on and self.segmenter is not None:
            with self._seg_lock:
                seg, self.segmenter, self._mask = self.segmenter, None, None
            if seg is not None:
                seg.close()

    @property
    def scene_score(self) -> float:
        """The scene similarity the latest map used (1.0 when the scene analysis is off or has no template)."""
        return 1.0 if self.scene is None else float(self.scene.value)

    # --- control ----------------------------------------------------------------------------------------------
    def set_face_protect(self, on: bool) -> None:
        self.face_protect = bool(on)
        if not on:
            self._tracker.reset()

    def ensure_detector(self) -> None:
        """Create the face detector now (it loads a model: done at start, not on the first frame)."""
        if self.face_protect and self._detector is None:
            self._detector = FaceDetector()

    def warm_up(self) -> None:
        """Run the face detector once on a blank frame (its first call takes a second or more)."""
        if self.face_protect and self._detector is not None:
            self._detector.detect(np.zeros((64, 64, 3), np.uint8))

    @property
    def detector(self):
        """The face detector in use (None until created)."""
        return self._detector

    def update(self, frame: np.ndarray, settled: bool = False) -> np.ndarray | None:
        """Analyse one RGB uint8 frame and return the new degree map (see the class docstring). ``settled``: the
        faces found now were already there (the first frame of a file): protected at once, not faded in."""
        shape = grid_shape(*frame.shape[:2], GRID_STEP)
        if self.face_protect:
            self.ensure_detector()
            boxes, weights = self._tracker.update(self._detector.detect(frame), settled=settled)
        else:
            boxes, weights = np.zeros((0, 4)), np.zeros(0)
        scene = 1.0
        if self.scene is not None:
            self.scene.offer(frame)  # hands the frame to the scene worker when an evaluation is due; never waits
            scene = float(self.scene.value)
        with self._seg_lock:
            seg = self.segmenter
            if seg is not None:  # the frame's soft person mask, temporally smoothed; the renderer mixes the LUTs by it
                self._mask = seg.update(frame)[None]
        if len(boxes) == 0 and scene >= 1.0 and (self._degree is None or self._degree.min() >= 0.999):
            self._boxes, self._degree = boxes, None
            self._smoother.state = None
            return None
        d = degree_map(boxes, shape, scene=scene, face_strength=self.face_strength, weights=weights)
        self._boxes = boxes
        self._degree = self._smoother.update(d).copy()  # a new array each time: readers swap by reference
        return self._degree

    def close(self) -> None:
        """Stop the scene worker, close the segmenter and the face detector if this estimator created it. Safe
        twice."""
        if self.scene is not None:
            self.scene.close()
        self.set_segments(False)
        if self._owns_detector and self._detector is not None:
            self._detector.close()
            self._detector = None
