"""HaldCLUT images: a level-L Hald is an L^3 x L^3 image holding an L^2-sized 3D LUT, red fastest.

Pixel i = y * width + x holds the output for input index i = r + N g + N^2 b (N = L^2). 8- and 16-bit PNGs are
read (OpenCV keeps 16 bits); they are written as 16-bit PNG by default so that no precision is lost.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ..errors import LutFormatError, OutputError
from ..fileio import atomic_output
from ..lut import MAX_SIZE, Lut, resample


def read_hald(path: str | os.PathLike) -> Lut:
    """Read a HaldCLUT image of any level (2..16) into a :class:`Lut`."""
    p = Path(path)
    if not p.is_file():
        raise LutFormatError("no such file", p)
    img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise LutFormatError("not an image OpenCV can read", p)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    img = img[:, :, :3][:, :, ::-1]  # BGR(A) -> RGB
    h, w = img.shape[:2]
    level = round(w ** (1 / 3))
    if h != w or level**3 != w or level < 2:
        raise LutFormatError(
            f"a HaldCLUT is a square image of side L^3 (8, 27, 64, 125, 216, 343, 512...); got {w}x{h}", p)
    n = level * level
    if n > MAX_SIZE:
        raise LutFormatError(f"HaldCLUT level {level} is a {n}^3 LUT, over the {MAX_SIZE} limit", p)
    scale = 65535.0 if img.dtype == np.uint16 else 255.0
    table = (img.reshape(n, n, n, 3).astype(np.float32) / scale).transpose(2, 1, 0, 3)  # [b,g,r] -> [r,g,b]
    return Lut(table, title=p.stem)


def write_hald(path: str | os.PathLike, lut: Lut, level: int = 8, bits: int = 16, inputs: tuple = ()) -> Path:
    """Write ``lut`` as a level-``level`` HaldCLUT PNG (resampled to level^2 if its size differs)."""
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise OutputError("a HaldCLUT is written as .png", p)
    n = level * level
    src = lut.normalized()
    if src.size != n:
        src = resample(src, n)
    maxv, dtype = (65535, np.uint16) if bits == 16 else (255, np.uint8)
    data = np.clip(src.table.transpose(2, 1, 0, 3) * maxv + 0.5, 0, maxv).astype(dtype)
    side = level**3
    img = np.ascontiguousarray(data.reshape(side, side, 3)[:, :, ::-1])
    with atomic_output(p, inputs) as tmp:
        if not cv2.imwrite(str(tmp), img):
            raise OutputError("could not write the PNG", p)
    return p
