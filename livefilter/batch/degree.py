"""Frame -> rendering degree for files at rest: the one place the batch package asks for a degree map.

It wires the live pipeline's machinery (``faces.FaceDetector`` -> ``degree.FaceTracker`` -> ``degree.degree_map``
-> ``degree.DegreeSmoother``) the way ``LivePipeline._update_degree`` does, so a graded file gets the same
rendering degree as the live view. It is deterministic (a function of the frames alone, never of timing), which
the Ray runner needs to give the local run's bytes. When ``livefilter.analysis.DegreeEstimator`` lands, this class
becomes a thin wrapper around its ``update(frame)``.
"""

from __future__ import annotations

import numpy as np

from ..degree import GRID_STEP, DegreeSmoother, FaceTracker, degree_map, grid_shape


class FrameDegree:
    """``update(frame)`` -> float32 low-resolution degree map in [0, 1], or None (the full look everywhere).

    Faces are detected every ``every``-th frame (2, as live); the frames between reuse the last map. ``reset()``
    starts a new run (a new file or a new chunk): faces found on its first frame are protected at once instead of
    fading in, so a chunk boundary does not flash a face with the full look.
    """

    def __init__(self, face_protect: bool = True, *, face_strength: float = 1.0, every: int = 2,
                 scene_score: float = 1.0, detector=None):
        self.face_protect = bool(face_protect)
        self.face_strength, self.scene_score = float(face_strength), float(scene_score)
        self.every = max(1, int(every))
        self._detector = detector
        self._owns_detector = detector is None
        self.reset()

    def reset(self) -> None:
        self._tracker, self._smoother = FaceTracker(), DegreeSmoother()
        self._degree: np.ndarray | None = None
        self._n = 0

    def update(self, frame: np.ndarray) -> np.ndarray | None:
        first = self._n == 0
        self._n += 1
        if (self._n - 1) % self.every:
            return self._degree
        if self.face_protect and self._detector is None:
            from ..faces import FaceDetector

            self._detector = FaceDetector()
        if self.face_protect:
            boxes, weights = self._tracker.update(self._detector.detect(frame))
            if first:  # a face on the first frame of a run was already there: protect it fully from frame 0
                for t in self._tracker.tracks:
                    t["age"] = self._tracker.fade_in
                weights = np.ones(len(boxes))
        else:
            boxes, weights = np.zeros((0, 4)), np.zeros(0)
        if len(boxes) == 0 and self.scene_score >= 1.0 and (self._degree is None or self._degree.min() >= 0.999):
            self._degree, self._smoother.state = None, None
            return None
        d = degree_map(boxes, grid_shape(*frame.shape[:2], GRID_STEP), scene=self.scene_score,
                       face_strength=self.face_strength, weights=weights)
        self._degree = self._smoother.update(d).copy()
        return self._degree

    def close(self) -> None:
        if self._owns_detector and self._detector is not None:
            self._detector.close()
            self._detector = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
