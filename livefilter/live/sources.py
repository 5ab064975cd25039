"""Frame sources for the live pipeline. Each returns uint8 RGB frames from ``read()``.

``read()`` returns None at the end of a stream and raises :class:`SourceError` when the device fails (the
capture worker then retries with back-off). Sources are context managers; ``close()`` is safe to call twice.
"""

from __future__ import annotations

import logging
import math
import os
import re
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError, SourceError, VideoDecodeError
from ..fileio import Closable
from ..imageio import READABLE_IMAGE_EXTS, animation_frames, read_image
from ..media.codec import cut_short, decode, is_hdr, missing_frames
from ..media.hdr import TRANSFER_NAME
from ..media.probe import probe
from ..resources import sample_path

log = logging.getLogger(__name__)
SAMPLE_FACE = sample_path("sample_before.jpg")


class Source(Closable):
    """Base class: ``read()`` -> RGB uint8 frame or None at end; ``fps``; ``paced`` sources need the reader to
    keep time (files, stills, synthetic); live cameras pace themselves."""

    fps: float = 30.0
    paced: bool = True
    name: str = "source"
    #: the unit of ``position()`` (a file's time base); None: the source has no clock of its own
    time_base: Fraction | None = None

    def open(self) -> None:
        """(Re)open the device; called again after a failure."""

    def read(self) -> np.ndarray | None:
        raise NotImplementedError

    def position(self) -> int | None:
        """The last frame read's time on the source's own clock, in ``time_base`` ticks from its first frame (with
        no ``time_base``: its number from 1, a recording stamps it at (n - 1) / fps), or None: the frames are then
        paced at ``fps`` and a recording numbers them as they come."""
        return None

    def seconds(self, position: int | None) -> Fraction | None:
        """A ``position`` as seconds on the source's clock (exact), or None without a position or a time base."""
        return position * Fraction(self.time_base) if position is not None and self.time_base else None



class SyntheticSource(Source):
    """A bundled public-domain photo with a face, slowly panned and zoomed: exercises face protection with no
    camera. Deterministic: frame i is always the same image."""

    def __init__(self, size=(1280, 720), fps: float = 30.0, frames: int | None = None, image=None):
        self.w, self.h = int(size[0]), int(size[1])
        if self.w < 16 or self.h < 16:
            raise InputError(f"synthetic frame size must be at least 16x16, got {self.w}x{self.h}")
        self.fps, self.frames = float(fps), frames
        self.size = (self.w, self.h)
        self.name = f"synthetic {self.w}x{self.h}"
        self.base = read_image(image or SAMPLE_FACE) if not isinstance(image, np.ndarray) else image
        # the photo mirrored at its borders once, so a frame reaching past the photo's edge reads its reflection
        self.pad = max(self.base.shape[:2])
        self.padded = cv2.copyMakeBorder(self.base, *[self.pad] * 4, cv2.BORDER_REFLECT)
        self.i = 0

    def frame_at(self, i: int) -> np.ndarray:
        bh, bw = self.base.shape[:2]
        t = i / self.fps
        zoom = 1.25 + 0.15 * math.sin(2 * math.pi * t / 7.0)
        cx = bw / 2 + 0.08 * bw * math.sin(2 * math.pi * t / 9.0)
        cy = bh / 2 + 0.05 * bh * math.sin(2 * math.pi * t / 5.0)
        # scale so the output (w x h) shows a 1/zoom part of the photo, centred on (cx, cy), photo aspect kept:
        # the part is cut at sub-pixel precision, then resized. A 4K frame costs 7 ms of one core this way and
        # 42 ms as one cv2.warpAffine: the stand-in for a camera must not cost more than the pipeline it feeds
        s = zoom * max(self.w / bw, self.h / bh)
        pw, ph = max(1, round(self.w / s)), max(1, round(self.h / s))
        part = cv2.getRectSubPix(self.padded, (pw, ph), (cx - 0.5 / s + self.pad, cy - 0.5 / s + self.pad))
        return cv2.resize(part, (self.w, self.h), interpolation=cv2.INTER_LINEAR)

    def read(self) -> np.ndarray | None:
        if self.frames is not None and self.i >= self.frames:
            return None
        f = self.frame_at(self.i)
        self.i += 1
        return f


