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

import collections
import concurrent.futures
import logging
import os
import re
import sys
import threading
import time
from pathlib import Path

import numpy as np

from ..analysis import DegreeEstimator
from ..errors import InputError, LiveFilterError
from ..render import create_backend
from ..render.cuda import CudaError
from .capture import LatestFrame, StreamError, capture
from .sinks import Sink, SinkError
from .sources import Source

log = logging.getLogger(__name__)


JOIN_TIMEOUT = 5.0  # how long close() waits for each worker before leaving the release to the worker itself


class Stats:
    """Rolling per-stage timings (ms) and frame rate; safe across threads (the render loop and the analysis
    worker add, the preview window reads): summaries work on a copy taken under the lock."""

    def __init__(self, window: int = 600):
        self.stages: dict[str, collections.deque] = collections.defaultdict(lambda: collections.deque(maxlen=window))
        self.times = collections.deque(maxlen=window)
        self.frames = 0
        self._lock = threading.Lock()

    def add(self, stage: str, ms: float) -> None:
        with self._lock:
            self.stages[stage].append(ms)

    def tick(self, t: float) -> None:
        with self._lock:
            self.times.append(t)
            self.frames += 1

    @property
    def fps(self) -> float:
        with self._lock:
            if len(self.times) < 2:
                return 0.0
            n, first, last = len(self.times), self.times[0], self.times[-1]
        return (n - 1) / max(last - first, 1e-9)

    def summary(self) -> dict:
        with self._lock:
            frames = self.frames
            stages = [(k, list(v)) for k, v in self.stages.items()]
        out = {"frames": frames, "fps": round(self.fps, 2)}
        for k, v in stages:
            if v:
                a = np.asarray(v)
                p50, p95, p99 = (round(float(np.percentile(a, q)), 3) for q in (50, 95, 99))
                out[k] = {"p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "max_ms": round(float(a.max()), 3)}
        return out


class LivePipeline:
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
        self.strength = float(strength)
        self.analysis_every = max(1, int(analysis_every))
        # scene similarity: on unless scene=False; it only acts while the look came from a photo (its features are
        # the template's); a look file has no template photo, so s stays 1 for it
        tracker = None
        if scene:
            from ..analysis.scene import LIVE_THREADS, SceneTracker

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
        self.has_look = False
        self._segmented = False  # the live look has per-segment LUTs (the render pass takes the soft mask)
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
                                                            initializer=_background_thread)
        self._callbacks = []
        self._last_seq = 0
        self._out = None
        self._started = False
        self._closed = False
        self.last_frame: np.ndarray | None = None
        #: set by whoever stops the run on a signal (the CLI's SIGTERM handler), for the closing message
        self.stopped_by_signal: str | None = None
        if look is not None:
            self.set_template(look).result()

    # --- control ------------------------------------------------------------------------------------------
    def set_strength(self, strength: float) -> None:
        self.strength = float(min(max(strength, 0.0), 1.0))

    def set_face_protect(self, on: bool) -> None:
        self.estimator.set_face_protect(on)

    @property
    def face_protect(self) -> bool:
        return self.estimator.face_protect

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
    def dropped_frames(self) -> int:
        """Captured frames the render loop never took (replaced in the one-frame slot by a newer one)."""
        return self._slot.dropped

    def add_callback(self, fn) -> None:
        """``fn(frame_out, info)`` after each rendered frame (info: seq, latency_ms, fps, degree, boxes, scene)."""
        self._callbacks.append(fn)

    @property
    def candidate(self) -> tuple[int, int]:
        """(which reading is live, how many the look has): (1, 1) for a look without candidates."""
        look = self.look
        return (look.picked, max(1, len(look.candidates))) if look is not None else (1, 1)

    def pick_candidate(self, n: int) -> concurrent.futures.Future:
        """Make reading ``n`` (1-based) of the current look live, on the look worker (its LUT is prepared there,
        then swapped in: the output never waits)."""
        return self._submit(self._pick, n)

    def pick_next(self) -> concurrent.futures.Future:
        """The next reading of the live look (the preview's 'c'), worked out on the look worker when its turn comes,
        so quick presses each move one reading on, and a press during a template change applies to the new look."""
        return self._submit(self._pick_next)

    def _pick_next(self) -> str:
        n, k = self.candidate
        return self._pick(n % k + 1) if k > 1 else (self.look_name or "")

    def _pick(self, n: int) -> str:
        if self.look is None:
            raise LiveFilterError("no look with readings is live")
        look = self.look.pick(n)
        self._set_luts([look.lut])
        self._show_look(look, look.lut, self._reading_name(look), look.meta.get("confidence"))
        return self.look_name

    def save_look(self, folder: str | os.PathLike = ".") -> concurrent.futures.Future:
        """Save the live look at the live strength as LOOK.cube and LOOK.look.npz in ``folder`` (new names, never
        over a file), on the look worker; the future gives the two paths."""
        # what is live now, not what is live when the worker gets to it (a fit may be queued before)
        return self._submit(self._save, Path(folder), self.look, self._lut, self.look_name, self.strength,
                            failure="not saved")

    def _save(self, folder: Path, look, lut, name, strength: float) -> tuple[Path, Path]:
        from ..look import LOOK_EXT, Look

        look = look if look is not None else (Look(lut=lut) if lut is not None else None)
        if look is None:
            raise LiveFilterError("no look is live")
        base = re.sub(r"[^\w.-]+", "_", name or "look").strip("._") or "look"
        n, stem = 1, base
        while (folder / f"{stem}.cube").exists() or (folder / f"{stem}{LOOK_EXT}").exists():
            n += 1
            stem = f"{base}-{n}"
        kept = look.with_strength(strength)
        paths = kept.save(folder / f"{stem}.cube"), kept.save(folder / f"{stem}{LOOK_EXT}")
        self.status = f"saved {paths[0].name} and {paths[1].name}"
        log.info("saved %s and %s", *paths)
        return paths

    def _submit(self, fn, *args, log_failure: bool = True, failure: str = "look not changed"
                ) -> concurrent.futures.Future:
        if self._closed:
            raise LiveFilterError("the pipeline is closed")
        return self._spawn(self._guarded, (log_failure, failure), fn, *args)

    def _spawn(self, fn, *args) -> concurrent.futures.Future:
        """Queue ``fn`` on the look worker, counted as a user of the backend and estimator until it is done."""
        with self._release_lock:
            self._looks_pending += 1
        try:
            fut = self._looks.submit(fn, *args)
        except RuntimeError:  # the executor was shut down by close() meanwhile
            self._look_done(None)
            raise LiveFilterError("the pipeline is closed") from None
        fut.add_done_callback(self._look_done)
        return fut

    def _guarded(self, report: tuple[bool, str], fn, *args):
        log_failure, failure = report
        try:
            return fn(*args)
        except Exception as exc:
            msg = str(exc) if isinstance(exc, LiveFilterError) else f"{type(exc).__name__}: {exc}"
            if self._closed:  # closed during a fit: nothing to report to anyone
                log.debug("%s (the pipeline closed): %s", failure, msg)
                raise
            self.errors.append(msg)
            self.status = f"{failure}: {msg}"
            if log_failure:
                log.error("%s: %s", failure, msg)
            raise

    @staticmethod
    def _reading_name(look) -> str:
        if not look.candidates:
            return look.name
        c = look.candidates[look.picked - 1]
        return f"{look.name} [{look.picked}/{len(look.candidates)} {c.kind}]"

    def _show_look(self, look, lut, name: str, conf) -> None:
        self.look, self._lut = look, lut
        self.look_name, self.has_look = name, True
        reading = look.candidates[look.picked - 1] if look is not None and look.candidates else None
        conf = reading.confidence if reading is not None else conf
        self.look_confidence = conf.get("level") if conf else None
        self.status = f"look: {name}"

    def set_template(self, template, original=None, *, assume_look: bool = False, pick: int | None = None,
                     log_failure: bool = True) -> concurrent.futures.Future:
        """Fit (or load) a look in the background and swap it in when ready. ``template`` is a look file
        (.cube, .3dl, .look.npz, HaldCLUT .png), a photo (alone, or with ``original``), a
        :class:`~livefilter.Look` or a :class:`~livefilter.Lut`. What a file is comes from
        :func:`livefilter.luts.look_file_kind` (a .png is a HaldCLUT only when its content says so, or with
        ``assume_look``). The previous look stays live meanwhile and if this fails (the error is kept in
        ``errors`` and the returned future, and logged unless ``log_failure`` is False: a caller that reports the
        future's error itself, as the command line does for the first look). ``pick``: which of a one-photo look's
        readings goes live (None: the look's own pick)."""
        return self._submit(self._load_look, template, original, assume_look, pick, log_failure=log_failure)

    def _look_done(self, _fut) -> None:
        with self._release_lock:
            self._looks_pending -= 1
        self._release_if_idle()

    def _load_look(self, template, original, assume_look=False, pick=None):
        from ..look import Look, fit_look, load_look
        from ..luts import look_file_kind, read_lut
        from ..luts.lut import Lut

        conf, photo, look = None, None, None
        if isinstance(template, Lut):
            lut, name = template, template.title or "lut"
        elif isinstance(template, Look):
            look = template
        else:
            p = Path(template)
            kind = "image" if original is not None else look_file_kind(p, assume_look=assume_look)
            if kind == "lut" and assume_look:  # the user said it is a look: no content check
                lut = read_lut(p, check_content=False)
                name = lut.title or p.stem
            else:
                look = fit_look(p, original) if kind == "image" else load_look(p)
                photo = p if kind == "image" else None
        if look is not None:
            look = look.pick(pick) if pick not in (None, look.picked) else look
            lut, name, conf = look.lut, self._reading_name(look), look.meta.get("confidence")
        elif pick not in (None, 1):
            raise InputError(f"there is no reading {pick}: a LUT file has one look")
        if photo is None and look is not None and "scene" in look.meta:  # a .look.npz keeps its template's scene
            from ..analysis.scene import SceneFeatures

            photo = SceneFeatures.from_meta(look.meta["scene"])
        if self._closed:
            raise LiveFilterError("the pipeline closed during the fit")
        self._set_scene_template(photo)
        # a per-segment look (fit --segments): the frames are segmented and each region gets its category's
        # LUT, mixed by the soft mask in the render pass; any other look: one LUT, no segmenter
        segmented = look is not None and look.segmented
        # (the flag is up before the LUTs swap in and down after: a one-LUT backend ignores a mask)
        if segmented:
            self.estimator.set_segments(True)  # loads the model here, on the look worker
            self._segmented = True
            self._set_luts(look.category_luts())
        else:
            self._set_luts([lut])  # prepares (bakes/uploads) first, then swaps by reference
            self._segmented = False
            self.estimator.set_segments(False)
        self._show_look(look, lut, name, conf)
        if look is not None and len(look.candidates) > 1 and not self._closed:  # the other readings ready
            try:                                                                      # before 'c' asks for them
                self._spawn(self._prepare_readings, look)
            except LiveFilterError:
                pass  # closed meanwhile
        return name

    def _set_luts(self, luts) -> None:
        luts = list(luts)
        with self._backend_lock:
            if len(luts) == 1:
                self.backend.set_lut(luts[0])
            else:
                self.backend.set_luts(luts)
            self._backend_luts = luts

    def _fall_back_to_cpu(self, exc: Exception) -> None:
        """The GPU failed mid-stream: go on with the CPU backend and the same look (one log line)."""
        old = self.backend
        with self._backend_lock:
            cpu = create_backend("cpu")
            cpu.interp = getattr(old, "interp", cpu.interp)
            if self._backend_luts:
                if len(self._backend_luts) == 1:
                    cpu.set_lut(self._backend_luts[0])
                else:
                    cpu.set_luts(self._backend_luts)
            self.backend = cpu
        log.warning("render backend %s failed (%s); going on with the cpu backend", old.name, exc)
        self.status = f"{old.name} failed; rendering on the cpu"
        _close_all([old])

    def _prepare_readings(self, look) -> None:
        for r in look.candidates:
            if self._closed or self.look is not look:
                return
            try:
                self.backend.prepare(r.lut)
            except Exception as exc:  # noqa: BLE001 - only a head start: set_lut reports a real failure
                log.debug("reading not prepared ahead: %s", exc)

    def _set_scene_template(self, photo) -> None:
        """The template photo's scene features for the scene similarity (on the look worker, before the swap);
        a look without a photo, or a scene model that fails, leaves s at 1 (logged) and the look still loads."""
        scene = self.estimator.scene
        if scene is None:
            return
        if photo is None:
            scene.clear_template()
            return
        try:
            scene.set_template(photo)
        except (LiveFilterError, OSError, ValueError, RuntimeError) as exc:
            scene.clear_template()
            log.warning("scene similarity off for this look: %s", exc)

    # --- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> LivePipeline:
        if self._started:
            return self
        self._started = True
        # The render loop must get the GIL back quickly while the look worker fits a template in Python: with
        # the default 5 ms switch interval a swap doubled the p99 frame time (measured with bench-live --swap).
        # Process-wide: put back when the last running pipeline closes.
        _fast_switching(True)
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
            self.estimator.warm_up()
        except Exception as exc:  # noqa: BLE001 - a warm-up is an optimisation; the real frame will report
            log.debug("warm-up failed: %s", exc)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

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
        read, a fit) releases them itself when it ends, never while it uses them. Safe to call twice."""
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
        _close_all(self.sinks)  # only the caller's render loop uses them
        if self._switch_saved:  # process-wide: not left to a worker that may never end
            self._switch_saved = False
            _fast_switching(False)
        with self._release_lock:
            self._release_due = True
            busy = sorted(self._busy) + (["lf-look"] if self._looks_pending else [])
        if busy:
            log.warning("%s still running after %.0f s; released when %s", ", ".join(busy), JOIN_TIMEOUT,
                        "it ends" if len(busy) == 1 else "they end")
        self._release_if_idle()

    def _release_if_idle(self) -> None:
        """Release what the workers use, once: after close() and when no worker is left."""
        with self._release_lock:
            if not self._release_due or self._released or self._busy or self._looks_pending:
                return
            self._released = True
        _close_all([self.source, self.backend, self.estimator])

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
            frame, _, seq = item
            if seq % self.analysis_every:
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
        frame, t_cap, self._last_seq = item
        return self._render(frame, t_cap)

    def process(self, frame: np.ndarray) -> np.ndarray:
        """Push-style use without threads (embedding apps, offline clips): analyse (every k-th call), render and
        send one RGB frame synchronously; returns the graded frame (a buffer reused by the next call)."""
        if not (isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3):
            raise InputError(f"expected a uint8 (H, W, 3) RGB frame, got {getattr(frame, 'dtype', type(frame))} "
                             f"{getattr(frame, 'shape', '')}")
        t_cap = time.monotonic()
        self._last_seq += 1
        if self._last_seq % self.analysis_every == 1 or self.analysis_every == 1:
            t = time.perf_counter()
            self.estimator.update(frame)
            self.stats.add("analysis", (time.perf_counter() - t) * 1e3)
        return self._render(frame, t_cap)

    def _render(self, frame: np.ndarray, t_cap: float) -> np.ndarray:
        t0 = time.perf_counter()
        self.stats.add("wait", (time.monotonic() - t_cap) * 1e3)
        if self._out is None or self._out.shape != frame.shape:
            self._out = np.empty_like(frame)
        degree = self.estimator.degree
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
                sink.send(out, index=self._last_seq)
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
        the stats. A failing sink or Ctrl+C closes the pipeline (devices released, recordings finalised) and
        re-raises; otherwise closing is left to ``close()`` / the context manager, so ``run`` can be called again.
        """
        self.start()
        t_end = None if duration is None else time.monotonic() + duration
        n = 0
        try:
            while not self._stop.is_set():
                if max_frames is not None and n >= max_frames:
                    break
                if t_end is not None and time.monotonic() >= t_end:
                    break
                try:
                    if self.step(timeout=0.5) is not None:
                        n += 1
                except EOFError:
                    break
        except SinkError as exc:
            self.status = f"stopped: {exc}"
            self.errors.append(str(exc))
            self.close()
            raise
        except BaseException:
            self.close()
            raise
        return self.stats.summary()


