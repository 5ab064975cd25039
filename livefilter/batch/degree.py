"""Frame -> rendering degree for files at rest: the one place the batch package asks for a degree map.

A thin wrapper around the live view's :class:`~livefilter.analysis.DegreeEstimator` (faces -> tracker -> degree
map -> smoothing), so a graded file gets the same rendering degree as the live view. Two differences, both for
files: it is deterministic (a function of the frames alone, never of timing: the Ray runner must give the local
run's bytes), and a face already on the first frame of a run is protected at once instead of fading in (a chunk
boundary must not flash a face with the full look). For a per-segment look (``segments=True``) it also gives the
frame's soft person mask (:attr:`mask`), temporally smoothed within a run. The scene part (``scene``: the template's
:class:`~livefilter.analysis.scene.SceneFeatures`, which a .look.npz from ``fit`` carries) runs in the caller's
thread on the VIDEO's clock (the frames' timestamps): evaluated about once a second of video, with the live view's
hysteresis and ramp, so the result depends on the frames alone.
"""

from __future__ import annotations

import numpy as np

from ..analysis import DegreeEstimator
from ..analysis.scene import SceneFeatures, SceneTracker
from ..analysis.segments import Segmenter


def scene_of(look):
    """The template's scene features a look carries (a .look.npz from ``fit``), or None: the degree outside faces
    then follows the scene similarity, for photos and videos alike. None for a black-and-white look, which every
    picture gets whole (:attr:`~livefilter.look.Look.monochrome`)."""
    if "scene" not in look.meta or look.monochrome:
        return None

    return SceneFeatures.from_meta(look.meta["scene"])


def photo_degree(look, face_protect: bool = True) -> FrameDegree:
    """The degree state that grades photos with ``look``: faces every photo, the look's scene if it has one."""
    return FrameDegree(protects_faces(look, face_protect), every=1, scene=scene_of(look))


def protects_faces(look, face_protect: bool = True) -> bool:
    """Whether faces get less of ``look``: not of a black-and-white one (a share of it left a face in colour in a
    grey picture)."""
    return bool(face_protect) and not look.monochrome


class FrameDegree:
    """``update(frame)`` -> float32 low-resolution degree map in [0, 1], or None (the full look everywhere).

    Faces are detected every ``every``-th frame (2, as live); the frames between reuse the last map. ``reset()``
    starts a new run (a new file or a new chunk). ``turns``: a video's display rotation in counter-clockwise quarter
    turns (as players show it): faces, people and the scene are looked for in the frame turned upright, and the maps
    turned back to the stored frame's orientation (a phone's portrait video is stored sideways: its faces were looked
    for lying on their side, which the face detector finds less often and less fully, and never upside down).
    """

    def __init__(self, face_protect: bool = True, *, face_strength: float = 1.0, every: int = 2, detector=None,
                 segments: bool = False, scene=None, turns: int = 0):
        self.turns = int(turns) % 4
        self.face_protect = bool(face_protect)
        self.scene_features = scene
        self._now = 0.0
        self._segmenter = None
        if segments:
            self._segmenter = Segmenter()
        self.face_strength = float(face_strength)
        self.every = max(1, int(every))
        self._detector = detector
        self._owns_detector = detector is None
        self._estimator: DegreeEstimator | None = None
        self.reset()

    def reset(self) -> None:
        if self._estimator is not None and self._estimator.detector is not None:
            self._detector = self._estimator.detector  # keep the loaded model across runs
        if self._segmenter is not None:
            self._segmenter.reset()  # a new run: no smoothing across a chunk boundary
        tracker = None
        if self.scene_features is not None:
            tracker = SceneTracker(threaded=False, clock=lambda: self._now, jump_first=True)
            tracker.set_template(self.scene_features)
        self._estimator = DegreeEstimator(face_protect=self.face_protect, face_strength=self.face_strength,
                                          face_detector=self._detector, segmenter=self._segmenter, scene=tracker)
        self._n = 0

    @property
    def scene_score(self) -> float | None:
        """The scene similarity the latest frame was graded at; None for a look without its template's scene."""
        if self.scene_features is None or self._estimator is None:
            return None
        return self._estimator.scene_score

    @property
    def faces(self) -> int:
        """How many faces got less of the look in the latest frame."""
        return 0 if self._estimator is None else len(self._estimator.boxes)

    @property
    def mask(self) -> np.ndarray | None:
        """The latest soft person mask, (1, mh, mw) float32, for a per-segment look; None otherwise."""
        return self._turned_back(self._estimator.mask, axes=(1, 2))

    def update(self, frame: np.ndarray, t: float | None = None) -> np.ndarray | None:
        """``t``: the frame's time in seconds (the scene part's clock; frames counted at 30 fps without it)."""
        self._now = self._n / 30.0 if t is None else float(t)
        first = self._n == 0
        self._n += 1
        est = self._estimator
        if (self._n - 1) % self.every:
            return self._turned_back(est.degree)
        if self.turns:
            frame = np.ascontiguousarray(np.rot90(frame, self.turns))
        return self._turned_back(est.update(frame, settled=first))

    def _turned_back(self, a: np.ndarray | None, axes=(0, 1)) -> np.ndarray | None:
        """A map of the upright frame in the stored frame's orientation (a new array: readers swap by reference)."""
        if a is None or not self.turns:
            return a
        return np.ascontiguousarray(np.rot90(a, -self.turns, axes=axes))

    def close(self) -> None:
        det = self._estimator.detector if self._estimator is not None else self._detector
        if self._owns_detector and det is not None:
            det.close()
        if self._segmenter is not None:
            self._segmenter.close()
            self._segmenter = None
        self._detector = self._estimator = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
