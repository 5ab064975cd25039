"""HaldCLUT images: a level-L Hald is an L^3 x L^3 image holding an L^2-sized 3D LUT, red fastest.

Pixel i = y * width + x holds the output for input index i = r + N g + N^2 b (N = L^2). 8- and 16-bit PNGs are
read (OpenCV keeps 16 bits); they are written as 16-bit PNG by default so that no precision is lost.

A square PNG whose side is L^3 may just as well be a photo (512x512, 1000x1000). What makes a Hald is its
content: it is a smooth colour map sampled on the identity lattice, so along each lattice axis the colour changes
over L nodes about as much as the L one-node steps between them add up to (exactly as much where the map is
monotone along the axis: a tone curve, however steep). In a photo the green axis's one-node step is N pixels along a
row and its L-node step the next row: the steps add up to far more. Measured per axis (an axis the map ignores, as a
black-and-white red-filter look ignores green and blue, left out), the worst axis's ratio: 1.00-1.38 on the 445
level-8 film and creative looks of ../shared/data, 1.00-1.08 on 115 looks that ignore channels (every channel from
red alone, 0.8 R + 0.2 B ...), 1.00 for tone curves (gamma 0.3, linear to PQ) at levels 2-16; 12.6-368 on 387
photos resized or cropped to 512x512, 17-518 at 729x729, 2.25-463 at 64x64. Under 2 is a Hald. (The ratio before it,
all lattice neighbours against the image's column neighbours, refused a look that ignores green; one-node against
L-node steps alone refused steep curves: linear to PQ at level 8.)
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
HALD_RATIO = 2.0  # the lattice ratio a Hald stays under (module doc: looks up to 1.38, photos from 2.25)


def hald_level(path: str | os.PathLike) -> int:
    """The Hald level from the image header (no decoding); raises :class:`LutFormatError` if the size is not one."""
    p = Path(path)
    if not p.is_file():
        raise LutFormatError("no such file", p)
    try:
        with Image.open(p) as im:
            w, h = im.size
    except PermissionError as exc:  # a file the user may not read is not "not an image"
        raise LutFormatError(f"cannot read ({exc.strerror})", p) from None
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
    """The worst lattice axis's ratio of the one-node steps' sum over L nodes to the L-node step (see the module
    doc); axes the colours do not change along are left out.

    ``img``: (L^3, L^3, 3) of any dtype. Uses at most 16 blue slices so a level-16 Hald costs no more than a
    level-8 one. Infinite for an image with no variation at all (a flat image is no colour map)."""
    n = level * level
    t = img.reshape(n, n, n, 3)  # [b, g, r]
    bs = np.arange(0, n - level, max(1, (n - level) // 16))
    a = t[bs].astype(np.float32)
    sums = []  # per axis: (the path's one-node steps over L nodes, the L-node step), at the same nodes
    for axis in (2, 1):  # red, green: within the blue slices
        steps = np.cumsum(np.abs(np.diff(a, axis=axis)), axis=axis)
        path = np.take(steps, np.arange(level - 1, n - 1), axis=axis) - np.concatenate(
            [np.zeros_like(np.take(steps, [0], axis=axis)), np.take(steps, np.arange(n - level - 1), axis=axis)],
            axis=axis)
        jump = np.abs(np.take(a, np.arange(level, n), axis=axis) - np.take(a, np.arange(n - level), axis=axis))
        sums.append((float(path.sum()), float(jump.sum())))
    path = sum(np.abs(t[bs + k + 1].astype(np.float32) - t[bs + k].astype(np.float32)) for k in range(level))
    sums.append((float(path.sum()), float(np.abs(t[bs + level].astype(np.float32) - a).sum())))  # blue
    top = max(max(p, j) for p, j in sums)
    ratios = [p / j if j > 0 else float("inf") for p, j in sums if max(p, j) > 1e-3 * top]
    return max(ratios) if top > 0 else float("inf")


def looks_like_hald(path: str | os.PathLike) -> bool:
    """True when ``path`` is a HaldCLUT by its size AND its content (a photo of a Hald-like size is not)."""
    try:
        level = hald_level(path)
        img = _decode(Path(path))
    except LutFormatError:
        return False
    return lattice_ratio(img, level) < HALD_RATIO


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
    if check_content and (ratio := lattice_ratio(img, level)) >= HALD_RATIO:
        raise LutFormatError(
            f"a {img.shape[1]}x{img.shape[0]} image that is not a HaldCLUT: its pixels are not a smooth colour "
            f"lattice (neighbour ratio {ratio:.2f}, a Hald is under {HALD_RATIO:g}); a photo?", p)
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
