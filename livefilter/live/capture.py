"""The capture worker: a source read into a one-frame slot, in its own thread (conventions: a plain function with a
stop Event and a latest-frame slot that drops, never queues, so latency stays bounded)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from ..errors import (
    LiveFilterError,
    SourceError,
    StreamError,  # noqa: F401 - defined here before errors.py held every exception
)
from .sources import Source

log = logging.getLogger(__name__)
BACKOFF_START, BACKOFF_MAX = 0.25, 5.0


class LatestFrame:
    """A one-frame slot: ``put`` replaces what is there (counting a drop if it was never read); ``get`` waits
    for a frame newer than the caller's last one. Nothing ever queues, so latency stays bounded."""

    def __init__(self):
        self._cond = threading.Condition()
        self._item = None
        self._seq = 0
        self._taken = 0
        self._ready_after = -1  # the newest seq the consumer had when it last asked for a frame
        self._ended = False
        self.dropped = 0

    def put(self, frame: np.ndarray, t: float, position: int | None = None) -> None:
        """``position``: the frame's time on its source's own clock (a file's, in its time base's ticks from its
        first frame), where it has one."""
        with self._cond:
            if self._seq > self._taken:
                self.dropped += 1
            self._seq += 1
            self._item = (frame, t, self._seq, position)
            self._cond.notify_all()

    def end(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def get(self, after: int, timeout: float = 1.0, consume: bool = True):
        """The newest (frame, t, seq, position) with seq > ``after``; None on timeout; raises EOFError at end of
        stream."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if consume:  # the consumer is ready for a frame newer than ``after`` (wait_consumer)
                self._ready_after = after
                self._cond.notify_all()
            while self._seq <= after:
                if self._ended:
                    raise EOFError
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            if consume:
                self._taken = self._seq
            return self._item

    def wait_consumer(self, stop: threading.Event) -> None:
        """Wait until the consumer has taken the frame in the slot and is back for the next one (or ``stop``, or
        the end)."""
        with self._cond:
            while self._ready_after < self._seq and not self._ended and not stop.is_set():
                self._cond.wait(0.05)


def capture(source: Source, slot: LatestFrame, stop: threading.Event, *, go: threading.Event | None = None,
            on_status: Callable[[str], None] | None = None) -> None:
    """Read ``source`` into ``slot`` until ``stop`` is set or the source ends; the slot is ended whatever ends
    the loop (an exception included, then re-raised), so a reader never waits on a dead worker.

    Waits for ``go`` first (the pipeline sets it once the look and the analysis are ready, so a file source loses
    no frame at the start). A paced source (a file played as live) is read at its frame rate (a video file: each
    frame at its time in the file). A failing camera (SourceError, OSError, RuntimeError) is retried with back-off
    (0.25 s doubling to 5 s), the state reported through ``on_status``; any other exception ends the stream. Frames
    that are not uint8 (H, W, 3) are skipped with a warning."""
    try:
        _capture_loop(source, slot, stop, go, on_status or (lambda text: None))
    finally:
        slot.end()


def _capture_loop(source, slot, stop, go, status) -> None:
    while go is not None and not go.wait(0.05):
        if stop.is_set():
            return
    period = 1.0 / source.fps if source.paced and source.fps > 0 else 0.0
    next_t = start = time.monotonic()
    first = True
    bad = 0  # frames skipped as not uint8 RGB
    backoff = BACKOFF_START
    failing = False
    while not stop.is_set():
        try:
            frame = source.read()
        except (SourceError, OSError, RuntimeError) as exc:
            msg = exc.problem if isinstance(exc, LiveFilterError) else str(exc)
            text = f"{source.name}: {msg}; retrying in {backoff:.1f} s"
            status(text)
            if not failing:
                log.warning(text)
            failing = True
            if stop.wait(backoff):
                break
            backoff = min(backoff * 2, BACKOFF_MAX)
            try:
                source.open()
            except (SourceError, OSError, RuntimeError):
                pass
            continue
        if frame is None:
            break
        if failing:
            failing, backoff = False, BACKOFF_START
            status(f"{source.name}: back")
            log.info(f"{source.name}: back")
        if not (isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3):
            # said once (a source giving RGBA frames logged a line per frame); later ones at debug level
            (log.debug if bad else log.warning)("skipping frames from %s that are not uint8 RGB (H, W, 3): %s %s",
                                                source.name, getattr(frame, "shape", type(frame).__name__),
                                                getattr(frame, "dtype", ""))
            bad += 1
            continue
        position = source.position()
        if period and not first:
            # due at its time in the file from the clock's start (a variable-frame-rate file plays at its own pace),
            # else one period after the last frame
            due = start + float(at) if (at := source.seconds(position)) is not None else next_t
            delay = due - time.monotonic()
            if delay > 0:
                if stop.wait(delay):
                    break
            elif delay < -period:  # fallen behind (a slow read): the clock goes on from here
                start, due = start - delay, time.monotonic()
            next_t = due + period
        slot.put(frame, time.monotonic(), position)
        if period and first:
            # the clock starts once the first frame is through the render loop, which pays one-time costs on it
            # (the first encode, a thread not yet scheduled under load) that would drop the frames behind it
            slot.wait_consumer(stop)
            next_t = time.monotonic()
            start = next_t - float(source.seconds(position) or 0)
            next_t += period
        first = False
