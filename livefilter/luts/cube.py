"""Adobe (Iridas) and Resolve .cube files.

Read: ``TITLE "..."``; ``LUT_3D_SIZE`` 2..256 and/or ``LUT_1D_SIZE`` 2..65536 (both: Resolve's 1D shaper
followed by a 3D LUT; the 1D rows come first); the input domain as Adobe's ``DOMAIN_MIN``/``DOMAIN_MAX`` (per
channel) or Resolve's ``LUT_1D_INPUT_RANGE``/``LUT_3D_INPUT_RANGE lo hi`` (per stage); Resolve's
``LUT_IN_VIDEO_RANGE`` (the LUT expects video-range input: full-range input is scaled to 16..235 first) and
``LUT_OUT_VIDEO_RANGE`` (its output is video range: expanded to full range after); ``#`` comments and blank lines
anywhere; data rows of three numbers, red index fastest. The video-range keywords are folded into the domains
and the output values when read, so every renderer sees one plain :class:`Lut`.

Refused (one line naming the file and the line): unknown keywords, text in the data, NaN/inf, a wrong row count,
sizes out of range, DOMAIN_MIN >= DOMAIN_MAX, DOMAIN_MIN/MAX in a file with both a 1D and a 3D LUT (which stage
would it be? Resolve's per-stage INPUT_RANGE keywords say it).
"""

from __future__ import annotations

import math
import os
import re
import warnings
from pathlib import Path

import numpy as np

from ..errors import LutFormatError, OutputError
from ..fileio import atomic_output
from .lut import MAX_1D, MAX_SIZE, MIN_SIZE, Lut

# Video (legal) range in 8-bit code values, as Resolve uses it for LUT_IN/OUT_VIDEO_RANGE.
VIDEO_LO, VIDEO_HI = 16.0, 235.0


# a number written with a decimal comma (0,5), as a spreadsheet in some locales writes it
_DECIMAL_COMMA = re.compile(r"^[-+]?\d*,\d+$")

