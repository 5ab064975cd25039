"""Many files: inputs (files and folders) -> a checked job list -> graded in parallel over the cores.

Everything that can be refused is refused before the first file is written: a missing input, a file that is
neither an image nor a video, an output equal to an input, two inputs that would write the same output. Then one
bad file is reported and skipped; the others are graded.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import multiprocessing as mp
import os
import pickle
import shlex
import signal
import sys
import tempfile
import threading
import time
from multiprocessing.util import Finalize
from pathlib import Path

import numba

from ..errors import InputError, OutputError
from ..fileio import check_output_folder, check_output_path, is_folder, same_path
from ..imageio import (
    AUDIO_EXTS,
    IMAGE_EXTS,
    RAW_EXTS,
    RAW_PROBLEM,
    READ_ONLY_IMAGE_EXTS,
    READABLE_IMAGE_EXTS,
    animation_frames,
    check_photo_format,
    check_quality,
)
from ..look import Look, as_look
from ..media.codec import EncodeSettings
from ..media.memory import steady_memory
from ..media.probe import OUTPUT_EXTS, VIDEO_EXTS
from ..render.checks import check_interp, check_strength
from .degree import photo_degree
from .jobs import Job, Options, Result, count, grade_job, terminal_signals_blocked
from .ray_runner import run_on_ray
from .video import output_name, partial_path


def image_output_name(src: Path, photo_format: str | None = None) -> str:
    """The output file name for an input photo: the same name, or its stem with ``photo_format``'s extension; a
    format livefilter reads only (GIF, JPEG 2000) becomes .png."""
    if photo_format is not None:
        return f"{src.stem}.{photo_format}"
    return src.stem + ".png" if src.suffix.lower() in READ_ONLY_IMAGE_EXTS else src.name


def kind_of(path: Path) -> str | None:
    ext = path.suffix.lower()
    return "image" if ext in READABLE_IMAGE_EXTS else "video" if ext in VIDEO_EXTS else None


def plan_jobs(inputs, *, output=None, out_dir=None, recursive: bool = False, extra_inputs: tuple = (),
              ignored: list | None = None, photo_format: str | None = None) -> list[Job]:
    """The jobs for ``inputs`` (files and folders), every refusal made before anything is written. The files of
    an input folder that are neither still photos nor videos (a sidecar, a note, an animated GIF) are appended to
    ``ignored``; hidden ones are not. ``photo_format`` (an output folder's): the photos written in that format
    (PHOTO_FORMATS) instead of their own."""
    if (output is None) == (out_dir is None):
        raise InputError("give either an output file or an output folder")
    photo_format = check_photo_format(photo_format)
    if photo_format is not None and output is not None:
        raise InputError("a photo format is for an output folder: an output file's extension says its format")
    out_dir = Path(out_dir) if out_dir is not None else None
    # One rule for every output of livefilter: the folder it is written into must exist (and be writable); only the
    # sub-folders that --out-dir mirrors from a recursive input are made (grade_job)
    if out_dir is not None:
        check_output_folder(out_dir)
    found: list[tuple[Path, Path]] = []  # (src, path relative to the output folder)
    given: set[str] = set()
    empty: list[Path] = []  # input folders with no photo or video
    for item in map(Path, inputs):
        if output is None and item.exists() and str(item.resolve()) in given:  # a folder twice: blamed on a file
            raise InputError("given twice (once is enough)", item)
        given.add(str(item.resolve()))
        if item.is_dir():
            if output is not None:
                raise InputError("-o takes one input file; use --out-dir for a folder", item)
            before = len(found)
            for f in _folder_files(item, recursive):
                if not f.is_file():
                    if f.is_symlink() and not f.exists() and ignored is not None:
                        ignored.append(f)  # a broken link: named with the files left out (it was left out unsaid)
                    elif f.is_dir() and ignored is not None and not (out_dir is not None and _inside(f, out_dir)):
                        ignored.append(f)  # a sub-folder without -r: its photos were left out unsaid
                    continue
                if kind_of(f) is None or _animated(f):
                    if ignored is not None and not (out_dir is not None and _inside(f, out_dir)):
                        ignored.append(f)
                    continue
                if out_dir is not None and _inside(f, out_dir) and not same_path(out_dir, item):
                    continue  # earlier outputs inside an input folder are not inputs
                found.append((f, f.relative_to(item)))
            if len(found) == before:
                empty.append(item)
        elif item.is_file():
            if kind_of(item) is None:
                if item.suffix.lower() in AUDIO_EXTS:
                    raise InputError("a sound file: no picture to grade", item)
                if item.suffix.lower() in RAW_EXTS:
                    raise InputError(RAW_PROBLEM, item)
                known = ", ".join(READABLE_IMAGE_EXTS + VIDEO_EXTS)
                raise InputError(f"not an image or video file (extension {item.suffix or 'none'!r}; known: {known})",
                                 item)
            found.append((item, Path(item.name)))
        else:
            raise InputError("no such file or folder", item)
    if empty and not found:  # "0 graded, 0 failed of 0 files", exit 0: a wrong folder looked fine
        item = empty[0]
        subs = [d for d in _folder_files(item, False) if d.is_dir() and not (out_dir and _inside(d, out_dir))]
        raise InputError("no still photo or video in this folder"
                         + (" (its sub-folders are graded with -r)" if subs and not recursive else ""), item)
    if output is not None and len(found) != 1:
        raise InputError(f"-o takes one input, got {len(found)}; use --out-dir for several")
    jobs, by_dst, clashes = [], {}, []
    sources = {str(s.resolve()) for s, _ in found}
    for src, rel in found:
        kind = kind_of(src)
        if output is not None:
            dst = Path(output)
            if is_folder(dst):
                raise OutputError("is a folder: -o takes a file name (--out-dir a folder)", dst)
            if kind == "video" and dst.suffix.lower() not in OUTPUT_EXTS:
                raise OutputError(f"unsupported video output extension {dst.suffix!r}; use one of "
                                  f"{', '.join(OUTPUT_EXTS)}", dst)
            if kind == "image" and dst.suffix.lower() not in IMAGE_EXTS:
                if dst.suffix.lower() in OUTPUT_EXTS and _animated(src):  # a GIF meant as a clip: say how
                    raise InputError(f"an animated image ({animation_frames(src)} frames) is not read as a video: "
                                     f"convert it first (ffmpeg -i {shlex.quote(src.name)} "
                                     f"{shlex.quote(src.stem + '.mp4')}), then grade the video", src)
                what = "a photo is graded into a photo" if dst.suffix.lower() in OUTPUT_EXTS else \
                    f"unsupported output extension {dst.suffix!r}"
                raise OutputError(f"{what}; use one of {', '.join(IMAGE_EXTS)}", dst)
        else:
            dst = out_dir / rel.parent / (output_name(src) if kind == "video" else image_output_name(src, photo_format))
        if output is None and (blocker := _file_in_the_way(out_dir, rel.parent)) is not None:
            # each of its files failed with "cannot write (File exists)" or "(Not a directory)"
            raise OutputError("is a file where the output folder mirrors a sub-folder of the input", blocker)
        if output is None and any(same_path(dst, Path(s)) for s in (src, *extra_inputs) if s is not None):
            # (check_output_path's "choose another name": the user gave a folder, not a name)
            raise OutputError(f"output path is the same as an input ({src} -> {dst}); choose another folder", dst)
        if output is not None or dst.parent.is_dir():
            # the output as given: a trailing slash (a folder), which Path drops, is refused there
            check_output_path(output if output is not None else dst, (src, *extra_inputs))
        key = str(dst.resolve())
        if key in by_dst and same_path(Path(by_dst[key]), src):
            raise InputError("given twice (once is enough)", src)
        if key in by_dst:  # every such pair named at once (they came one per run)
            clashes.append(f"{by_dst[key]} and {src} -> {dst}")
            continue
        if key in sources:
            raise OutputError(f"output path is the same as an input ({src} -> {dst}); choose another folder", dst)
        by_dst[key] = src
        jobs.append(Job(src, dst, kind))
    if clashes:  # the first few named (80 pairs made one line of 10 kB)
        pairs = "; ".join(clashes[:CLASHES_SHOWN]) + (f"; and {len(clashes) - CLASHES_SHOWN} more"
                                                      if len(clashes) > CLASHES_SHOWN else "")
        raise OutputError(f"{'two inputs' if len(clashes) == 1 else f'{len(clashes)} pairs of inputs'} would write the "
                          f"same output: {pairs}; rename one of each or grade them into different folders")
    return jobs


CLASHES_SHOWN = 3  # pairs of inputs named in the error when several would write one output


def _folder_files(folder: Path, recursive: bool) -> list[Path]:
    """The entries of ``folder`` (``recursive``: the files of its sub-folders too, a link to a folder followed once:
    rglob left linked albums out without a word), sorted; hidden ones (a name starting with ".") left out."""
    if not recursive:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    out, seen = [], set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:  # a link back up the tree, or to a folder already walked
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        out += [Path(root) / f for f in files if not f.startswith(".")]
    return sorted(out)


def _file_in_the_way(out_dir: Path, rel: Path) -> Path | None:
    """The first of ``out_dir``'s would-be sub-folders ``rel`` that exists as a file, if any."""
    p = out_dir
    for part in rel.parts:
        p = p / part
        if p.exists() and not p.is_dir():
            return p
    return None


#: image formats that can hold an animation (GIF, APNG, animated WebP / AVIF): graded only when still
_ANIMATABLE = (".gif", ".png", ".webp", ".avif")


def _animated(path: Path) -> bool:
    """Whether a file of a folder is an animated image: left out with the files that are not photos (one given by
    name is refused: its frames but the first would be lost)."""
    return path.suffix.lower() in _ANIMATABLE and animation_frames(path) > 1


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


# one look and one stop flag per worker process, set by the initializer
_WORKER: dict = {}


def _parent_logging() -> tuple:
    """What a spawned worker needs to log as this process does: the root logger's level and its first handler's
    formatter (the command line's "livefilter: ..." lines), and livefilter's own level (-v)."""
    root = logging.getLogger()
    fmt = next((h.formatter for h in root.handlers if h.formatter is not None), None)
    try:
        pickle.dumps(fmt)
        if type(fmt).__module__ == "__main__":
            raise TypeError("a class a spawned worker cannot import")
    except (TypeError, AttributeError, pickle.PicklingError):
        fmt = None  # one that holds a stream (a test runner's), or a script's own: the workers keep Python's
    return root.level, fmt, logging.getLogger("livefilter").level


def _worker_init(look, opts, stop, threads, extra_inputs, log_setup=None):
    if log_setup is not None and log_setup[1] is not None:  # else Python's last resort prints bare messages
        level, fmt, own = log_setup
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(fmt)
        logging.basicConfig(level=level, handlers=[handler])
        logging.getLogger("livefilter").setLevel(own)
    # the parent decides; it sets ``stop`` on Ctrl+C / SIGTERM / SIGHUP (the terminal's signals reach the whole
    # process group, workers too)
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    numba.set_num_threads(max(1, threads))
    steady_memory()  # a worker process of our own: the CLI's malloc setting applies here too
    degree = photo_degree(as_look(look), opts.face_protect)  # one face detector for the worker's photos
    Finalize(degree, degree.close, exitpriority=10)  # closed as the worker exits (MediaPipe complains otherwise)
    _WORKER.update(look=as_look(look), opts=opts, stop=stop, extra=extra_inputs, degree=degree)


def _worker_run(job: Job) -> Result:
    w = _WORKER
    if w["stop"].is_set():
        return Result(job, "interrupted", "not started")
    return grade_job(w["look"], job, w["opts"], stop=w["stop"], extra_inputs=w["extra"], degree_estimator=w["degree"])


# What a worker process costs before its first photo is graded: the spawn, its imports (numba, MediaPipe,
# onnxruntime, FFmpeg) and its first photo's one-time set-up. Measured on 2 cores (load 1.5): a spawned worker's first
# 512x768 photo 5.2 s, the same photo in this process 0.82 s the first time and 0.02 s after.
WORKER_START_S = 4.0


def _worth_workers(remaining: int, per_file_s: float, workers: int) -> bool:
    """Whether ``remaining`` photos at ``per_file_s`` each finish sooner on ``workers`` fresh processes (which first
    pay WORKER_START_S, in parallel) than one after another in this process."""
    return remaining > 1 and remaining * per_file_s * (1 - 1 / workers) > WORKER_START_S


def run_jobs(look, jobs: list[Job], opts: Options, *, workers: int | None = None, stop=None, on_result=None,
             progress=None, extra_inputs: tuple = ()) -> list[Result]:
    """Grade ``jobs``; ``workers`` processes (default: one per core, at most one per job). ``on_result(result)``
    after each file; ``stop`` (an Event) ends the run early (a video being graded stops cleanly).

    Photos at the head of the list are graded in this process first, one by one, for as long as the rest would
    take less than starting worker processes (:func:`_worth_workers`, from the time of the last photo: the first
    one pays this process's set-up): a few photos are graded as fast as single ``apply`` calls, many photos and
    any video still go to one worker per core."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    order = {job: i for i, job in enumerate(jobs)}
    results = []
    if workers == 1 or (jobs and jobs[0].kind == "image"):
        stop = stop or threading.Event()
        here, last = as_look(look), 0.0
        degree = photo_degree(here, opts.face_protect)  # one face detector for the photos graded here
        try:
            for i, job in enumerate(jobs):
                if workers > 1 and not stop.is_set() and (
                        job.kind != "image" or i >= 2 and _worth_workers(len(jobs) - i, last, workers)):
                    break
                t = time.perf_counter()
                if stop.is_set():
                    r = Result(job, "interrupted", "not started")
                else:
                    r = grade_job(here, job, opts, stop=stop, progress=progress if len(jobs) == 1 else None,
                                  extra_inputs=extra_inputs, degree_estimator=degree)
                last = time.perf_counter() - t
                results.append(r)
                if on_result:
                    on_result(r)
        finally:
            degree.close()
        jobs = jobs[len(results):]
        if not jobs:
            return results
        workers = min(workers, len(jobs))
    _not_in_a_starting_worker()
    ctx = mp.get_context("spawn")  # no fork after numba / MediaPipe / FFmpeg threads started
    mp_stop = ctx.Event()
    threads = max(1, (os.cpu_count() or 1) // workers)
    with tempfile.TemporaryDirectory(prefix="livefilter-look-") as folder:
        # a Look goes to the workers as a file: pickled into each worker's start-up data, a look's tables (0.4 MB
        # each, with its readings') overfilled the pipe, and a worker that died while starting (a script without
        # the __main__ guard) left this process blocked writing to it forever
        look = str(look) if isinstance(look, (str, os.PathLike)) else str(
            as_look(look).save(Path(folder) / "look.look.npz"))
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                                                    initargs=(look, opts, mp_stop, threads, extra_inputs,
                                                              _parent_logging())) as pool:
            try:
                # the workers start with the terminal's signals blocked (see there); a Ctrl+C meanwhile is raised
                # here as the block ends, inside the try: the workers are told to stop
                with terminal_signals_blocked():
                    futures = {pool.submit(_worker_run, job): job for job in jobs}
                pending = set(futures)
                while pending:
                    done, pending = concurrent.futures.wait(pending, timeout=0.2,
                                                            return_when=concurrent.futures.FIRST_COMPLETED)
                    if stop is not None and stop.is_set():
                        mp_stop.set()
                    for f in done:
                        results.append(_result_of(f, futures[f], mp_stop.is_set()))
                        if on_result:
                            on_result(results[-1])
            except BaseException:
                mp_stop.set()
                raise
    return sorted(results, key=lambda r: order[r.job])


def _result_of(future, job: Job, stopped: bool = False) -> Result:
    """A worker's Result; a crashed worker fails its file, not the batch (``stopped``: the run was being stopped,
    so the file is not finished rather than failed)."""
    try:
        return future.result()
    except concurrent.futures.process.BrokenProcessPool:  # a worker died: its own error is on stderr
        if stopped:
            return Result(job, "interrupted", "not started")
        return Result(job, "failed", f"{job.src}: a worker process ended before grading it (in a script, is "
                      "apply_folder under `if __name__ == \"__main__\":`?)")
    except Exception as exc:  # noqa: BLE001
        return Result(job, "failed", f"{job.src}: {type(exc).__name__}: {exc}")


def _not_in_a_starting_worker() -> None:
    """Refuse to grade inside a worker process that is still importing the caller's script: the workers are
    spawned, so each imports the script that started them, and a script calling apply_folder at its top level ran
    it again in every worker (each grading the photos again, then failing to start workers; the first process
    waited forever). The worker ends there with one line (an exception printed a 17-line traceback in each worker);
    the first process's results name the guard for each file (``_result_of``)."""
    if getattr(mp.current_process(), "_inheriting", False):  # what multiprocessing itself checks (spawn.py)
        print("livefilter: apply_folder was called while a worker process was importing the script that started "
              "it: put the call under `if __name__ == \"__main__\":` (the workers import the script)",
              file=sys.stderr, flush=True)
        raise SystemExit(1)


