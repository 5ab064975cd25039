"""Adobe/Resolve .cube files (Cube LUT Specification 1.0).

Rules kept here: keywords before data; ``TITLE "..."``; ``LUT_3D_SIZE`` 2..256 (or ``LUT_1D_SIZE`` 2..65536,
not both); ``DOMAIN_MIN``/``DOMAIN_MAX`` (min < max per channel); ``#`` comments and blank lines anywhere;
data rows of three numbers, red index fastest. Resolve's ``LUT_3D_INPUT_RANGE lo hi`` is read as a domain.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..errors import LutFormatError
from ..fileio import atomic_output
from ..lut import MAX_SIZE, MIN_SIZE, Lut

MAX_1D = 65536
# A 1D LUT becomes a 3D one (exact at the nodes along each axis) of at most this size.
MAX_1D_AS_3D = 65


def read_cube(path: str | os.PathLike) -> Lut:
    """Read a .cube file into a :class:`Lut` (a 1D .cube becomes the equivalent 3D LUT)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig", errors="strict")
    except FileNotFoundError:
        raise LutFormatError("no such file", p) from None
    except (UnicodeDecodeError, IsADirectoryError):
        raise LutFormatError("not a text .cube file", p) from None
    title = ""
    size3 = size1 = None
    dmin, dmax = [0.0] * 3, [1.0] * 3
    rows: list[tuple[float, float, float]] = []
    first_data_line = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("TITLE") else raw.strip()
        if not line:
            continue
        head = line.split(None, 1)[0]
        if not _is_number(head):
            if rows:
                raise LutFormatError(f"text in the data rows: {line!r}", p, lineno)
            arg = line[len(head):].strip()
            if head == "TITLE":
                title = arg.strip('"')
            elif head in ("LUT_3D_SIZE", "LUT_1D_SIZE"):
                try:
                    n = int(arg)
                except ValueError:
                    raise LutFormatError(f"{head} needs an integer, got {arg!r}", p, lineno) from None
                if head == "LUT_3D_SIZE":
                    if not MIN_SIZE <= n <= MAX_SIZE:
                        raise LutFormatError(f"LUT_3D_SIZE must be {MIN_SIZE}..{MAX_SIZE}, got {n}", p, lineno)
                    size3 = n
                else:
                    if not 2 <= n <= MAX_1D:
                        raise LutFormatError(f"LUT_1D_SIZE must be 2..{MAX_1D}, got {n}", p, lineno)
                    size1 = n
            elif head in ("DOMAIN_MIN", "DOMAIN_MAX"):
                vals = _floats(arg, p, lineno, head)
                (dmin if head == "DOMAIN_MIN" else dmax)[:] = vals
            elif head in ("LUT_3D_INPUT_RANGE", "LUT_1D_INPUT_RANGE"):
                vals = _floats(arg, p, lineno, head, count=2)
                dmin[:], dmax[:] = [vals[0]] * 3, [vals[1]] * 3
            else:
                raise LutFormatError(f"unknown keyword {head!r}", p, lineno)
            continue
        if first_data_line is None:
            first_data_line = lineno
        rows.append(tuple(_floats(line, p, lineno, "data row")))
    if size3 is not None and size1 is not None:
        raise LutFormatError("has both LUT_1D_SIZE and LUT_3D_SIZE; a .cube holds one LUT", p)
    if size3 is None and size1 is None:
        raise LutFormatError("no LUT_3D_SIZE or LUT_1D_SIZE line", p)
    if not all(hi > lo for lo, hi in zip(dmin, dmax)):
        raise LutFormatError(f"DOMAIN_MIN {dmin} must be below DOMAIN_MAX {dmax} in every channel", p)
    expected = size3**3 if size3 is not None else size1
    if len(rows) != expected:
        kind = f"LUT_3D_SIZE {size3} needs {expected}" if size3 else f"LUT_1D_SIZE {size1} needs {expected}"
        raise LutFormatError(f"{kind} data rows, found {len(rows)}", p)
    data = np.asarray(rows, dtype=np.float64)
    if not np.isfinite(data).all():
        bad = int(np.argmax(~np.isfinite(data).all(axis=1)))
        raise LutFormatError("NaN or infinite value in the data", p, first_data_line + bad if first_data_line else None)
    if size3 is not None:
        table = data.reshape(size3, size3, size3, 3).transpose(2, 1, 0, 3)  # file is [b, g, r]
    else:
        table = _one_d_to_3d(data, dmin, dmax)
    return Lut(table.astype(np.float32), title=title, domain_min=tuple(dmin), domain_max=tuple(dmax))


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _floats(text: str, path, lineno: int, what: str, count: int = 3) -> list[float]:
    parts = text.split()
    if len(parts) != count:
        raise LutFormatError(f"{what} needs {count} numbers, got {text!r}", path, lineno)
    try:
        vals = [float(v) for v in parts]
    except ValueError:
        raise LutFormatError(f"{what} has text where numbers belong: {text!r}", path, lineno) from None
    if not all(math.isfinite(v) for v in vals):
        raise LutFormatError(f"NaN or infinite value in {what}: {text!r}", path, lineno)
    return vals


def _one_d_to_3d(curves: np.ndarray, dmin, dmax) -> np.ndarray:
    """A per-channel 1D LUT as the 3D table over the same domain (exact at the 3D nodes)."""
    n1 = curves.shape[0]
    n3 = min(n1, MAX_1D_AS_3D)
    pos = np.linspace(0.0, n1 - 1, n3)
    per = [np.interp(pos, np.arange(n1), curves[:, c]) for c in range(3)]
    r_, g_, b_ = np.meshgrid(per[0], per[1], per[2], indexing="ij")
    return np.stack([r_, g_, b_], axis=-1)


def format_cube(lut: Lut, comments: list[str] | tuple = ()) -> str:
    """The text of a .cube file for ``lut`` (``%.6f`` values, red fastest)."""
    n = lut.size
    title = (lut.title or "livefilter look").replace('"', "'")
    head = [f"# {c}" for c in comments]
    head += [f'TITLE "{title}"', f"LUT_3D_SIZE {n}"]
    head += ["DOMAIN_MIN {:.6f} {:.6f} {:.6f}".format(*lut.domain_min)]
    head += ["DOMAIN_MAX {:.6f} {:.6f} {:.6f}".format(*lut.domain_max)]
    data = lut.table.transpose(2, 1, 0, 3).reshape(-1, 3).astype(np.float64)
    body = "\n".join(f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in data)
    return "\n".join(head) + "\n" + body + "\n"


def write_cube(path: str | os.PathLike, lut: Lut, comments=(), inputs: tuple = ()) -> Path:
    """Write ``lut`` as a .cube file atomically."""
    text = format_cube(lut, comments)
    with atomic_output(path, inputs) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