# bytes no text file holds (whitespace aside): a .cube that is not UTF-8 and has one is binary
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def read_text_lut(path: str | os.PathLike, kind: str) -> tuple[Path, str]:
    """(path, text) of a text LUT file (.cube, .3dl), or a LutFormatError naming the file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise LutFormatError("no such file", p) from None
    except IsADirectoryError:
        raise LutFormatError(f"not a text {kind} file", p) from None
    except OSError as exc:  # permission denied, an I/O error
        raise LutFormatError(f"cannot read ({exc.strerror or exc})", p) from None
    try:
        return p, data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Not UTF-8: a title or comment in a legacy 8-bit encoding (Windows-1252, as older Windows tools write them:
    # curly quotes and dashes at 0x91-0x97; Latin-1, which maps every byte, where a byte is not Windows-1252).
    # ffmpeg reads such files (only the numbers matter to it); so do we. A file with control bytes other than
    # whitespace is binary, not text.
    if _CONTROL_BYTES.search(data):
        raise LutFormatError(f"not a text {kind} file", p)
    try:
        return p, data.decode("cp1252")
    except UnicodeDecodeError:
        return p, data.decode("latin-1")


def read_cube(path: str | os.PathLike) -> Lut:
    """Read a .cube file (1D, 3D, or 1D shaper + 3D) into a :class:`Lut`."""
    p, text = read_text_lut(path, ".cube")
    title = ""
    size3 = size1 = None
    domain = range1 = range3 = None  # (lo[3], hi[3]) each
    in_video = out_video = False
    rows: list[tuple[float, float, float]] = []
    first_data_line = None
    dmin = dmax = domain_line = None
    row_lines: list[int] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("TITLE") else raw.strip()
        if not line:
            continue
        head = line.split(None, 1)[0]
        if not _is_number(head):
            if rows:
                _no_decimal_comma(line, p, lineno)
                raise LutFormatError(f"text in the data rows: {line!r}", p, lineno)
            arg = line[len(head):].strip()
            if head == "TITLE":  # quoted, with any quotes and '#' inside it, a comment after it; else as written
                quoted = re.match(r'^"(.*?)"\s*(?:#.*)?$', arg)
                title = quoted.group(1) if quoted else arg.strip('"')
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
            elif head == "DOMAIN_MIN":
                dmin, domain_line = _floats(arg, p, lineno, head), lineno
            elif head == "DOMAIN_MAX":
                dmax, domain_line = _floats(arg, p, lineno, head), lineno
            elif head in ("LUT_3D_INPUT_RANGE", "LUT_1D_INPUT_RANGE"):
                lo, hi = _floats(arg, p, lineno, head, count=2)
                if not hi > lo:
                    raise LutFormatError(f"{head} min {lo} must be below max {hi}", p, lineno)
                rng = ([lo] * 3, [hi] * 3)
                if head == "LUT_1D_INPUT_RANGE":
                    range1 = rng
                else:
                    range3 = rng
            elif head in ("LUT_IN_VIDEO_RANGE", "LUT_OUT_VIDEO_RANGE"):
                if arg:
                    raise LutFormatError(f"{head} takes no value, got {arg!r}", p, lineno)
                if head == "LUT_IN_VIDEO_RANGE":
                    in_video = True
                else:
                    out_video = True
            else:
                _no_decimal_comma(line, p, lineno)
                raise LutFormatError(f"unknown keyword {head!r}", p, lineno)
            continue
        if first_data_line is None:
            first_data_line = lineno
        rows.append(tuple(_floats(line, p, lineno, "data row")))
        row_lines.append(lineno)
    if size3 is None and size1 is None:
        raise LutFormatError("no LUT_3D_SIZE or LUT_1D_SIZE line", p)
    if dmin is not None or dmax is not None:
        domain = (dmin or [0.0] * 3, dmax or [1.0] * 3)
        if not all(hi > lo for lo, hi in zip(*domain)):
            raise LutFormatError(f"DOMAIN_MIN {domain[0]} must be below DOMAIN_MAX {domain[1]} in every channel", p,
                                 domain_line)
    expected = (size1 or 0) + (size3**3 if size3 else 0)
    if len(rows) != expected:
        parts = ([f"LUT_1D_SIZE {size1}"] if size1 else []) + ([f"LUT_3D_SIZE {size3}"] if size3 else [])
        # the line where the rows ran out, or the first row too many
        where = row_lines[expected] if len(rows) > expected else (row_lines[-1] if row_lines else None)
        raise LutFormatError(f"{' + '.join(parts)} needs {expected} data rows, found {len(rows)}", p, where)
    data = np.asarray(rows, dtype=np.float64)
    if not np.isfinite(data).all():
        bad = int(np.argmax(~np.isfinite(data).all(axis=1)))
        raise LutFormatError("NaN or infinite value in the data", p, first_data_line + bad if first_data_line else None)

    unit = ([0.0] * 3, [1.0] * 3)
    if size1 and size3:
        if domain is not None:
            raise LutFormatError("DOMAIN_MIN/DOMAIN_MAX in a file with both a 1D and a 3D LUT: say which stage "
                                 "with LUT_1D_INPUT_RANGE / LUT_3D_INPUT_RANGE (Resolve)", p)
        first, second = range1 or unit, range3 or unit
    elif size1:
        if range3 is not None:
            warnings.warn(f"{p}: LUT_3D_INPUT_RANGE ignored: the file has no 3D LUT", stacklevel=2)
        first = _one_domain(domain, range1, "LUT_1D_INPUT_RANGE", p) or unit
        second = None
    else:
        if range1 is not None:
            warnings.warn(f"{p}: LUT_1D_INPUT_RANGE ignored: the file has no 1D LUT", stacklevel=2)
        first = _one_domain(domain, range3, "LUT_3D_INPUT_RANGE", p) or unit
        second = None
    if in_video:  # full-range input x is fed to the LUT as video range v = (16 + 219 x) / 255: fold into the domain
        first = tuple([(v * 255.0 - VIDEO_LO) / (VIDEO_HI - VIDEO_LO) for v in vals] for vals in first)
    if out_video:  # the LUT's output y is video range: full = (255 y - 16) / 219, affine so exact on the values
        tail = slice(size1, None) if size3 else slice(None)
        data[tail] = (data[tail] * 255.0 - VIDEO_LO) / (VIDEO_HI - VIDEO_LO)
    if size3 and not size1:
        table = data.reshape(size3, size3, size3, 3).transpose(2, 1, 0, 3)  # file is [b, g, r]
        return Lut(table, title=title, domain_min=tuple(first[0]), domain_max=tuple(first[1]))
    if size1 and not size3:
        return Lut.from_curves(data, tuple(first[0]), tuple(first[1]), title=title)
    table = data[size1:].reshape(size3, size3, size3, 3).transpose(2, 1, 0, 3)
    return Lut(table, title=title, domain_min=tuple(second[0]), domain_max=tuple(second[1]), shaper=data[:size1],
               shaper_min=tuple(first[0]), shaper_max=tuple(first[1]))


def _one_domain(domain, rng, rng_name, p):
    if domain is not None and rng is not None and (list(domain[0]), list(domain[1])) != (rng[0], rng[1]):
        raise LutFormatError(f"DOMAIN_MIN/DOMAIN_MAX and {rng_name} disagree; keep one", p)
    return domain if domain is not None else rng


def _no_decimal_comma(text: str, path, lineno: int) -> None:
    """A number written with a decimal comma (0,5), as a spreadsheet in some locales writes it, named as such."""
    comma = next((t for t in text.split() if _DECIMAL_COMMA.match(t)), None)
    if comma is not None:
        raise LutFormatError(f"a decimal comma in {comma!r}: .cube numbers take a point (0.5, not 0,5)", path, lineno)


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
        _no_decimal_comma(text, path, lineno)
        raise LutFormatError(f"{what} has text where numbers belong: {text!r}", path, lineno) from None
    if not all(math.isfinite(v) for v in vals):
        raise LutFormatError(f"NaN or infinite value in {what}: {text!r}", path, lineno)
    return vals


def format_cube(lut: Lut, comments: list[str] | tuple = ()) -> str:
    """The text of a .cube file for ``lut`` (``%.6f`` values, red fastest).

    A 3D LUT: Adobe keywords (``LUT_3D_SIZE``, ``DOMAIN_MIN``/``DOMAIN_MAX``), read by OBS, ffmpeg, Resolve, OCIO.
    A 1D LUT: ``LUT_1D_SIZE`` + ``DOMAIN_MIN``/``DOMAIN_MAX``. A shaper + 3D LUT: Resolve's layout
    (``LUT_1D_SIZE``, ``LUT_1D_INPUT_RANGE``, ``LUT_3D_SIZE``, ``LUT_3D_INPUT_RANGE``, the 1D rows first), whose
    ranges are one number pair per stage."""
    def one_line(text) -> str:  # a newline in a name would start a header line of its own (an unreadable file)
        return " ".join(str(text).split())

    title = one_line(lut.title or "livefilter look").replace('"', "'")
    head = [f"# {one_line(c)}" for c in comments]
    head += [f'TITLE "{title}"']

    def rows(a):
        return "\n".join(f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in np.asarray(a, dtype=np.float64))

    def domain(lo, hi):
        return ["DOMAIN_MIN {:.6f} {:.6f} {:.6f}".format(*lo), "DOMAIN_MAX {:.6f} {:.6f} {:.6f}".format(*hi)]

    def one_range(lo, hi, what):
        if len(set(lo)) != 1 or len(set(hi)) != 1:
            raise OutputError(f"a .cube with a shaper has one input range per stage; this LUT's {what} differs "
                              f"per channel ({list(lo)} .. {list(hi)})")
        return f"{lo[0]:.6f} {hi[0]:.6f}"

    table = lut.table.transpose(2, 1, 0, 3).reshape(-1, 3)
    if lut.shaper is None:
        head += [f"LUT_3D_SIZE {lut.size}", *domain(lut.domain_min, lut.domain_max)]
        body = rows(table)
    elif lut.is_1d:
        head += [f"LUT_1D_SIZE {lut.shaper.shape[0]}", *domain(lut.shaper_min, lut.shaper_max)]
        body = rows(lut.shaper)
    else:
        head += [f"LUT_1D_SIZE {lut.shaper.shape[0]}",
                 f"LUT_1D_INPUT_RANGE {one_range(lut.shaper_min, lut.shaper_max, 'shaper domain')}",
                 f"LUT_3D_SIZE {lut.size}",
                 f"LUT_3D_INPUT_RANGE {one_range(lut.domain_min, lut.domain_max, '3D domain')}"]
        body = rows(lut.shaper) + "\n" + rows(table)
    return "\n".join(head) + "\n" + body + "\n"


def write_cube(path: str | os.PathLike, lut: Lut, comments=(), inputs: tuple = ()) -> Path:
    """Write ``lut`` as a .cube file atomically."""
    text = format_cube(lut, comments)
    with atomic_output(path, inputs) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