class ImageSource(Source):
    """A still image, repeated (resized to ``size`` (w, h) when given)."""

    def __init__(self, path, fps: float = 30.0, frames: int | None = None, size=None, allow_large: bool = False):
        self.frame = read_image(path, allow_large=allow_large)
        if (n := animation_frames(path)) > 1:
            log.warning("%s: an animated image (%d frames): its first frame is played, as a still", path, n)
        if size is not None and (self.frame.shape[1], self.frame.shape[0]) != tuple(size):
            self.frame = cv2.resize(self.frame, tuple(size), interpolation=cv2.INTER_AREA)
        self.size = (self.frame.shape[1], self.frame.shape[0])
        self.fps, self.frames, self.i = float(fps), frames, 0
        self.name = f"image {Path(path).name}"

    def read(self):
        if self.frames is not None and self.i >= self.frames:
            return None
        self.i += 1
        return self.frame


_FRAME_NUMBER = re.compile(r"%0?(\d*)d")


def sequence_files(spec) -> list[Path]:
    """The images of a sequence: a folder's image files in name order, or the files a printf pattern
    (``frames/f_%04d.png``) matches, in number order. Hidden files are left out."""
    p = Path(spec)
    if p.is_dir():
        return sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in READABLE_IMAGE_EXTS
                      and not f.name.startswith("."))
    head, _, tail = p.name.partition("%")
    m = _FRAME_NUMBER.match("%" + tail)
    if m is None or not p.parent.is_dir():
        return []
    width = int(m.group(1) or 0)
    digits = r"(\d{" + str(max(width, 1)) + r",})"  # %04d: at least 4 digits (more once past 9999)
    rx = re.compile(re.escape(head) + digits + re.escape(tail[m.end() - 1:]) + "$")
    found = [(int(mm.group(1)), f) for f in p.parent.iterdir() if (mm := rx.match(f.name)) and f.is_file()]
    return [f for _, f in sorted(found)]


def is_sequence(spec) -> bool:
    """A folder, or a name with a printf frame number (%d, %04d): an image sequence for :class:`ImageSequenceSource`."""
    p = Path(spec)
    return p.is_dir() or (not p.is_file() and bool(_FRAME_NUMBER.search(p.name)))  # (a file may have a % in its name)


class ImageSequenceSource(Source):
    """An image sequence (a folder, or a pattern like ``f_%04d.png``: :func:`sequence_files`) played as a video at
    ``fps``, once or looped; frames at the first image's size (or ``size`` (w, h)). An image that cannot be read
    is skipped with a warning."""

    def __init__(self, spec, fps: float = 30.0, loop: bool = False, size=None, allow_large: bool = False):
        self.files = sequence_files(spec)
        self.allow_large = allow_large
        if not self.files:
            if Path(spec).is_dir():
                raise InputError("no images in the folder (an image sequence needs .png, .jpg... files)", spec)
            raise InputError("no file matches the image sequence pattern", spec)
        first = read_image(self.files[0], allow_large=allow_large)
        self.size = tuple(size) if size is not None else (first.shape[1], first.shape[0])
        self.fps, self.loop, self.i = float(fps), loop, 0
        self._bad: set[Path] = set()  # images that could not be read, skipped from then on
        self.name = f"images {Path(spec).name} ({len(self.files)})"

    def read(self):
        for _ in range(len(self.files)):  # at most one pass over unreadable images
            if self.i >= len(self.files):
                if not self.loop:
                    return None
                self.i = 0
            path = self.files[self.i]
            self.i += 1
            if path in self._bad:
                continue
            try:
                frame = read_image(path, allow_large=self.allow_large)
            except InputError as exc:
                log.warning("skipping %s", exc)  # once: a looped sequence said it on every pass
                self._bad.add(path)
                continue
            if (frame.shape[1], frame.shape[0]) != self.size:
                frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
            return frame
        return None