def summary(results: list[Result], skipped: int = 0) -> str:
    ok = sum(r.status == "ok" for r in results)
    failed = sum(r.status == "failed" for r in results)
    stopped = sum(r.status == "interrupted" for r in results)
    parts = [f"{ok} graded", f"{failed} failed"]
    if skipped:
        parts.append(f"{skipped} skipped (output exists)")
    if stopped:
        kept = [partial_path(r.job.dst).name for r in results if r.message == "interrupted (kept)"]  # --keep-partial
        where = f"; {count(len(kept), 'part')} kept: {', '.join(kept[:3])}{', ...' if len(kept) > 3 else ''}"
        parts.append(f"{stopped} not finished (stopped{where if kept else ''})")
    return ", ".join(parts) + f" of {count(len(results) + skipped, 'file')}"


@dataclasses.dataclass
class Batch:
    """A checked batch: its look read, the jobs to grade, those left because their output exists, and the files
    of the input folders that are neither photos nor videos."""

    look: Look
    todo: list[Job]
    skipped: list[Job]
    extra_inputs: tuple = ()  # the look's file, which no output may overwrite
    ignored: list[Path] = dataclasses.field(default_factory=list)

    def ignored_line(self, show: int | None = 3) -> str | None:
        """One line naming the files left out, ``show`` of each kind (all with None; None when there are none)."""
        kinds: dict[str, list[Path]] = {k: [] for k in _LEFT_OUT}
        for f in self.ignored:
            kinds["link" if f.is_symlink() and not f.exists() else "folder" if f.is_dir()
                  else "raw" if f.suffix.lower() in RAW_EXTS else "file"].append(f)
        parts = []
        for kind, files in kinds.items():
            if files:
                noun, one, many = _LEFT_OUT[kind]
                n = len(files) if show is None else show
                names = ", ".join(map(str, files[:n])) + (f" and {len(files) - n} more" if len(files) > n else "")
                parts.append(f"{count(len(files), noun)}{one if len(files) == 1 else many} ({names})")
        return "left out " + "; ".join(parts) if parts else None


