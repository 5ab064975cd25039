"""One downscale for the analysis networks' inputs (faces, segments, scene): a full frame -> a few hundred pixels.

cv2's INTER_AREA on a whole 1080p frame costs 9 ms whenever the ratio is not an integer (1920 -> 256), more than
the face detector itself (6 ms), while its exact 2:1 case is a fast path (1 ms at 1080p). So the image is halved
with it while it is at least twice the target, then area-averaged to the target: 2.5 ms, and still a true area
average. (Every k-th pixel instead was as fast, but kept the camera's noise: the person mask of a still frame with
noise then shimmered at its boundary twice as much, tools/degree_flicker.py.)
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
    while image.shape[1] >= 2 * w and image.shape[0] >= 2 * h:
        eh, ew = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2  # an odd last row / column is dropped
        image = cv2.resize(np.ascontiguousarray(image[:eh, :ew]), (ew // 2, eh // 2), interpolation=cv2.INTER_AREA)
    if image.shape[:2] == (h, w):
        return image
    interp = cv2.INTER_AREA if image.shape[1] > w or image.shape[0] > h else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(image), (w, h), interpolation=interp)


def shrink_to(image: np.ndarray, side: int) -> np.ndarray:
    """``image`` scaled so that its longer side is at most ``side`` (aspect kept); smaller images are returned."""
    ih, iw = image.shape[:2]
    s = side / max(ih, iw)
    if s >= 1:
        return np.ascontiguousarray(image)
    return shrink(image, (max(1, round(iw * s)), max(1, round(ih * s))))
