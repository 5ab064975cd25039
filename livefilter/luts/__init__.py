"""LUT file formats, one module each, and a dispatcher by extension."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import LutFormatError
from ..lut import Lut
from .cube import format_cube, read_cube, write_cube
from .hald import read_hald, write_hald

__all__ = ["read_lut", "write_lut", "read_cube", "write_cube", "format_cube", "read_hald", "write_hald"]


def read_lut(path: str | os.PathLike) -> Lut:
    """Read a .cube file or a HaldCLUT PNG."""
    ext = Path(path).suffix.lower()
    if ext == ".cube":
        return read_cube(path)
    if ext in (".png", ".tif", ".tiff"):
        return read_hald(path)
    raise LutFormatError(f"unknown LUT format {ext!r}; expected .cube or a HaldCLUT .png", path)


def write_lut(path: str | os.PathLike, lut: Lut, **kwargs) -> Path:
    """Write a .cube file or a HaldCLUT PNG, by extension."""
    ext = Path(path).suffix.lower()
    if ext == ".cube":
        return write_cube(path, lut, **kwargs)
    if ext == ".png":
        return write_hald(path, lut, **kwargs)
    raise LutFormatError(f"unknown LUT format {ext!r}; expected .cube or .png (HaldCLUT)", path)
