"""Face boxes for face protection: MediaPipe Tasks FaceDetector (BlazeFace short range) on a downscaled frame.

The model file ships in models/ (see models/NOTICE; tools/fetch_models.py re-creates it): nothing is downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..render.checks import check_rgb
from ..resources import MODELS_DIR, REINSTALL
from .shrink import shrink_to
from .tasks import base_options, open_task

FACE_MODEL = MODELS_DIR / "face_detection_short_range.tflite"
DETECT_SIDE = 256  # the short-range model works on 128x128 input; a 256 px frame keeps small faces


class FaceDetector:
    """Detects faces in RGB uint8 frames; returns boxes (x0, y0, x1, y1) normalised to [0, 1]. ``close()`` (or a
    ``with`` block) frees the model at once; one left open is closed when collected or at exit (analysis.tasks)."""

    def __init__(self, model_path: str | os.PathLike = FACE_MODEL, min_confidence: float = 0.6):
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"face detection model is missing; {REINSTALL}", path)
        from mediapipe.tasks.python import vision

        opts = vision.FaceDetectorOptions(base_options=base_options(path),
                                          min_detection_confidence=min_confidence)
        self._det, self.close = open_task(self, lambda: vision.FaceDetector.create_from_options(opts),
                                          "face detection", path)

    def detect(self, frame_rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
        import mediapipe as mp

        small = shrink_to(check_rgb(np.asarray(frame_rgb), "RGB frame", empty=False), DETECT_SIDE)
        sh, sw = small.shape[:2]
        res = self._det.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=small))
        boxes = []
        for d in res.detections:
            b = d.bounding_box
            boxes.append((max(0.0, b.origin_x / sw), max(0.0, b.origin_y / sh),
                          min(1.0, (b.origin_x + b.width) / sw), min(1.0, (b.origin_y + b.height) / sh)))
        return boxes

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
