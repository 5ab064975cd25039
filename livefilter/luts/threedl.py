"""Autodesk / Lustre ``.3dl`` 3D LUTs (Flame, Lustre, Nuke), read only.

Layout: an optional input mesh line (the grid as integer input codes, e.g. ``0 64 128 ... 1023``: its scale from
its largest value, as the output's), then N^3 rows of integer RGB with BLUE changing fastest. The output depth comes
from Lustre's ``Mesh <grid bits> <out bits>`` line (a grid of 2^grid bits + 1 points: ``Mesh 4 12`` is 17 points,
12-bit output), or else from the largest value: the least depth that holds it (up to 255 is 8 bit, up to 1023 10 bit,
up to 4095 12 bit, more 16 bit; OpenColorIO's limits 511 / 2047 / 8191 read a 12-bit look whose white is below 2048,
one that darkens, as 10-bit: 4 times too bright); a depth guessed for a file whose largest value is under half its
top is said (a 10- or 12-bit look that darkens that much reads as one of less depth). Rows written as decimals (a
point or an exponent in them) are 0..1 values, as some tools write them (they graded black as 8-bit codes).
``3DMESH``, ``LUT8`` and ``gamma`` lines are skipped. Only an evenly spaced mesh (within 2 codes of rounding) is taken;
an uneven one is refused.
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
    """The top code of the least depth (8, 10, 12, 16 bit) that holds ``value``."""
    for bits in (8, 10, 12):
        if value <= 2**bits - 1:
            return 2**bits - 1
    return 2**16 - 1


def read_3dl(path: str | os.PathLike) -> Lut:
    """Read a .3dl file into a :class:`Lut`."""
    p, text = read_text_lut(path, ".3dl")
    out_bits = None
    lines: list[tuple[int, list[float]]] = []
    text_rows = {}
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
        lines.append((lineno, vals))
        text_rows[lineno] = line
    if not lines:
        raise LutFormatError("no data", p)
    mesh = mesh_decimals = None
    first_n = len(lines[0][1])
    if first_n != 3 or round((len(lines) - 1) ** (1 / 3)) ** 3 == len(lines) - 1 == 27:
        mesh = np.asarray(lines[0][1])
        mesh_decimals = bool(_DECIMALS.search(text_rows[lines[0][0]]))
        lines = lines[1:]
    bad = [ln for ln, v in lines if len(v) != 3]
    if bad:
        raise LutFormatError("a data row needs 3 numbers", p, bad[0])
    n = len(mesh) if mesh is not None else round(len(lines) ** (1 / 3))
    if not MIN_SIZE <= n <= MAX_SIZE:
        raise LutFormatError(f"a .3dl grid of {n} points; expected {MIN_SIZE}..{MAX_SIZE}", p)
    if len(lines) != n**3:
        raise LutFormatError(f"a {n}-point grid needs {n**3} data rows, found {len(lines)}", p)
    data = np.asarray([v for _, v in lines], dtype=np.float64)
    decimals = any(_DECIMALS.search(text_rows[ln]) for ln, _ in lines)
    if decimals:
        if data.max() > FLOAT_MAX:
            raise LutFormatError(f"rows with decimals up to {data.max():g}: a .3dl holds integer codes or 0..1 "
                                 "values", p)
        out_max = 1.0
    elif out_bits:
        out_max = 2**out_bits - 1
    else:
        out_max = _depth_max(data.max())
        if data.max() < out_max / 2:
            bits = int(np.log2(out_max + 1))
            warnings.warn(f"{p}: output depth taken as {bits}-bit from its largest value {data.max():g} (no Mesh "
                          "line says it); a deeper look this dark would grade too bright", stacklevel=2)
    lo, hi = 0.0, 1.0
    if mesh is not None:
        # on its own scale (a Lustre file's is 10-bit whatever its Mesh line: that line's first number was taken for
        # the input's bits, and an identity file graded black)
        in_max = 1.0 if mesh_decimals and mesh.max() <= FLOAT_MAX else _depth_max(mesh.max())
        even = np.linspace(mesh[0], mesh[-1], n)
        if not mesh[-1] > mesh[0] or np.abs(mesh - even).max() > 2:
            raise LutFormatError("uneven input mesh (its points are not evenly spaced); not supported", p,
                                 lines[0][0] - 1)
        lo, hi = mesh[0] / in_max, mesh[-1] / in_max
    table = (data / out_max).reshape(n, n, n, 3)  # blue fastest: the file is already [r, g, b]
    return Lut(table, title=p.stem, domain_min=(lo,) * 3, domain_max=(hi,) * 3)