def _close_all(objs) -> None:
    for obj in objs:
        try:
            obj.close()
        except Exception as exc:  # noqa: BLE001 - closing must go on for the others
            log.warning("closing %s failed: %s", getattr(obj, "name", obj), exc)


_switch = {"users": 0, "saved": None}
_switch_lock = threading.Lock()


def _fast_switching(on: bool) -> None:
    """Lower the interpreter's switch interval while at least one pipeline runs; the first start saves the value
    found, the last close puts it back (sys.setswitchinterval is process-wide)."""
    with _switch_lock:
        if on:
            if _switch["users"] == 0:
                _switch["saved"] = sys.getswitchinterval()
            _switch["users"] += 1
            sys.setswitchinterval(min(sys.getswitchinterval(), 0.0005))
        elif _switch["users"] > 0:
            _switch["users"] -= 1
            if _switch["users"] == 0:
                sys.setswitchinterval(_switch["saved"])


def _background_thread() -> None:
    """Make the look worker yield to the render loop: lowest CPU priority and a single numba thread for baking.

    On 2 cores a fit + bake running at normal priority doubled the render loop's p99 frame time (measured with
    ``bench-live --swap``)."""
    import os

    import numba

    numba.set_num_threads(1)  # thread-local in numba
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # Linux: per-thread nice
    except (AttributeError, OSError):
        pass


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"size must look like 1280x720, got {text!r}") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise InputError(f"size must be between 16x16 and 8192x8192, got {text!r}")
    return w, h