#: what a folder run leaves out, in the order ignored_line names them: noun, then its words for one and for several
_LEFT_OUT = {"file": ("file", " that is not a still photo or a video", " that are not a still photo or a video"),
             "link": ("link", " that is broken", " that are broken"),
             "raw": ("camera RAW file", ", which livefilter does not read: export it as TIFF or JPEG",
                     ", which livefilter does not read: export them as TIFF or JPEG"),
             "folder": ("sub-folder", ": -r grades its photos too", ": -r grades their photos too")}


def plan_batch(look, inputs, *, output=None, out_dir=None, recursive: bool = False,
               skip_existing: bool = False, photo_format: str | None = None) -> Batch:
    """The jobs for ``inputs`` (:func:`plan_jobs`: every refusal before anything is written), then the look read
    (:func:`~livefilter.look.as_look`: a Look, a Lut, a look file...); ``skip_existing`` sets aside the jobs whose
    output exists."""
    extra = (look,) if isinstance(look, (str, os.PathLike)) else ()
    ignored: list[Path] = []
    jobs = plan_jobs(inputs, output=output, out_dir=out_dir, recursive=recursive, extra_inputs=extra, ignored=ignored,
                     photo_format=photo_format)
    batch = Batch(as_look(look), [], [], extra, ignored)
    for job in jobs:
        (batch.skipped if skip_existing and job.dst.exists() else batch.todo).append(job)
    return batch


