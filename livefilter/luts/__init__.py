"""LUT file formats, one module each, and the one table that says what kind of look file a path is.

:data:`FORMATS` is the only place that maps file names to formats: ``read_lut`` / ``write_lut``, look loading,
the live pipeline and the command line all ask it (:func:`format_of`, :func:`look_file_kind`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, LutFormatError
from .cube import format_cube, read_cube, write_cube
from .hald import looks_like_hald, read_hald, write_hald
from .lut import Lut
from .threedl import read_3dl

__all__ = ["FORMATS", "Format", "format_of", "look_file_kind", "read_lut", "write_lut", "read_cube", "write_cube",
           "format_cube", "read_hald", "write_hald", "read_3dl"]


@dataclass(frozen=True)
class Format:
    """A look file format: its name, file-name endings, and what reads / writes it (None: not here)."""

    name: str
    suffixes: tuple[str, ...]
    #: what `info` calls such a file ({level} and {size}: a Hald's, from its LUT)
    description: str
    read: Callable | None = None
    write: Callable | None = None
    #: a file with this suffix may also be a photo: it is a look only when its content says so
    content_checked: bool = False


FORMATS: tuple[Format, ...] = (
    Format("look", (".look.npz", ".npz"), "livefilter look (.look.npz: its mappings, readings and metadata)"),
    Format("cube", (".cube",), ".cube LUT (Resolve / Adobe: OBS, ffmpeg lut3d and most editors read it)", read_cube,
           write_cube),
    Format("3dl", (".3dl",), ".3dl LUT (Autodesk / Lustre)", read_3dl),
    Format("hald", (".png", ".tif", ".tiff"),
           "HaldCLUT, level {level} ({size}^3; ffmpeg haldclut, G'MIC and RawTherapee read it)", read_hald,
           write_hald, content_checked=True),
)


def format_of(path: str | os.PathLike) -> Format | None:
    """The format a file name says (by its ending), or None."""
    name = Path(path).name.lower()
    for fmt in FORMATS:
        if any(name.endswith(s) for s in fmt.suffixes):
            return fmt
    return None


def look_file_kind(path: str | os.PathLike, *, assume_look: bool = False) -> str:
    """What ``path`` is: "look" (a .look.npz), "lut" (a LUT file), or "image" (a photo to learn a look from).

    A .png / .tif is a HaldCLUT only when its size and content say so (see hald.looks_like_hald), or when the
    caller says it is a look (``assume_look``, the CLI's --look)."""
    fmt = format_of(path)
    if fmt is None:
        return "image"
    if fmt.name == "look":
        return "look"
    if fmt.content_checked and not assume_look and not looks_like_hald(path):
        return "image"
    return "lut"


def read_lut(path: str | os.PathLike, *, check_content: bool = True) -> Lut:
    """Read a LUT file: .cube, .3dl or a HaldCLUT .png/.tif (refused when its content is a photo, unless
    ``check_content`` is False)."""
    fmt = format_of(path)
    if fmt is None:  # what the user gave as a look (apply, info...) is none: name every kind of look file
        known = ", ".join(s for f in FORMATS for s in f.suffixes)
        raise LutFormatError(f"not a look file (extension {Path(path).suffix.lower() or 'none'!r}); look files "
                             f"are {known}", path)
    if fmt.read is None:
        raise LutFormatError(f"a {fmt.suffixes[0]} file is a livefilter look, not a LUT: load it with load_look",
                             path)
    if fmt.content_checked:
        return fmt.read(path, check_content=check_content)
    return fmt.read(path)


def write_lut(path: str | os.PathLike, lut: Lut, **kwargs) -> Path:
    """Write a .cube file or a HaldCLUT .png, by extension."""
    if not isinstance(lut, Lut):  # a Look saves itself; a bare table needs its Lut
        hint = ("a Look: look.save(path) (or write_lut(path, look.lut))" if hasattr(lut, "lut") else
                "an array: Lut(table) first" if hasattr(lut, "shape") else type(lut).__name__)
        raise InputError(f"write_lut takes a Lut, got {hint}", path)
    fmt = format_of(path)
    if fmt is None or fmt.write is None or (fmt.name == "hald" and Path(path).suffix.lower() != ".png"):
        raise LutFormatError(f"unknown LUT format {Path(path).suffix.lower()!r}; expected .cube or .png "
                             "(HaldCLUT)", path)
    return fmt.write(path, lut, **kwargs)
