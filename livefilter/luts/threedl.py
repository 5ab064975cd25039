"""Autodesk / Lustre ``.3dl`` 3D LUTs (Flame, Lustre, Nuke), read only.

Layout: an optional input mesh line (the grid as integer input codes, e.g. ``0 64 128 ... 1023``: its scale from
its largest value, as the output's), then N^3 rows of integer RGB with BLUE changing fastest. The output depth comes
from Lustre's ``Mesh <grid bits> <out bits>`` line (a grid of 2^grid bits + 1 points: ``Mesh 4 12`` is 17 points,
12-bit output), or else (as OpenColorIO does) from the largest value: up to 511 is 8 bit, up to 2047 10 bit, up to
8191 12 bit, more 16 bit (OpenColorIO allows a look twice its depth's top: an overshoot). A value above the guessed
depth's top is said: the file is read with that overshoot, and a deeper file without a Mesh line, a 12-bit look whose
white is under 2048, is read 4 times too bright (the format cannot tell them apart; a Mesh line settles it). Rows
written as decimals (a point or an exponent in them) whose values stay within 0..2 are 0..1 values, as some tools
write them (they graded black as 8-bit codes). ``3DMESH``, ``LUT8`` and ``gamma`` lines are skipped. Only an evenly
spaced mesh (within 2 codes of rounding) is taken; an uneven one is refused.
"""

from __future__ import annotations

import os
import re
import warnings

import numpy as np

from ..errors import LutFormatError
from .cube import read_text_lut
from .lut import MAX_SIZE, MIN_SIZE, Lut

_SKIP = ("3dmesh", "lut8", "gamma")


_DECIMALS = re.compile(r"[.eE]")  # a row written as decimals, not integer codes
FLOAT_MAX = 2.0  # decimals above this are not 0..1 values with some overshoot


def _depth_max(value: float) -> int:
    for limit, bits in ((511, 8), (2047, 10), (8191, 12)):
        if value <= limit:
            return 2**bits - 1
    return 2**16 - 1


def _top(largest: float, decimals: bool, bits: int | None = None) -> float:
    """The value that stands for 1.0 in a mesh or the rows: 1 for 0..1 decimals (an integer file's largest value is
    far above 2), else the top code of the Mesh line's depth or of the depth guessed from the largest value."""
    if decimals and largest <= FLOAT_MAX:
        return 1.0
    return 2**bits - 1 if bits else _depth_max(largest)


def read_3dl(path: str | os.PathLike) -> Lut:
    """Read a .3dl file into a :class:`Lut`."""
    p, text = read_text_lut(path, ".3dl")
    out_bits = None
    lines: list[tuple[int, list[float], bool]] = []  # (line number, values, written as decimals)
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        head = line.split()[0].lower()
        if head == "mesh":
            try:
                _, out_bits = (int(v) for v in line.split()[1:3])  # the grid's bits: the mesh line says the grid
            except ValueError:
                raise LutFormatError(f"Mesh needs two integers, got {line!r}", p, lineno) from None
            continue
        if head in _SKIP:
            continue
        try:
            vals = [float(v) for v in line.split()]
        except ValueError:
            raise LutFormatError(f"not a .3dl line: {line!r}", p, lineno) from None
        if not np.isfinite(vals).all():
            raise LutFormatError(f"NaN or infinite value: {line!r}", p, lineno)
        lines.append((lineno, vals, bool(_DECIMALS.search(line))))
    if not lines:
        raise LutFormatError("no data", p)
    mesh = None
    first_n = len(lines[0][1])
    if first_n != 3 or round((len(lines) - 1) ** (1 / 3)) ** 3 == len(lines) - 1 == 27:
        mesh, mesh_decimals = np.asarray(lines[0][1]), lines[0][2]
        lines = lines[1:]
    bad = [ln for ln, v, _ in lines if len(v) != 3]
    if bad:
        raise LutFormatError("a data row needs 3 numbers", p, bad[0])
    n = len(mesh) if mesh is not None else round(len(lines) ** (1 / 3))
    if not MIN_SIZE <= n <= MAX_SIZE:
        raise LutFormatError(f"a .3dl grid of {n} points; expected {MIN_SIZE}..{MAX_SIZE}", p)
    if len(lines) != n**3:
        raise LutFormatError(f"a {n}-point grid needs {n**3} data rows, found {len(lines)}", p)
    data = np.asarray([v for _, v, _ in lines], dtype=np.float64)
    top = data.max()
    out_max = _top(top, any(dec for _, _, dec in lines), out_bits)
    # a guessed depth overshot (2^bits itself is white as tools that scale by 2^bits write it)
    if not out_bits and 1 < out_max < 2**16 - 1 and top > out_max + 1:
        bits = int(np.log2(out_max + 1))
        deeper = {8: 10, 10: 12, 12: 16}[bits]
        warnings.warn(f"{p}: values up to {top:g} read as {bits}-bit (an overshoot over its {out_max}); a "
                      f"{deeper}-bit file without a Mesh line would grade {2 ** (deeper - bits)} times too bright",
                      stacklevel=2)
    lo, hi = 0.0, 1.0
    if mesh is not None:
        # on its own scale (a Lustre file's is 10-bit whatever its Mesh line: that line's first number was taken for
        # the input's bits, and an identity file graded black)
        in_max = _top(mesh.max(), mesh_decimals)
        even = np.linspace(mesh[0], mesh[-1], n)
        if not mesh[-1] > mesh[0] or np.abs(mesh - even).max() > 2:
            raise LutFormatError("uneven input mesh (its points are not evenly spaced); not supported", p,
                                 lines[0][0] - 1)
        lo, hi = mesh[0] / in_max, mesh[-1] / in_max
    table = (data / out_max).reshape(n, n, n, 3)  # blue fastest: the file is already [r, g, b]
    return Lut(table, title=p.stem, domain_min=(lo,) * 3, domain_max=(hi,) * 3)