def grade_batch(batch: Batch, opts: Options, *, workers: int | None = None, ray=None, stop=None,
                on_result=None) -> list[Result]:
    """Grade ``batch.todo``: here and on ``workers`` processes (:func:`run_jobs`; ``stop`` ends the run early), or
    on a Ray cluster (``ray``: "local", "auto" or an address). One Result per job, in order."""
    if ray is not None:
        return run_on_ray(batch.look, batch.todo, opts, address=ray, on_result=on_result, stop=stop)
    return run_jobs(batch.look, batch.todo, opts, workers=workers, stop=stop, on_result=on_result,
                    extra_inputs=batch.extra_inputs)


def apply_folder(look, inputs, out_dir, *, recursive: bool = False, skip_existing: bool = False,
                 workers: int | None = None, face_protect: bool = True, strength: float = 1.0, crf: float = 18.0,
                 preset: str = "veryfast", interp: str = "trilinear", quality: int = 95, keep_partial: bool = False,
                 progress=None, ray=None, stop=None, chunk_seconds: float | None = None,
                 grade_damaged: bool = False, photo_format: str | None = None) -> list[Result]:
    """Grade images and videos (files and folders; ``recursive`` descends into sub-folders) into ``out_dir``,
    keeping relative paths, in parallel over the cores (or on a Ray cluster: ``ray="local"``, ``"auto"`` or an
    address). One bad file fails alone (its Result says why); refusals (missing input, collisions, an output equal
    to an input) raise before anything is written. ``skip_existing`` leaves files whose output exists.
    ``progress(done_files, total_files)``. ``grade_damaged``: a video frame the decoder flags as damaged is graded
    as it conceals it (:func:`~livefilter.batch.video.apply_video`) instead of failing that video.
    ``photo_format`` ("jpg", "png", "tif", "webp", "avif", "heic"): every photo written in that format (TIFFs
    delivered as JPEGs); None: each in its own. Returns one
    Result per input file (skipped ones included). ``stop`` (an Event; set it from a signal handler) ends the run
    early, here or on Ray: no file started after it, a video in progress ends cleanly (with ``keep_partial``, what
    it graded is kept). Its worker processes are spawned and import the calling script:
    in a script, call it under ``if __name__ == "__main__":``."""
    _not_in_a_starting_worker()
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    # bad settings are one error before anything is done (a strength of 3 failed every file in its result)
    check_strength(strength)
    check_interp(interp)
    check_quality(quality)
    EncodeSettings(crf=crf, preset=preset)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"workers must be a whole number >= 1 (None: one per core), got {workers!r}")
    batch = plan_batch(look, inputs, out_dir=out_dir, recursive=recursive, skip_existing=skip_existing,
                       photo_format=photo_format)
    opts = Options(face_protect, strength, interp, quality, False, crf, preset, keep_partial, chunk_seconds,
                   grade_damaged=grade_damaged)
    done = []

    def tick(r):
        done.append(r)
        if progress:
            progress(len(done), len(batch.todo))

    results = grade_batch(batch, opts, workers=workers, ray=ray, stop=stop, on_result=tick)
    return [Result(j, "skipped", "output exists") for j in batch.skipped] + results
