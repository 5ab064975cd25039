"""The live pipeline: source -> (faces, scene) degree -> render (backend) -> sinks, with bounded latency.

Threads (conventions: plain worker functions, a stop Event, latest-frame slots that drop, never queue):
- capture: reads the source into a one-frame slot; a failing camera is retried with back-off;
- analysis: every k-th frame, :class:`~livefilter.analysis.DegreeEstimator` turns the frame into a
  low-resolution degree map (faces tracked and eased; the scene similarity to the template, evaluated about once
  a second in the scene part's own thread), swapped in by reference;
- look: fits a template in the background and swaps the new LUT in atomically; the previous look stays live
  until then, and stays if the fit fails;
- the caller's thread runs the render loop and the sinks (``run()`` or ``step()``).
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import numbers
import threading
import time
from fractions import Fraction

import numpy as np

from ..analysis import DegreeEstimator
from ..analysis.scene import LIVE_THREADS, SceneTracker
from ..errors import InputError
from ..render import create_backend
from ..render.checks import check_rgb, check_strength
from ..render.cuda import CudaError
from .capture import LatestFrame, StreamError, capture
from .looks import LookControl
from .sinks import Sink, SinkError
from .sources import Source
from .stats import Stats
from .threads import background_thread, close_all, fast_switching

log = logging.getLogger(__name__)


JOIN_TIMEOUT = 5.0  # how long close() waits for each worker before leaving the release to the worker itself


class LivePipeline(LookControl):
    """Grade a live source with a look and send it to sinks. Use as a context manager::

        with lf.LivePipeline(SyntheticSource(), [NullSink()], look="look.cube") as p:
            p.set_strength(0.8)
            p.run(max_frames=300)
    """

    def __init__(self, source: Source, sinks=(), *, look=None, backend: str = "auto", strength: float = 1.0,
                 face_protect: bool = True, face_strength: float = 1.0, analysis_every: int = 2,
                 face_detector=None, interp: str = "trilinear", scene: bool = True):
        self.source = source
        self.sinks: list[Sink] = list(sinks)
        self.backend = backend if not isinstance(backend, str) else create_backend(backend)
        # the LUT(s) last given to the backend, so a CPU backend taking over from a failed GPU gets the same look;
        # the lock keeps that hand-over and the look worker's swaps in order
        self._backend_luts: list = []
        self._backend_lock = threading.Lock()
        if interp != "trilinear" and hasattr(self.backend, "interp"):
            self.backend.interp = interp
        self.strength = check_strength(strength)  # (NaN rendered nothing without a word)
        self.analysis_every = max(1, int(analysis_every))
        # scene similarity: on unless scene=False; it only acts while the look came from a photo (its features are
        # the template's); a look file has no template photo, so s stays 1 for it
        tracker = None
        if scene:
            tracker = SceneTracker(threads=LIVE_THREADS)
        self.estimator = DegreeEstimator(face_protect=face_protect, face_strength=face_strength,
                                         face_detector=face_detector, scene=tracker)
        self.stats = Stats()
        self.status = "starting"
        self.errors: list[str] = []
        self.look_name: str | None = None
        #: the live look (None for a bare LUT); a one-photo look carries its readings (``pick_candidate``)
        self.look = None
        self._lut = None
        #: how sure the look's fit is ("high" / "medium" / "low"), when it was fitted by livefilter
        self.look_confidence: str | None = None
        #: what the live look does, in a few words (livefilter.look.character)
        self.look_character: str | None = None
        self.has_look = False
        self._segmented = False  # the live look has per-segment LUTs (the render pass takes the soft mask)
        self._whole = False  # the live look is black-and-white: rendered whole, faces and unlike scenes too
        self._slot = LatestFrame()
        self._stop = threading.Event()
        # what ended the capture worker, when not the source's end or stop(): run() raises it as a StreamError
        self._failure: str | None = None
        # the workers still using the source / estimator / backend; the last one out releases them after close()
        self._busy: set[str] = set()
        self._release_lock = threading.Lock()
        self._release_due = False
        self._released = False
        self._switch_saved = False
        # the source starts only when a look is in place and the render loop asks for its first frame, so a file
        # loses no frame at its start (it did while the look was fitted, and under load nearly all of them)
        self._go = threading.Event()
        self._looks_pending = 0
        self._threads: list[threading.Thread] = []
        self._looks = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="lf-look",
                                                            initializer=background_thread)
        self._callbacks = []
        self._last_seq = 0
        self._until: float | None = None  # run(duration=): where the input's clock ends the run (step)
        self._position = None  # the last frame's time on its source's clock (a file's), when it has one
        self._out = None
        self._started = False
        self._closed = False
        self.last_frame: np.ndarray | None = None
        #: set by whoever stops the run on a signal (the CLI's SIGTERM handler), for the closing message
        self.stopped_by_signal: str | None = None
        if look is not None:
            try:
                self.set_template(look).result()
            except BaseException:  # no pipeline to close() for the caller: its look worker's thread was left
                self._close_quietly()
                raise

    # --- control ------------------------------------------------------------------------------------------
    def set_strength(self, strength: float) -> None:
        """How much of the look, clamped to 0..1 (the preview's keys step past the ends); NaN is refused."""
        if isinstance(strength, numbers.Real) and not math.isnan(strength):
            strength = min(max(strength, 0.0), 1.0)
        self.strength = check_strength(strength)

    def set_face_protect(self, on: bool) -> None:
        self.estimator.set_face_protect(on)

    @property
    def face_protect(self) -> bool:
        return self.estimator.face_protect

    @property
    def whole_look(self) -> bool:
        """The live look is black-and-white (or toned) and rendered whole: faces and unlike scenes get all of it
        (a share of it left them in colour), so no frame is analysed while it is live."""
        return self._whole

    @property
    def degree(self) -> np.ndarray | None:
        """The latest rendering-degree map (float32, one value per 8 x 8 pixels; None: the full look everywhere)."""
        return self.estimator.degree

    @property
    def boxes(self) -> np.ndarray:
        """The tracked face boxes behind :attr:`degree`, (n, 4) normalised x0, y0, x1, y1."""
        return self.estimator.boxes

    @property
    def scene_score(self) -> float:
        """The scene similarity between the template photo and the frames, as rendered now (1.0 without one)."""
        return self.estimator.scene_score

    @property
    def scene_acting(self) -> bool:
        """Whether the scene similarity acts on the look: a look from a photo, or easing back to 1 after a swap to
        one without (never with scene=False)."""
        scene = self.estimator.scene
        return scene is not None and (scene.has_template or self.scene_score < 1.0)

    @property
    def dropped_frames(self) -> int:
        """Captured frames the render loop never took (replaced in the one-frame slot by a newer one)."""
        return self._slot.dropped

    def add_callback(self, fn) -> None:
        """``fn(frame_out, info)`` after each rendered frame (info: seq, latency_ms, fps, degree, boxes, scene)."""
        self._callbacks.append(fn)

    # --- lifecycle ----------------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:  # it rendered on after close(): devices released, recordings finalised
            raise InputError("this LivePipeline is closed (its source and sinks released): make a new one")

    def start(self) -> LivePipeline:
        self._check_open()
        if self._started:
            return self
        self._started = True
        # The render loop must get the GIL back quickly while the look worker fits a template in Python: with
        # the default 5 ms switch interval a swap doubled the p99 frame time (measured with bench-live --swap).
        # Process-wide: put back when the last running pipeline closes.
        fast_switching(True)
        self._switch_saved = True
        self.estimator.ensure_detector()
        self._warm_up()
        for name, fn in (("lf-capture", self._capture), ("lf-analysis", self._analysis)):
            t = threading.Thread(target=self._worker, args=(name, fn), name=name, daemon=True)
            self._busy.add(name)
            t.start()
            self._threads.append(t)
        self.status = "running"
        return self

    def _warm_up(self) -> None:
        """Compile the render kernels and run the detector once before any frame arrives (the first call of each
        takes a second or more; a paced file source would drop its first frames meanwhile)."""
        tiny = np.zeros((16, 16, 3), np.uint8)
        size = getattr(self.source, "size", None)
        if self.source.paced and size:  # a file's frames have their size: recordings open now, not on frame 1
            for sink in self.sinks:
                if hasattr(sink, "prepare"):
                    sink.prepare(size)
        try:
            if self.has_look:
                # (a per-segment look's several-LUT pass was compiled by the backend's set_luts already)
                self.backend.render(tiny, None, 1.0, out=np.empty_like(tiny))
                self.backend.render(tiny, np.ones((2, 2), np.float32), 1.0, out=np.empty_like(tiny))
                if size:  # the output buffer and a full-size pass before frame 1: at 4K the first frame took 75 ms
                    frame = np.zeros((int(size[1]), int(size[0]), 3), np.uint8)
                    self._out = np.empty_like(frame)
                    self.backend.render(frame, None, 1.0, out=self._out)
            self.estimator.warm_up()
        except Exception as exc:  # noqa: BLE001 - a warm-up is an optimisation; the real frame will report
            log.debug("warm-up failed: %s", exc)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:  # a sink refusing the frame size at start: the detector and the sinks released now
            self._close_quietly()
            raise

    def __exit__(self, kind, value, tb):
        # a sink that could not finish: raised, unless an error already ends the block
        self._close(raise_sink_errors=kind is None)

    def stop(self) -> None:
        """Ask the render loop to end (safe from a signal handler or another thread)."""
        self._stop.set()

    @property
    def running(self) -> bool:
        """Started, not closed and not asked to stop."""
        return self._started and not self._closed and not self._stop.is_set()

    def close(self) -> None:
        """Tell the workers to stop and wait for them (up to JOIN_TIMEOUT each), finalise and close the sinks,
        then release the source, the backend and the estimator; a worker still running then (a camera stuck in a
        read, a fit) releases them itself when it ends, never while it uses them. Safe to call twice. A sink that
        cannot be finished (a recording on a full disk) raises its :class:`SinkError` once everything is closed (as
        the block's error when the pipeline is used as a context manager, unless another error ends the block;
        ``run()`` ending on an error logs it instead)."""
        self._close(raise_sink_errors=True)

    def _close_quietly(self) -> None:
        """close() while another error is on its way: a sink's failure to finish is logged, not raised over it."""
        self._close(raise_sink_errors=False)

    def _close(self, raise_sink_errors: bool) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._slot.end()
        self._looks.shutdown(wait=False, cancel_futures=True)  # a queued look is dropped, a running one ends
        deadline = time.monotonic() + JOIN_TIMEOUT
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        while self._looks_pending and time.monotonic() < deadline:
            time.sleep(0.01)
        # only the caller's render loop uses the sinks; a recording that could not be finished (a full disk) is raised
        # once all is closed
        failed = close_all(self.sinks, keep=SinkError)
        if self._switch_saved:  # process-wide: not left to a worker that may never end
            self._switch_saved = False
            fast_switching(False)
        with self._release_lock:
            self._release_due = True
            busy = sorted(self._busy) + (["lf-look"] if self._looks_pending else [])
        if busy:
            log.warning("%s still running after %.0f s; released when %s", ", ".join(busy), JOIN_TIMEOUT,
                        "it ends" if len(busy) == 1 else "they end")
        self._release_if_idle()
        for exc in failed[1 if raise_sink_errors else 0:]:
            log.warning("%s", exc)
        if failed and raise_sink_errors:
            raise failed[0]

    def _release_if_idle(self) -> None:
        """Release what the workers use, once: after close() and when no worker is left."""
        with self._release_lock:
            if not self._release_due or self._released or self._busy or self._looks_pending:
                return
            self._released = True
        close_all([self.source, self.backend, self.estimator])

    # --- workers ------------------------------------------------------------------------------------------
    def _worker(self, name: str, fn) -> None:
        """Run a worker; whatever ends it, it is no longer a user of what close() releases."""
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - recorded; the render loop raises it (run() ends with one line)
            if name == "lf-capture":
                self._failure = f"{self.source.name}: {type(exc).__name__}: {exc}"
                log.debug("%s ended: %s", name, self._failure)
            else:  # the analysis: the video goes on with the last degree map
                log.error("%s ended: %s: %s", name, type(exc).__name__, exc)
        finally:
            with self._release_lock:
                self._busy.discard(name)
            self._release_if_idle()

    def _capture(self) -> None:
        capture(self.source, self._slot, self._stop, go=self._go, on_status=self._set_status)

    def _set_status(self, text: str) -> None:
        self.status = text

    def _analysis(self) -> None:
        seq = 0
        while not self._stop.is_set():
            try:
                item = self._slot.get(seq, timeout=0.5, consume=False)
            except EOFError:
                break
            if item is None:
                continue
            frame, _, seq, _ = item
            if seq % self.analysis_every or self._whole:  # a black-and-white look takes no map: nothing to find
                continue
            t = time.perf_counter()
            try:
                self.estimator.update(frame)
            except Exception as exc:  # noqa: BLE001 - a failed analysis must not stop the video
                log.warning("frame analysis failed on a frame: %s", exc)
            self.stats.add("analysis", (time.perf_counter() - t) * 1e3)

    # --- render loop --------------------------------------------------------------------------------------
    def step(self, timeout: float = 1.0) -> np.ndarray | None:
        """Render and send the next captured frame; None if none came within ``timeout``; EOFError at the end;
        :class:`~livefilter.live.capture.StreamError` when the source failed (anything but a device error)."""
        self._check_open()
        if not self._started:
            self.start()
        if not self._go.is_set() and (self.has_look or self._looks_pending == 0):
            self._go.set()
        try:
            item = self._slot.get(self._last_seq, timeout)
        except EOFError:
            if self._failure is not None and not self._stop.is_set():
                msg = " ".join(f"the source failed: {self._failure}".split())  # one line
                self.errors.append(msg)
                self.status = f"stopped: {msg}"
                raise StreamError(msg) from None
            raise
        if item is None:
            return None
        frame, t_cap, self._last_seq, self._position = item
        if self._until is not None and (at := self._clock()) is not None and at >= self._until - 1e-6:
            raise EOFError  # run(duration=S): this frame starts at S or later on the input's clock
        return self._render(frame, t_cap)

    def process(self, frame: np.ndarray) -> np.ndarray:
        """Push-style use without threads (embedding apps, offline clips): analyse (every k-th call), render and
        send one RGB frame synchronously; returns the graded frame (a buffer reused by the next call)."""
        self._check_open()
        check_rgb(frame, "RGB frame")
        t_cap = time.monotonic()
        self._last_seq += 1
        if (self._last_seq % self.analysis_every == 1 or self.analysis_every == 1) and not self._whole:
            t = time.perf_counter()
            self.estimator.update(frame)
            self.stats.add("analysis", (time.perf_counter() - t) * 1e3)
        return self._render(frame, t_cap)

    def _source_time(self) -> Fraction | None:
        """The last frame's time on its source's clock in seconds (exact), where it has one: its position in the
        source's time base, or (a source without one) its number from 1 at the source's rate."""
        if self._position is None:
            return None
        if (at := self.source.seconds(self._position)) is not None:
            return at
        return Fraction(self._position - 1) / Fraction(self.source.fps)

    def _clock(self) -> float | None:
        """The last frame's time in seconds for ``run(duration=)``: on its file's clock, or a paced source's (a
        looped file, stills, the synthetic clip) by its number at its rate, as a recording stamps it; None for a
        camera (it paces itself)."""
        if (at := self._source_time()) is not None:
            return float(at)
        fps = self.source.fps
        return (self._last_seq - 1) / fps if self.source.paced and fps and fps > 0 else None

    def _render(self, frame: np.ndarray, t_cap: float) -> np.ndarray:
        t0 = time.perf_counter()
        self.stats.add("wait", (time.monotonic() - t_cap) * 1e3)
        if self._out is None or self._out.shape != frame.shape:
            self._out = np.empty_like(frame)
        degree = None if self._whole else self.estimator.degree  # a share of a black-and-white look left colour
        if degree is not None and (degree.shape[0] > frame.shape[0] or degree.shape[1] > frame.shape[1]):
            degree = None  # the frame size just changed; the analysis worker catches up within a frame or two
        if self.has_look and self.strength > 0:
            mask = self.estimator.mask if self._segmented else None
            try:
                out = self.backend.render(frame, degree, self.strength, out=self._out, mask=mask)
            except CudaError as exc:
                self._fall_back_to_cpu(exc)
                out = self.backend.render(frame, degree, self.strength, out=self._out, mask=mask)
        else:
            np.copyto(self._out, frame)
            out = self._out
        t1 = time.perf_counter()
        for sink in self.sinks:
            if getattr(sink, "indexed", False):  # (a sink may be any object with send() and close())
                sink.send(out, index=self._last_seq, at=self._source_time())  # a file's frame: its time in it
            else:
                sink.send(out)
        t2 = time.perf_counter()
        latency = (time.monotonic() - t_cap) * 1e3
        self.stats.add("render", (t1 - t0) * 1e3)
        self.stats.add("sinks", (t2 - t1) * 1e3)
        self.stats.add("latency", latency)
        self.stats.add("frame", (t2 - t0) * 1e3)
        self.stats.tick(time.monotonic())
        self.last_frame = frame
        info = {"seq": self._last_seq, "latency_ms": latency, "fps": self.stats.fps, "degree": degree,
                "boxes": self.estimator.boxes, "scene": self.estimator.scene_score}
        for fn in self._callbacks:
            fn(out, info)
        return out

    def run(self, max_frames: int | None = None, duration: float | None = None) -> dict:
        """Run the render loop until the source ends, ``stop()``, ``max_frames`` or ``duration`` seconds; returns
        the stats. An error raised in it (a failing sink, a callback's exception) or Ctrl+C closes the pipeline
        (devices released, recordings finalised) and re-raises; otherwise closing is left to ``close()`` / the
        context manager, so ``run`` can be called again. ``duration``: seconds of the source (a file's own clock, a
        paced source's frames at its rate, a camera's from its first frame).
        """
        self.start()
        t_end = None if duration is None else time.monotonic() + duration  # (no frame yet: the wall clock)
        # S seconds of the input, as a recording of it lasts (the wall clock from the run's start recorded 49 frames
        # of a 25 fps file in 2 s: its first frame came after the start): a frame at S or later on the input's clock
        # is not rendered (step). From the input's start, a missed first frame counted; on a later run, its first.
        self._until = duration if duration is not None and self._last_seq == 0 else None
        n = 0
        try:
            while not self._stop.is_set():
                if max_frames is not None and n >= max_frames:
                    break
                if t_end is not None and time.monotonic() >= t_end:
                    break
                try:
                    if self.step(timeout=0.5) is None:
                        continue
                except EOFError:
                    break
                n += 1
                if duration is not None and n == 1:
                    if (at := self._clock()) is None:  # a camera: its frames within S seconds of the first one
                        t_end = time.monotonic() + duration - (0.5 / fps if (fps := self.source.fps) > 0 else 0.0)
                    else:
                        t_end = None
                        self._until = at + duration if self._until is None else self._until
        except SinkError as exc:
            self.status = f"stopped: {exc}"
            self.errors.append(str(exc))
            self._close_quietly()
            raise
        except BaseException:
            self._close_quietly()
            raise
        finally:
            self._until = None
        return self.stats.summary()


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"size must look like 1280x720, got {text!r}") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise InputError(f"size must be between 16x16 and 8192x8192, got {text!r}")
    return w, h
