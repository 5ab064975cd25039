"""Exceptions raised by livefilter: every one is defined here (the modules that raise them import them from here;
the older homes, such as ``livefilter.live.sinks.SinkError``, still hand them on).

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


class BackendError(LiveFilterError, RuntimeError):
    """A render backend cannot run here."""


class CudaError(BackendError):
    """A CUDA call failed (out of memory, a driver error, a device lost)."""


class SourceError(LiveFilterError, RuntimeError):
    """A source cannot deliver frames (camera unplugged, unreadable file...)."""


class StreamError(SourceError):
    """The source failed in a way that is not retried (anything but a device error): the stream ended with it."""


class SinkError(LiveFilterError, RuntimeError):
    """A sink cannot take frames (no virtual camera device, disk full...)."""


class VideoError(InputError):
    """A video cannot be graded at all (no video stream, unknown codec, not a video): nothing was written."""


class VideoDecodeError(LiveFilterError, RuntimeError):
    """Corrupt or truncated data part-way through a video; ``graded`` frames were graded before it;
    ``damaged_frame``: the decoder flagged a frame as damaged (it could be graded through, as players show it)."""

    def __init__(self, message, path=None, graded: int = 0, damaged_frame: bool = False):
        self.graded = graded
        self.damaged_frame = damaged_frame
        super().__init__(message, path)
