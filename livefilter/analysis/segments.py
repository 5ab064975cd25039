"""Person / background segments: MediaPipe Tasks ImageSegmenter with the selfie segmentation model.

The model file ships in models/ (see models/NOTICE; tools/fetch_models.py re-creates it): nothing is downloaded.
The segmenter runs on a copy of the frame downscaled to SEGMENT_SIDE (the model's input is 256x256 or 256x144), so
its cost does not grow with the frame; the soft mask it returns stays at that small size and is upsampled inside
the render pass (livefilter.render.render_segments), and between two updates the last mask is simply reused.

Categories: label 0 is the background, label 1 the person. A mask is the person's weight in [0, 1] per pixel.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError, ModelError
from ..fileio import Closable
from ..render.checks import check_rgb
from ..resources import REINSTALL, model_path
from .shrink import shrink_to
from .tasks import base_options, open_task

SEGMENT_MODEL = model_path("selfie_segmentation.tflite")
CATEGORIES = ("background", "person")  # label -> name; the look files and .cube names use these
BACKGROUND, PERSON = 0, 1
SEGMENT_SIDE = 256  # the model's input side; a larger copy only costs resizing inside MediaPipe
# Feathering: the model's confidence already falls off over a few pixels; a Gaussian of FEATHER x the mask's long
# side softens it further, so two looks meet without a seam and a mask that is a pixel off leaves no halo.
FEATHER = 0.01
# Temporal smoothing: each update keeps (1 - SMOOTHING) of the new mask and SMOOTHING of the previous one, so the
# boundary does not shimmer from frame to frame; a new scene is reached within a few updates.
SMOOTHING = 0.5
# ... after a dead band: a pixel's change smaller than DEADBAND is not followed (the change beyond it is), so camera
# noise does not make a still boundary shimmer (a still frame with noise of sigma 2 code values: the largest step
# per update was 0.18 at the p99 frame without it, tools/degree_flicker.py), while a moving person is followed.
DEADBAND = 0.1


class Segmenter(Closable):
    """Soft person masks of RGB uint8 images, (h, w) float32 in [0, 1] at the segmenter's small size.

    ``mask(rgb)`` segments one image (no memory of earlier ones); ``update(frame)`` is the video form: the mask is
    blended with the previous update's (``smoothing``) when the frame size is unchanged. Close it (or use it as a
    context manager) to free the model at once; one left open is closed when collected or at exit (analysis.tasks).
    """

    def __init__(self, path: str | os.PathLike = SEGMENT_MODEL, *, side: int = SEGMENT_SIDE,
                 feather: float = FEATHER, smoothing: float = SMOOTHING, deadband: float = DEADBAND):
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"segmentation model is missing; {REINSTALL}", path)
        if not 0.0 <= smoothing < 1.0:
            raise InputError(f"smoothing must be in [0, 1), got {smoothing}")
        from mediapipe.tasks.python import vision

        opts = vision.ImageSegmenterOptions(base_options=base_options(path),
                                            output_confidence_masks=True, output_category_mask=False)
        self._seg, self.close = open_task(self, lambda: vision.ImageSegmenter.create_from_options(opts),
                                          "segmentation", path)
        self.side, self.feather, self.smoothing, self.deadband = side, feather, smoothing, float(deadband)
        self._last: np.ndarray | None = None

    def mask(self, rgb: np.ndarray) -> np.ndarray:
        """The person mask of one uint8 (H, W, 3) RGB image, float32 (h, w) with h, w <= SEGMENT_SIDE."""
        import mediapipe as mp

        if not self.close.alive:
            raise RuntimeError("the segmenter is closed")
        rgb = check_rgb(np.asarray(rgb), "RGB image", empty=False)
        small = shrink_to(rgb, self.side)
        res = self._seg.segment(mp.Image(image_format=mp.ImageFormat.SRGB, data=small))
        m = np.array(res.confidence_masks[0].numpy_view(), dtype=np.float32).reshape(small.shape[:2])
        sigma = self.feather * max(m.shape)
        if sigma > 0.3:
            m = cv2.GaussianBlur(m, (0, 0), sigma)
        return np.clip(m, 0.0, 1.0, out=m)

    def update(self, frame: np.ndarray) -> np.ndarray:
        """The mask of the next video frame, temporally smoothed; a new array each time (safe to hand on)."""
        m = self.mask(frame)
        prev = self._last
        if prev is not None and prev.shape == m.shape:
            d = m - prev
            if self.deadband > 0:
                d = np.sign(d) * np.maximum(np.abs(d) - np.float32(self.deadband), np.float32(0.0))
            m = prev + d * np.float32(1.0 - self.smoothing)
        self._last = m
        return m

    def reset(self) -> None:
        """Forget the previous mask (a cut, a new source)."""
        self._last = None


def person_mask(rgb: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """The soft person mask of one image (a Segmenter opened and closed), at ``size`` (h, w) if given."""
    with Segmenter() as seg:
        m = seg.mask(rgb)
    return resize_mask(m, size) if size is not None else m


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A soft mask resized (bilinear, pixel centres aligned) to (h, w)."""
    h, w = size
    if mask.shape == (h, w):
        return mask
    return cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)


def labels_of(mask: np.ndarray) -> np.ndarray:
    """The hard label map (PERSON where the person's weight is at least 1/2, else BACKGROUND), int32."""
    return (np.asarray(mask) >= 0.5).astype(np.int32)
