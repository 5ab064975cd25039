"""Exceptions raised by livefilter.

Every error a user can cause (a bad file, a bad option) is a :class:`LiveFilterError`; the CLI prints it as one
line and exits with status 2. They subclass the matching built-in so callers can catch ``ValueError`` etc.
"""

from __future__ import annotations

import os


class LiveFilterError(Exception):
    """Base class of the errors livefilter raises on bad input. ``path`` names the file at fault, if any."""

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        self.path = os.fspath(path) if path is not None else None
        self.problem = message
        super().__init__(f"{self.path}: {message}" if self.path else message)


class InputError(LiveFilterError, ValueError):
    """An input (image, option, array) is unusable."""


class ImageReadError(InputError):
    """An image file cannot be read or decoded."""


class LutFormatError(InputError):
    """A LUT file (.cube, HaldCLUT) breaks its format; ``line`` is the 1-based line number when known."""

    def __init__(self, message: str, path=None, line: int | None = None):
        self.line = line
        if line is not None:
            message = f"line {line}: {message}"
        super().__init__(message, path)


class OutputError(LiveFilterError, OSError):
    """An output cannot be written (missing or unwritable folder, output equal to an input...)."""


class ModelError(LiveFilterError, RuntimeError):
    """A shipped model file is missing or corrupt."""