class VideoFileSource(Source):
    """A video file, played once or looped, at its own frame rate; frames resized to ``size`` (w, h) when given.

    Read as ``apply`` reads a video (media.codec.decode: PyAV, the colours as the file tags them), turned upright by
    its display rotation; the file is held open, so a loop plays on if it is deleted. Corrupt or truncated data (a
    frame the decoder says is damaged, data it cannot read, frames missing at the end) ends the pass where it
    starts: the frames before it are delivered, the problem is logged once and kept in ``problem`` (the command then
    fails, as ``apply`` does)."""

    def __init__(self, path, loop: bool = False, size=None):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError("no such video file", self.path)
        self.info = probe(self.path, chunk_seconds=0)  # VideoError (an InputError) when it is not a usable video
        if problem := cut_short(self.info):
            log.warning("%s: %s", path, problem)
        if is_hdr(self.info):
            log.warning("%s: an HDR video (%s): brought to SDR (BT.709) as an SDR screen shows it, then graded",
                        self.path, TRANSFER_NAME[self.info.colour["color_trc"]])
        self._file = open(self.path, "rb")  # noqa: SIM115 - held open for every pass (a loop outlives a deleted file)
        self.loop = loop
        self.want = tuple(size) if size is not None else None
        self.name = f"video {self.path.name}"
        rate = self.info.rate
        self.fps = float(rate) if rate and 1 <= rate <= 240 else 30.0
        self.time_base = self.info.time_base
        self._turns = (self.info.rotation // 90) % 4  # counter-clockwise quarter turns, as players show the video
        w, h = self.info.width, self.info.height
        self.size = self.want or ((h, w) if self._turns % 2 else (w, h))
        #: the frames' pixel aspect as they are delivered (turned upright; None: square, or resized to ``size``)
        self.sar = None if self.want or not self.info.sar else (1 / self.info.sar if self._turns % 2 else self.info.sar)
        #: what was wrong with the file (corrupt or truncated data), once a pass met it; None while all is well
        self.problem: str | None = None
        self._frames = None
        self._decoded, self._last_pts, self._first_pts = 0, None, None
        self._ended = False

    def _next(self):
        """The next decoded frame of this pass, or None at its end (complete or not)."""
        if self._frames is None:
            self._frames, self._decoded = decode(self.info, file=self._file), 0
            self._last_pts = self._first_pts = None
        try:
            pts, rgb = next(self._frames)
        except StopIteration:
            self._end_pass(missing_frames(self.info, self._decoded, self._last_pts))
            return None
        except VideoDecodeError as exc:
            self._end_pass(exc.problem)
            return None
        self._decoded += 1
        self._last_pts = pts
        if self._first_pts is None:
            self._first_pts = pts
        return rgb

    def _end_pass(self, problem: str | None) -> None:
        self._frames.close()  # closes the container
        self._frames = None
        if problem and self.problem is None:
            self.problem = problem
            log.warning("%s: %s", self.path, problem)

    def read(self):
        if self._ended:
            return None
        rgb = self._next()
        if rgb is None and self.loop and self._decoded:  # the next pass (not when the first frame already failed)
            rgb = self._next()
        if rgb is None:
            self._ended = True
            return None
        if self._turns:
            rgb = np.rot90(rgb, self._turns)
        if self.want is not None and (rgb.shape[1], rgb.shape[0]) != self.want:
            return cv2.resize(rgb, self.want, interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(rgb)

    def position(self) -> int | None:
        """The last frame's time in the file, in its ``time_base`` ticks from the first frame shown (a frame an edit
        list hides, packets before the first keyframe: not counted): a variable-frame-rate file (a phone's, in low
        light) is played and recorded at its own pace, and a stretch of the file that gave no frame (corrupt data
        the decoder skipped) leaves a gap in a recording, as in the file, instead of the frames after it stamped
        earlier than their sound. None when looping (each pass starts the clock again)."""
        if self.loop or self._last_pts is None:
            return None
        return int(self._last_pts - self._first_pts)

    def close(self):
        self._ended = True
        if self._frames is not None:
            self._frames.close()
            self._frames = None
        self._file.close()


class CameraSource(Source):
    """A camera by index or device path, asking for a size and rate, MJPG when offered, a 1-frame buffer (so a
    read returns the newest frame, not a queued one)."""

    paced = False

    def __init__(self, device=0, size=(1280, 720), fps: float = 30.0, api=None):
        self.device = int(device) if str(device).isdigit() else str(device)
        self.size, self.fps = size, float(fps)
        self.api = api if api is not None else (cv2.CAP_V4L2 if os.name == "posix" else cv2.CAP_ANY)
        self.name = f"camera {self.device}"
        self.cap = None
        self.open()

    def open(self):
        self.close()
        cap = cv2.VideoCapture(self.device, self.api)
        if not cap.isOpened():
            cap.release()
            raise SourceError("cannot open the camera (is it connected and not used by another program?)",
                              f"camera {self.device}")
        cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
        if self.size:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        cap.set(cv2.CAP_PROP_FPS, self.fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        got = cap.get(cv2.CAP_PROP_FPS)
        if got and got > 0:
            self.fps = got
        self.cap = cap

    def read(self):
        if self.cap is None:
            self.open()
        ok, frame = self.cap.read()
        if not ok or frame is None:
            raise SourceError("the camera returned no frame (unplugged?)", f"camera {self.device}")
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def close(self):
        if self.cap is not None:
            self.cap.release()
            self.cap = None
