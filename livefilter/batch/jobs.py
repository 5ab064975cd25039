"""One file to grade: the job, its options, its result, and grading it (the local run and the Ray run share these)."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import time
from pathlib import Path

from ..errors import LiveFilterError, OutputError, VideoDecodeError
from ..media.codec import EncodeSettings
from ..media.probe import CHUNK_SECONDS
from .images import apply_image
from .video import apply_video


def count(n: int, noun: str) -> str:
    """"1 frame", "2 frames": a count in words for the lines a run prints."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclasses.dataclass(frozen=True)
class Job:
    src: Path
    dst: Path
    kind: str  # "image" | "video"


@dataclasses.dataclass
class Result:
    job: Job
    status: str  # ok | failed | skipped | interrupted
    message: str = ""
    frames: int = 0
    seconds: float = 0.0
    expected: int = 0  # a video's frames (those graded before a stop are ``frames``)

    @property
    def fps(self) -> float:
        """A video's frames graded a second."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


@dataclasses.dataclass
class Options:
    face_protect: bool = True
    strength: float = 1.0
    interp: str = "trilinear"
    quality: int = 95
    allow_large: bool = False
    crf: float = 18.0
    preset: str = "veryfast"
    keep_partial: bool = False
    chunk_seconds: float | None = None
    #: x264 threads, fixed by whoever plans the run (the Ray driver) so every node encodes alike; None = default
    threads: int | None = None
    #: a frame the decoder flags as damaged is graded as it conceals it (apply --grade-damaged), not a stop
    grade_damaged: bool = False

    def encode_settings(self):
        s = EncodeSettings(crf=self.crf, preset=self.preset)
        return dataclasses.replace(s, threads=self.threads) if self.threads else s


def grade_file(look, job: Job, opts: Options, *, stop=None, progress=None, extra_inputs: tuple = (),
               degree_estimator=None) -> Result:
    """Grade one file and say how it went (ok, or interrupted by ``stop``); errors raise: a LiveFilterError for a
    bad input or an output that cannot be written, VideoDecodeError for corrupt data part-way through a video.
    The output's folder is made first (--out-dir mirrors a recursive input's sub-folders). ``degree_estimator`` (a
    FrameDegree): kept across a batch's photos, so its face detector is loaded once (closing MediaPipe's detector
    takes ~0.1 s: per photo, it was most of a small photo's time)."""
    t = time.perf_counter()
    try:
        job.dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write ({exc.strerror or exc})", job.dst) from None
    if job.kind == "image":
        apply_image(look, job.src, job.dst, face_protect=opts.face_protect, strength=opts.strength,
                    interp=opts.interp, quality=opts.quality, allow_large=opts.allow_large, inputs=extra_inputs,
                    degree_estimator=degree_estimator)
        return Result(job, "ok", frames=1, seconds=time.perf_counter() - t)
    r = apply_video(look, job.src, job.dst, face_protect=opts.face_protect, strength=opts.strength,
                    progress=progress, crf=opts.crf, preset=opts.preset, interp=opts.interp,
                    keep_partial=opts.keep_partial, stop=stop, inputs=extra_inputs,
                    chunk_seconds=opts.chunk_seconds or CHUNK_SECONDS, settings=opts.encode_settings(),
                    grade_damaged=opts.grade_damaged)
    # message: the video's own status ("interrupted (kept)" when --keep-partial kept what was graded); none when
    # graded, as for a photo
    return Result(job, "ok" if r.status == "ok" else "interrupted", "" if r.status == "ok" else r.status,
                  frames=r.frames, seconds=time.perf_counter() - t, expected=r.expected)


def grade_job(look, job: Job, opts: Options, stop=None, progress=None, extra_inputs: tuple = (),
              degree_estimator=None) -> Result:
    """:func:`grade_file`, its expected errors a failed Result with a one-line message (one bad file of a batch
    fails alone)."""
    t = time.perf_counter()
    try:
        return grade_file(look, job, opts, stop=stop, progress=progress, extra_inputs=extra_inputs,
                          degree_estimator=degree_estimator)
    except VideoDecodeError as exc:
        return Result(job, "failed", str(exc), frames=exc.graded, seconds=time.perf_counter() - t)
    except LiveFilterError as exc:  # one naming no file is the input's: a folder run's line must say which
        return Result(job, "failed", str(exc) if exc.path else f"{job.src}: {exc}", seconds=time.perf_counter() - t)
    except OSError as exc:
        return Result(job, "failed", f"{job.dst}: cannot write ({exc.strerror or exc})",
                      seconds=time.perf_counter() - t)


@contextlib.contextmanager
def terminal_signals_blocked():
    """Ctrl+C and hang-up blocked in this thread while it starts worker processes: a process starts with its
    parent's signal mask. The local pool's workers (spawned on submit): a Ctrl+C in a worker's first second (its
    imports, before its initializer ignores it) stays pending there until the initializer's SIG_IGN discards it,
    instead of printing a KeyboardInterrupt traceback per worker and failing every file as "a worker process ended".
    A local Ray cluster's servers (started by ray.init): a closed terminal's hang-up, sent to the whole process
    group, killed them, and the run hung a minute and failed. Here the signal is delivered when the block ends
    (nothing is lost). Where there is no signal mask (Windows) nothing changes."""
    sigs = {getattr(signal, n) for n in ("SIGINT", "SIGHUP") if hasattr(signal, n)}
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
