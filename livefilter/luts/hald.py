"""HaldCLUT images: a level-L Hald is an L^3 x L^3 image holding an L^2-sized 3D LUT, red fastest.

Pixel i = y * width + x holds the output for input index i = r + N g + N^2 b (N = L^2). 8- and 16-bit PNGs are
read (OpenCV keeps 16 bits); they are written as 16-bit PNG by default so that no precision is lost.

A square PNG whose side is L^3 may just as well be a photo (512x512, 1000x1000). What makes a Hald is its
content: it is a smooth colour map sampled on the identity lattice, so neighbours on the lattice (r, g, b steps)
are much closer in colour than neighbours in the image's columns (L steps of g apart). Measured on the 445
level-8 film and creative looks of ../shared/data: lattice / column difference ratio 0.03-0.22 (median 0.066);
on 676 photos resized or cropped to 512x512: 1.2-17 (median 3.1). A ratio under 4 / L (0.5 at level 8) is a Hald.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import LutFormatError, OutputError
from ..fileio import atomic_output
from .lut import MAX_SIZE, Lut

MAX_LEVEL = 16  # level 16 = a 256^3 LUT in a 4096x4096 image, the largest LUT size we take
EXTS = (".png", ".tif", ".tiff")


def hald_level(path: str | os.PathLike) -> int:
    """The Hald level from the image header (no decoding); raises :class:`LutFormatError` if the size is not one."""
    p = Path(path)
    if not p.is_file():
        raise LutFormatError("no such file", p)
    try:
        with Image.open(p) as im:
            w, h = im.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise LutFormatError(f"not an image that can be read ({type(exc).__name__})", p) from None
    level = round(w ** (1 / 3)) if w > 0 else 0
    if h != w or level**3 != w or level < 2:
        raise LutFormatError(
            f"a HaldCLUT is a square image of side L^3 (8, 27, 64, 125, 216, 343, 512...); got {w}x{h}", p)
    if level > MAX_LEVEL:
        raise LutFormatError(f"HaldCLUT level {level} ({w}x{h}) is a {level * level}^3 LUT, over the {MAX_SIZE} "
                             "limit", p)
    return level


def lattice_ratio(img: np.ndarray, level: int) -> float:
    """Mean colour difference between lattice neighbours / between column neighbours (see the module doc).

    ``img``: (L^3, L^3, 3) of any dtype. Uses at most 16 blue slices so a level-16 Hald costs no more than a
    level-8 one. Infinite for an image with no variation at all (a flat image is no colour map)."""
    n = level * level
    t = img.reshape(n, n, n, 3)  # [b, g, r]
    rows_per_slice = level  # one blue slice is n * n pixels = L rows of L^3
    bs = np.arange(0, n - 1, max(1, (n - 1) // 16))
    a = t[bs].astype(np.float32)
    lat = (np.abs(np.diff(a, axis=2)).mean() + np.abs(np.diff(a, axis=1)).mean()
           + np.abs(t[bs + 1].astype(np.float32) - a).mean()) / 3
    rows = np.concatenate([np.arange(b * rows_per_slice, (b + 1) * rows_per_slice + 1) for b in bs])
    rows = rows[rows < img.shape[0]]
    col = np.abs(np.diff(img[rows].astype(np.float32), axis=0))
    step = np.diff(rows) == 1  # only true vertical neighbours
    col = col[step].mean() if step.any() else 0.0
    return float(lat / col) if col > 0 else float("inf")


def looks_like_hald(path: str | os.PathLike) -> bool:
    """True when ``path`` is a HaldCLUT by its size AND its content (a photo of a Hald-like size is not)."""
    try:
        level = hald_level(path)
        img = _decode(Path(path))
    except LutFormatError:
        return False
    return lattice_ratio(img, level) < 4.0 / level


def _decode(p: Path) -> np.ndarray:
    img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)  # libpng's and libtiff's own lines: nativelogs keeps them off
    if img is None:
        raise LutFormatError("a damaged image, or one OpenCV cannot read", p)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return img[:, :, :3][:, :, ::-1]  # BGR(A) -> RGB


def read_hald(path: str | os.PathLike, *, check_content: bool = True) -> Lut:
    """Read a HaldCLUT image of any level (2..16) into a :class:`Lut`.

    The size is checked from the header before anything is decoded (a huge image is refused at once). With
    ``check_content`` an image whose pixels are not a smooth colour lattice (a photo) is refused."""
    p = Path(path)
    level = hald_level(p)
    img = _decode(p)
    if check_content and (ratio := lattice_ratio(img, level)) >= 4.0 / level:
        raise LutFormatError(
            f"a {img.shape[1]}x{img.shape[0]} image that is not a HaldCLUT: its pixels are not a smooth colour "
            f"lattice (neighbour ratio {ratio:.2f}, a Hald is under {4.0 / level:.2f}); a photo?", p)
    n = level * level
    scale = 65535.0 if img.dtype == np.uint16 else 255.0
    table = (img.reshape(n, n, n, 3).astype(np.float32) / scale).transpose(2, 1, 0, 3)  # [b,g,r] -> [r,g,b]
    return Lut(table, title=p.stem)


def write_hald(path: str | os.PathLike, lut: Lut, level: int = 8, bits: int = 16, inputs: tuple = ()) -> Path:
    """Write ``lut`` as a level-``level`` HaldCLUT PNG: the LUT (shaper and domain included) evaluated at the
    Hald's level^2-per-axis nodes over [0, 1]."""
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise OutputError("a HaldCLUT is written as .png", p)
    n = level * level
    if lut.unit_domain and lut.shaper is None and lut.size == n:
        table = lut.table
    else:
        table = lut.unit_table(n)
    maxv, dtype = (65535, np.uint16) if bits == 16 else (255, np.uint8)
    data = np.clip(table.transpose(2, 1, 0, 3) * maxv + 0.5, 0, maxv).astype(dtype)
    side = level**3
    img = np.ascontiguousarray(data.reshape(side, side, 3)[:, :, ::-1])
    ok, png = cv2.imencode(".png", img)  # in memory: a write error is Python's (with its reason), not libpng's line
    if not ok:
        raise OutputError("could not encode the PNG", p)
    with atomic_output(p, inputs) as tmp:
        tmp.write_bytes(png.tobytes())
    return p
