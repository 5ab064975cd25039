"""The same batch on a Ray cluster (extra ``scale``): photos as a Ray Data ``map_batches`` over an actor pool
(each actor loads the look once), long videos split at keyframes into chunks graded in parallel and joined on the
driver with the audio muxed once. Every chunk is graded exactly as the local run grades it (its own encoder and
degree state, the driver's encoder settings), and the join writes through the local run's muxer, so the outputs
are byte-identical to the local run's.

Inputs and outputs are paths: on a real cluster they must be on storage every node sees (NFS, a mounted bucket).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
import time

from ..errors import InputError, LiveFilterError, VideoDecodeError
from ..fileio import temp_beside
from ..look import as_look
from ..media.codec import decode, for_output, missing_frames, say_damaged, say_if_odd_size, say_what_is_lost
from ..media.mux import Muxer
from ..media.probe import CHUNK_SECONDS, probe
from .degree import photo_degree
from .images import apply_image
from .jobs import Job, Options, Result, grade_job
from .video import DAMAGED_HINT, GradeOptions, grade_frames

log = logging.getLogger(__name__)

PHOTO_BATCH = 4


def _ray():
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray: pip install 'livefilter[scale]'") from None
    return ray


def connect(address: str | None = "local"):
    """Join (or start) a cluster: ``local`` starts one on this machine, ``auto`` finds a running one,
    anything else is an address (``ray://host:10001``). A cluster already joined by the caller is used as is."""
    ray = _ray()
    if not ray.is_initialized():
        # Ray's own progress and set-up lines (about 14 a run) only when ours are verbose (the CLI's -v)
        quiet = not logging.getLogger("livefilter").isEnabledFor(logging.DEBUG)
        kw = {"include_dashboard": False, "log_to_driver": False,
              "logging_level": logging.ERROR if quiet else logging.INFO}
        if quiet:
            import ray.data  # configures its own loggers on import: quietened after it

            for name in ("ray", "ray.data"):
                logging.getLogger(name).setLevel(logging.ERROR)
        if address in (None, "local"):
            ray.init(**kw)
        else:
            try:
                ray.init(address=address, **kw)
            except ValueError as exc:  # Ray's "Invalid address format: ..." and the like
                raise InputError(f"--ray {address}: not a Ray address ({exc}); give local, auto or "
                                 "ray://HOST:10001") from None
    return ray


class PhotoGrader:
    """A Ray Data actor: loads the look once, grades a batch of photos (paths in, statuses out)."""

    def __init__(self, look, opts: Options):
        self.look, self.opts = as_look(look), opts
        self.degree = photo_degree(self.look, opts.face_protect)

    def __call__(self, batch: dict) -> dict:
        status, message = [], []
        for src, dst in zip(batch["src"], batch["dst"], strict=True):
            try:
                os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
                apply_image(self.look, src, dst, face_protect=self.opts.face_protect, strength=self.opts.strength,
                            interp=self.opts.interp, quality=self.opts.quality, allow_large=self.opts.allow_large,
                            degree_estimator=self.degree)
                status.append("ok")
                message.append("")
            except (LiveFilterError, OSError) as exc:
                status.append("failed")
                message.append(str(exc))
        return {"src": list(batch["src"]), "status": status, "message": message}


class _Said(logging.Handler):
    """The warnings livefilter logs while a worker grades a file, kept to be said where the run was started."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _grade_whole(look, job: Job, opts: Options):
    """A video graded whole on a worker: its Result and the warnings it gave (a stream left out, an odd size, damaged
    frames graded through), which the driver says (a worker's log is not shown: log_to_driver is off)."""
    said = _Said()
    logger = logging.getLogger("livefilter")
    logger.addHandler(said)
    try:
        return grade_job(look, job, opts), said.lines
    finally:
        logger.removeHandler(said)


def _grade_chunk(look, info, i: int, gopts, grade_damaged: bool = False):
    """One chunk of a video: its frames [start, end) decoded, graded and encoded; returns the packets and the pts
    of the damaged frames graded through (``grade_damaged``)."""
    look = as_look(look)
    start, end = info.chunk_range(i)
    packets, damaged = [], []
    frames = decode(info, start, end, on_damaged=damaged.append if grade_damaged else None)
    try:
        grade_frames(((pts, i, rgb) for pts, rgb in frames), look, info, gopts, packets.append, threading.Event())
    except VideoDecodeError as exc:
        if exc.damaged_frame:
            raise VideoDecodeError(exc.problem + DAMAGED_HINT, info.path, exc.graded) from None
        raise
    return packets, damaged


def _join(info, dst, chunks: list, settings) -> int:
    """Mux the chunks' packets in order with the source's other streams, like the local run; returns frames."""
    tmp = temp_beside(dst, dst.suffix)
    ok = False
    damaged = []
    try:
        m = Muxer(tmp, info, settings)
        try:
            for packets, chunk_damaged in chunks:
                damaged += chunk_damaged
                for p in packets:
                    m.write(p)
        finally:
            m.close()
        if problem := missing_frames(info, m.frames, m.last_pts):
            raise VideoDecodeError(problem, info.path, m.frames)
        say_damaged(info, damaged)
        os.replace(tmp, dst)
        ok = True
        return m.frames
    finally:
        if not ok:
            with contextlib.suppress(OSError):
                tmp.unlink()


def run_on_ray(look, jobs: list[Job], opts: Options, *, address: str | None = "local", on_result=None,
               photo_actors: int | None = None) -> list[Result]:
    """Grade ``jobs`` on Ray; one Result per job, in the jobs' order."""
    ray = connect(address)
    look = as_look(look)
    # the driver fixes the encoder settings (x264's output depends on its thread count)
    opts = dataclasses.replace(opts, threads=opts.encode_settings().threads)
    settings = opts.encode_settings()
    gopts = GradeOptions(opts.face_protect, opts.strength, opts.interp, 2, settings)
    look_ref = ray.put(look)
    results: dict[Job, Result] = {}

    def done(r: Result):
        results[r.job] = r
        if on_result:
            on_result(r)

    photos = [j for j in jobs if j.kind == "image"]
    videos = [j for j in jobs if j.kind == "video"]

    # videos: whole ones as tasks, long ones as chunk tasks; all submitted before the photos run
    whole = ray.remote(_grade_whole)
    chunk_task = ray.remote(_grade_chunk)
    pending = {}
    for j in videos:
        t = time.perf_counter()
        try:
            info = probe(j.src, opts.chunk_seconds or CHUNK_SECONDS)
        except LiveFilterError as exc:
            done(Result(j, "failed", str(exc)))
            continue
        if info.chunks == 1:  # its warnings come back with its result (a worker's log is not shown)
            pending[j] = ("whole", whole.remote(look_ref, j, opts), info, t)
        else:  # what the output cannot keep is said here; the join, here too, says the streams it leaves out
            say_if_odd_size(info.width, info.height, j.dst)
            say_what_is_lost(info, j.dst)
            job_gopts = dataclasses.replace(gopts, settings=for_output(settings, j.dst))
            refs = [chunk_task.remote(look_ref, info, i, job_gopts, opts.grade_damaged) for i in range(info.chunks)]
            pending[j] = ("chunks", refs, info, t)

    if photos:
        n = photo_actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
        ds = ray.data.from_items([{"src": str(j.src), "dst": str(j.dst)} for j in photos])
        pool = ray.data.ActorPoolStrategy(size=min(n, len(photos)))
        graded = ds.map_batches(PhotoGrader, fn_constructor_args=(look, opts), batch_size=PHOTO_BATCH,
                                compute=pool, num_cpus=1, batch_format="numpy")
        by_src = {str(j.src): j for j in photos}
        for row in graded.iter_rows():
            done(Result(by_src[row["src"]], row["status"], row["message"], frames=1))

    for j, (kind, ref, info, t) in pending.items():
        try:
            if kind == "whole":
                r, said = ray.get(ref)
                for line in said:
                    log.warning("%s", line)
                done(dataclasses.replace(r, job=j))
                continue
            j.dst.parent.mkdir(parents=True, exist_ok=True)
            frames = _join(info, j.dst, (ray.get(r) for r in ref), for_output(settings, j.dst))
            done(Result(j, "ok", frames=frames, seconds=time.perf_counter() - t))
        except LiveFilterError as exc:
            done(Result(j, "failed", str(exc)))
        except ray.exceptions.RayTaskError as exc:
            cause = exc.as_instanceof_cause()
            done(Result(j, "failed", str(cause) if isinstance(cause, LiveFilterError) else f"{j.src}: {exc}"))
    return [results[j] for j in jobs]
