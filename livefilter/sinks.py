"""Where graded frames go: a virtual camera, a preview window, an mp4 file, a callback, or nowhere.

Sinks take uint8 RGB frames via ``send()``; ``close()`` is safe to call twice. A sink that fails raises
:class:`SinkError`; the pipeline then stops cleanly.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from .errors import LiveFilterError
from .fileio import Closable, check_output_path

log = logging.getLogger(__name__)


class SinkError(LiveFilterError, RuntimeError):
    """A sink cannot take frames (no virtual camera device, disk full...)."""


class Sink(Closable):
    name = "sink"

    def send(self, frame: np.ndarray) -> None:
        raise NotImplementedError



class NullSink(Sink):
    """Discards frames (benchmarks)."""

    name = "null"

    def __init__(self):
        self.count = 0

    def send(self, frame):
        self.count += 1


class CallbackSink(Sink):
    name = "callback"

    def __init__(self, fn):
        self.fn = fn

    def send(self, frame):
        self.fn(frame)


def _fit(frame: np.ndarray, w: int, h: int) -> np.ndarray:
    """The frame at the sink's fixed size (the stream's size may change mid-stream; sinks' cannot)."""
    if frame.shape[1] == w and frame.shape[0] == h:
        return frame
    return cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)


class VideoFileSink(Sink):
    """An mp4 file (OpenCV's mp4v encoder), written under a temporary name and renamed when closed, so an
    interrupted run never leaves a half-written file under the final name. The temporary file is only created
    with the first frame, and removed when no frame was written: a run that fails leaves nothing behind."""

    name = "file"

    def __init__(self, path, fps: float = 30.0, size=None, inputs: tuple = ()):
        self.path = check_output_path(path, inputs)
        if self.path.suffix.lower() not in (".mp4", ".m4v", ".mov"):
            raise SinkError("recordings are .mp4 files", self.path)
        if not (fps > 0 and np.isfinite(fps)):
            raise SinkError(f"a recording needs a frame rate > 0, got {fps}", self.path)
        self.fps, self.size = float(fps), size
        self.tmp: Path | None = None
        self.writer = None
        self.frames = 0
        self._closed = False

    def send(self, frame):
        if self.writer is None:
            if self._closed:
                raise SinkError("the recording is closed", self.path)
            h, w = frame.shape[:2] if self.size is None else (self.size[1], self.size[0])
            self.size = (w, h)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".mp4", dir=self.path.parent)
            os.close(fd)
            from .fileio import _UMASK

            os.chmod(tmp, 0o666 & ~_UMASK)
            self.tmp = Path(tmp)
            self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self.writer.isOpened():
                self.tmp.unlink(missing_ok=True)
                raise SinkError("cannot open an mp4 writer", self.path)
        self.writer.write(cv2.cvtColor(_fit(frame, *self.size), cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self):
        if self._closed:
            return
        self._closed = True
        if self.writer is not None:
            self.writer.release()
        if self.tmp is None:
            return
        if self.frames:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def vcam_fix() -> str:
    if os.name == "nt" or os.uname().sysname == "Darwin":
        return "install OBS Studio and start its Virtual Camera once (it provides the device)"
    return "load the loopback driver: sudo modprobe v4l2loopback devices=1 exclusive_caps=1"


class VirtualCameraSink(Sink):
    """A virtual camera (pyvirtualcam) that video-call apps see as a webcam."""

    name = "vcam"

    def __init__(self, size, fps: float = 30.0, device: str | None = None, camera_class=None):
        self.w, self.h = int(size[0]), int(size[1])
        try:
            if camera_class is None:
                import pyvirtualcam

                camera_class = pyvirtualcam.Camera
            kwargs = {"device": device} if device else {}
            self.cam = camera_class(width=self.w, height=self.h, fps=fps, **kwargs)
        except (RuntimeError, ImportError) as exc:
            raise SinkError(f"no virtual camera device ({exc}); fix: {vcam_fix()}") from None
        self.name = f"vcam {getattr(self.cam, 'device', '')}".strip()
        self._closed = False

    def send(self, frame):
        try:
            self.cam.send(np.ascontiguousarray(_fit(frame, self.w, self.h)))
        except (RuntimeError, OSError) as exc:
            raise SinkError(f"the virtual camera stopped taking frames ({exc})") from None

    def close(self):
        if not self._closed:
            self._closed = True
            self.cam.close()
