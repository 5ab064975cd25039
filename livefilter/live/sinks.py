"""Where graded frames go: a virtual camera, a preview window, an mp4 file, a callback, or nowhere.

Sinks take uint8 RGB frames via ``send()``; ``close()`` is safe to call twice. A sink that fails raises
:class:`SinkError`; the pipeline then stops cleanly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from ..errors import SinkError
from ..fileio import Closable, check_output_path, temp_beside
from ..media.codec import say_if_odd_size
from ..media.mux import StreamCopier, close_output
from ..media.yuv import rgb_to_i420

log = logging.getLogger(__name__)
_BT709 = 1  # AVColorSpace, AVColorPrimaries and AVColorTransferCharacteristic alike


class Sink(Closable):
    name = "sink"
    #: True when ``send`` takes ``index=``: the frame's number in its source's order, from 1 (the pipeline passes
    #: it; frames the render loop skipped leave gaps)
    indexed = False

    def send(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def prepare(self, size: tuple[int, int]) -> None:
        """Get ready for frames of ``size`` (w, h) before the first one comes (optional)."""



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
    """An mp4 file, H.264 yuv420p (PyAV's libx264: browsers and QuickTime play it), written under a temporary
    name and renamed when closed, so an interrupted run never leaves a half-written file under the final name. The
    temporary file is only created with the first frame, and removed when no frame was written: a run that fails
    leaves nothing behind. ``audio_from``: a file whose audio (and other streams) are copied beside the video,
    from its start, up to the recording's length. ``timing``: how frames are stamped. "frames" (the default): one
    after another at ``fps``; "source": each frame at ``at``, its time on the source's clock in seconds (stamped in
    ``time_base``, a video file's own, else at ``fps``), else frame ``index`` i (from 1) at (i - 1) / fps (an image
    sequence), so a recording of a file keeps the file's timing, and its audio in sync, when the render loop skips
    frames or the file's rate varies (a phone's clip, 30 then 10 fps: stamped at its average rate, the picture fell
    up to 0.66 s behind its sound); "clock": at the time it is sent (from the first frame), so a recording of a camera
    lasts as long as the run when frames are skipped (stamped one after another, 51 frames of a 2-second run at
    1280x720 played in 1.7 s)."""

    name = "file"
    indexed = True

    def __init__(self, path, fps: float = 30.0, size=None, inputs: tuple = (), audio_from=None, crf: float = 20.0,
                 preset: str = "veryfast", timing: str = "frames", sar=None, time_base: Fraction | None = None):
        self.path = check_output_path(path, inputs)
        self.name = f"file {self.path.name}"  # what the start line says
        if self.path.suffix.lower() not in (".mp4", ".m4v", ".mov"):
            raise SinkError("recordings are .mp4, .m4v or .mov files", self.path)
        if not (fps > 0 and np.isfinite(fps)):
            raise SinkError(f"a recording needs a frame rate > 0, got {fps}", self.path)
        self.fps, self.size = float(fps), size
        self.sar = sar  # the frames' pixel aspect (a file source's non-square pixels); None: square
        self.audio_from, self.crf, self.preset = audio_from, crf, preset
        self.tmp: Path | None = None
        self.out = self.stream = self.copier = self.file = None
        self.frames = 0
        self.written = False  # True once closed with the file in place
        if timing not in ("frames", "source", "clock"):
            raise SinkError(f"timing must be 'frames', 'source' or 'clock', got {timing!r}", self.path)
        self.timing = timing
        # the unit of the frames' timestamps: a file's own time base when its frames bring their times, else 1 / fps
        self.time_base = Fraction(time_base) if time_base and timing == "source" else None
        self._next_pts, self._end, self._t0 = 0, 0, None
        self._closed = False

    def prepare(self, size: tuple[int, int]) -> None:
        """Open the writer now (measured: 84 ms with the audio copier, two frames of a 25 fps file: opened with the
        first frame, the frames that came meanwhile were lost)."""
        if self.out is None and not self._closed:
            self.size = self.size or (int(size[0]), int(size[1]))
            self._open(*self.size)

    def _open(self, w: int, h: int) -> None:
        say_if_odd_size(w, h, self.path)  # before the temporary file: a frame too small for H.264 is refused
        self.tmp = temp_beside(self.path, ".mp4")
        tmp = str(self.tmp)
        try:
            # a .mov is a QuickTime file (its temporary's .mp4 name made every recording an MP4: a camera's PCM went
            # in as ISO PCM, with a warning that named .mov as the cure)
            # the file is ours to close: where the disk fills before PyAV has written the header, its close() leaves
            # the file it opened open (the deleted temporary's space held until the process ends)
            # unbuffered: PyAV passes a write's error on, but a buffered file's flush inside a seek it prints as a
            # traceback (its writes come in its own 32 kB blocks: no more system calls for that)
            self.file = open(tmp, "wb", buffering=0)  # noqa: SIM115 - closed in close() / _discard()
            self.out = av.open(self.file, "w", format="mov" if Path(self.path).suffix.lower() == ".mov" else "mp4")
            rate = Fraction(self.fps).limit_denominator(1001)
            s = self.out.add_stream("libx264", rate=rate)
            s.width, s.height, s.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
            s.codec_context.time_base = self.time_base or 1 / rate
            s.codec_context.options = {"crf": f"{self.crf:g}", "preset": self.preset}
            # tagged BT.709 (limited range) and converted so by our own pass, as `apply` writes a video: left to
            # PyAV, it went untagged in BT.601's matrix, which players read as BT.709 at HD sizes (a 720p photo: 1 %
            # of its pixels off by 10 to 13 code values, up to 39); our pass: 5 ms a 1080p frame, swscale 16.7
            cc = s.codec_context
            cc.colorspace = cc.color_primaries = cc.color_trc = _BT709
            cc.color_range = 1
            if self.sar:
                cc.sample_aspect_ratio = self.sar
            self.stream = s
            if self.audio_from is not None:
                self.copier = StreamCopier(self.audio_from, self.out, ".mp4")
        except Exception as exc:  # noqa: BLE001 - any failure to open is this sink's error, with the reason
            self._discard()
            raise SinkError(f"cannot open an mp4 writer ({exc})", self.path) from None

    def send(self, frame, index: int | None = None, at: Fraction | float | None = None):
        if self.out is None:
            if self._closed:
                raise SinkError("the recording is closed", self.path)
            h, w = frame.shape[:2] if self.size is None else (self.size[1], self.size[0])
            self.size = (w, h)
            self._open(w, h)
        s = self.stream
        img = np.ascontiguousarray(_fit(frame, *self.size)[: s.height, : s.width])
        f = av.VideoFrame.from_ndarray(rgb_to_i420(img, _BT709), format="yuv420p")
        pts = self._next_pts
        if self.timing == "source" and at is not None:  # seconds on the source's clock
            pts = max(round(at / self.time_base) if self.time_base is not None else round(at * self.fps), pts)
        elif self.timing == "source" and index is not None:
            pts = max(round((index - 1) / (self.fps * self._tick)), pts)
        elif self.timing == "clock":
            now = time.monotonic()
            self._t0 = now if self._t0 is None else self._t0
            pts = max(round((now - self._t0) * self.fps), pts)
        f.pts = pts
        try:
            if self.copier is not None:
                self.copier.copy_until(float(pts * self._tick))
            for p in s.encode(f):
                self.out.mux(p)
        except OSError as exc:  # a full disk: the recording is lost (nothing left to finish at close)
            self.discard()
            raise SinkError(f"cannot write the recording ({exc.strerror or exc})", self.path) from None
        self.frames += 1
        self._next_pts = pts + 1
        self._end = pts + max(1, round(1 / (self.fps * self._tick)))  # the frame shown for one period

    @property
    def _tick(self) -> Fraction:
        return self.time_base or 1 / Fraction(self.fps).limit_denominator(1001)

    def _discard(self) -> None:
        try:
            if self.copier is not None:
                with contextlib.suppress(Exception):
                    self.copier.close()
            if self.out is not None:
                with contextlib.suppress(Exception):
                    close_output(self.out)
            if self.file is not None:
                with contextlib.suppress(OSError):
                    self.file.close()
        finally:  # the temporary goes whatever ended the closing (an interrupt)
            self.out = self.copier = self.file = None
            if self.tmp is not None:
                self.tmp.unlink(missing_ok=True)

    def close(self):
        if self._closed:
            return
        self._closed = True
        if self.out is None:
            return
        if not self.frames:
            self._discard()
            return
        try:
            for p in self.stream.encode(None):
                self.out.mux(p)
            if self.copier is not None:
                self.copier.copy_until(float(self._end * self._tick))
                self.copier.close()
            close_output(self.out)
            self.file.close()
            os.replace(self.tmp, self.path)
        except OSError as exc:  # a full disk while finishing: the recording was not written (an earlier file kept)
            self._discard()
            raise SinkError(f"cannot write the recording ({exc.strerror or exc})", self.path) from None
        except BaseException:  # an interrupt too: its unfinished hidden temporary (no index, unplayable) was left
            self._discard()
            raise
        self.written = True

    def discard(self) -> None:
        """End without keeping the recording (its temporary file removed; an earlier file at ``path`` untouched)."""
        if not self._closed:
            self._closed = True
            self._discard()


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
