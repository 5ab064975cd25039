"""One downscale for the analysis networks' inputs (faces, segments, scene): a full frame -> a few hundred pixels.

cv2's INTER_AREA on a whole 1080p frame costs 9 ms whenever the ratio is not an integer (1920 -> 256), more than
the face detector itself (6 ms). An integer-stride view first (every k-th pixel, k = the whole part of the ratio)
and INTER_AREA on what is left costs 2 ms; the networks' small inputs (128-256 px) do not notice the difference.
"""

from __future__ import annotations

import cv2
import numpy as np


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` (H, W[, C]) -> (size[1], size[0][, C]), contiguous; an image already that size is returned as is."""
    w, h = int(size[0]), int(size[1])
    ih, iw = image.shape[:2]
    if (ih, iw) == (h, w):
        return np.ascontiguousarray(image)
    k = max(1, min(iw // max(w, 1), ih // max(h, 1)))
    if k >= 2:
        image = image[::k, ::k]
    interp = cv2.INTER_AREA if image.shape[1] > w or image.shape[0] > h else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(image), (w, h), interpolation=interp)


def shrink_to(image: np.ndarray, side: int) -> np.ndarray:
    """``image`` scaled so that its longer side is at most ``side`` (aspect kept); smaller images are returned."""
    ih, iw = image.shape[:2]
    s = side / max(ih, iw)
    if s >= 1:
        return np.ascontiguousarray(image)
    return shrink(image, (max(1, round(iw * s)), max(1, round(ih * s))))
