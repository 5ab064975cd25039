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
import signal
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
from .jobs import Job, Options, Result, grade_job, terminal_signals_blocked
from .video import DAMAGED_HINT, GradeOptions, grade_frames, partial_path

log = logging.getLogger(__name__)

PHOTO_BATCH = 4
STOP_WAIT = 10.0  # seconds an interrupted run gives its tasks to end cleanly (a video stops within a few frames)


def _ray():
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray: pip install 'livefilter[scale]'") from None
    return ray


def connect(address: str | None = "local"):
    """Join (or start) a cluster: ``local`` starts one on this machine, ``auto`` finds a running one,
    anything else is an address (``ray://host:10001``). A cluster already joined by the caller is used as is.
    The caller's SIGTERM handler stays (ray.init puts its own, which exits at once: a batch stopped by SIGTERM
    left its workers' hidden temporary files and a Ray crash report), and a local cluster's servers start with
    Ctrl+C and hang-up blocked (:func:`terminal_signals_blocked`: a closed terminal's hang-up reaches the whole
    process group and killed them). A SIGTERM sent to the whole group (``kill -TERM -PGID``) still ends them."""
    ray = _ray()
    if not ray.is_initialized():
        on_term = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
        # Ray's own progress and set-up lines (about 14 a run) only when ours are verbose (the CLI's -v)
        quiet = not logging.getLogger("livefilter").isEnabledFor(logging.DEBUG)
        kw = {"include_dashboard": False, "log_to_driver": False,
              "logging_level": logging.ERROR if quiet else logging.INFO}
        if quiet:
            import ray.data  # configures its own loggers on import: quietened after it

            for name in ("ray", "ray.data"):
                logging.getLogger(name).setLevel(logging.ERROR)
        # Ray's usage statistics (sent to usage-stats.ray.io by a cluster it starts, on by default) off unless the
        # user set them: a local cluster's head process takes this from our environment; a running cluster keeps
        # its own setting (docs/reference.md, "Privacy")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            with terminal_signals_blocked():
                if address in (None, "local"):
                    ray.init(**kw)
                else:
                    _join_cluster(ray, address, kw)
        finally:
            if on_term is not None:
                signal.signal(signal.SIGTERM, on_term)
    return ray


def _join_cluster(ray, address: str, kw: dict) -> None:
    """ray.init at ``address``, its expected failures one line each."""
    try:
        ray.init(address=address, **kw)
    except ConnectionError as exc:  # "Could not find any running Ray instance..."; a cluster that went away
        if address == "auto":
            raise InputError("--ray auto: no running Ray cluster found (`ray start --head` starts one; "
                             "--ray local grades on this machine alone)") from None
        raise InputError(f"--ray {address}: cannot reach the Ray cluster ({exc})") from None
    except ValueError as exc:
        if "ray[client]" in str(exc):  # a ray:// address without the client's packages
            raise InputError(f"--ray {address}: a ray:// address needs Ray's client: pip install 'ray[client]'"
                             ) from None
        raise InputError(f"--ray {address}: not a Ray address ({exc}); give local, auto or "
                         "ray://HOST:10001") from None


class StopFlag:
    """A Ray actor holding the run's stop: set by the driver when the user stops it (Ctrl+C, SIGTERM, SIGHUP)."""

    def __init__(self):
        self.stopped = False

    def set(self):
        self.stopped = True

    def is_set(self) -> bool:
        return self.stopped


class RemoteStop:
    """The stop as a worker sees it: an Event's ``is_set`` asking the :class:`StopFlag` at most every ``every``
    seconds (a video stops within a few frames; a photo not started is not started)."""

    def __init__(self, flag, every: float = 0.25):
        self.flag, self.every = flag, every
        self._set, self._asked = False, -float("inf")

    def is_set(self) -> bool:
        if self.flag is not None and not self._set and time.monotonic() - self._asked >= self.every:
            import ray

            try:
                answer = ray.get(self.flag.is_set.remote())
            except ray.exceptions.RayError:  # the flag is gone: its driver ended the run
                answer = True
            self._set, self._asked = self._set or answer, time.monotonic()  # (a late False never undoes a True)
        return self._set


def _on_this_node(ray) -> dict:
    """Ray options placing an actor on the driver's node (it lives and dies with the run), where Ray says which node
    that is (a Ray Client driver may not: then anywhere)."""
    try:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        return {"scheduling_strategy": NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(),
                                                                      soft=True)}
    except Exception:  # noqa: BLE001 - a placement preference only
        return {}


@contextlib.contextmanager
def _stop_passed_on(ray, stop, started: list):
    """A :class:`StopFlag` the workers ask, set here once ``stop`` (the driver's Event) is set; None without one.
    Interrupted here (a second Ctrl+C), the workers are stopped too and the tasks in ``started`` are given a few
    seconds to end cleanly (killed at exit, a video's worker left its hidden temporary file)."""
    if stop is None:
        yield None
        return
    flag = ray.remote(num_cpus=0, **_on_this_node(ray))(StopFlag).remote()
    over = threading.Event()

    def watch():
        while not over.wait(0.1):
            if stop.is_set():
                flag.set.remote()
                return

    t = threading.Thread(target=watch, name="lf-ray-stop", daemon=True)
    t.start()
    try:
        yield flag
    except BaseException:
        flag.set.remote()
        if started:
            ray.wait(started, num_returns=len(started), timeout=STOP_WAIT)
        raise
    finally:
        over.set()
        t.join()
        ray.kill(flag)


class PhotoGrader:
    """A Ray Data actor: loads the look once, grades a batch of photos (paths in, statuses out); once the run is
    stopped (``flag``), the photos not started are not graded."""

    def __init__(self, look, opts: Options, flag=None):
        self.look, self.opts = as_look(look), opts
        self.degree = photo_degree(self.look, opts.face_protect)
        self.stop = RemoteStop(flag)

    def __call__(self, batch: dict) -> dict:
        status, message, seconds = [], [], []
        for src, dst in zip(batch["src"], batch["dst"], strict=True):
            t = time.perf_counter()
            if self.stop.is_set():
                status.append("interrupted")
                message.append("not started")
            else:
                try:
                    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
                    apply_image(self.look, src, dst, face_protect=self.opts.face_protect,
                                strength=self.opts.strength, interp=self.opts.interp, quality=self.opts.quality,
                                allow_large=self.opts.allow_large, degree_estimator=self.degree)
                    status.append("ok")
                    message.append("")
                except (LiveFilterError, OSError) as exc:
                    status.append("failed")
                    message.append(str(exc))
            seconds.append(time.perf_counter() - t)  # each photo's own time, as the local run says it
        return {"src": list(batch["src"]), "status": status, "message": message, "seconds": seconds}


class _Said(logging.Handler):
    """The warnings livefilter logs while a worker grades a file, kept to be said where the run was started."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _grade_whole(look, job: Job, opts: Options, flag=None):
    """A video graded whole on a worker: its Result and the warnings it gave (a stream left out, an odd size, damaged
    frames graded through), which the driver says (a worker's log is not shown: log_to_driver is off). Stopped
    (``flag``), it ends as the local run's video does: nothing written, or what was graded with --keep-partial."""
    stop = RemoteStop(flag)
    if stop.is_set():
        return Result(job, "interrupted", "not started"), []
    said = _Said()
    logger = logging.getLogger("livefilter")
    logger.addHandler(said)
    try:
        return grade_job(look, job, opts, stop=stop), said.lines
    finally:
        logger.removeHandler(said)


def _grade_chunk(look, info, i: int, gopts, grade_damaged: bool = False, flag=None):
    """One chunk of a video: its frames [start, end) decoded, graded and encoded; returns the packets and the pts
    of the damaged frames graded through (``grade_damaged``). Stopped (``flag``), it ends early: the driver joins
    no chunk of a stopped run."""
    look = as_look(look)
    stop = RemoteStop(flag)
    start, end = info.chunk_range(i)
    packets, damaged = [], []
    if stop.is_set():
        return packets, damaged
    frames = decode(info, start, end, stop=stop, on_damaged=damaged.append if grade_damaged else None)
    try:
        grade_frames(((pts, i, rgb) for pts, rgb in frames), look, info, gopts, packets.append, stop)
    except VideoDecodeError as exc:
        if exc.damaged_frame:
            raise VideoDecodeError(exc.problem + DAMAGED_HINT, info.path, exc.graded) from None
        raise
    return packets, damaged


def _join(info, dst, chunks: list, settings, partial: bool = False) -> int:
    """Mux the chunks' packets in order with the source's other streams, like the local run; returns frames.
    ``partial``: a stopped run's chunks, up to the first one cut short, kept as NAME.partial.EXT (--keep-partial,
    as the local run keeps a video stopped part-way); 0 and nothing written when none has a frame."""
    tmp = temp_beside(dst, dst.suffix)
    ok = False
    damaged = []
    try:
        m = Muxer(tmp, info, settings)
        try:
            for i, (packets, chunk_damaged) in enumerate(chunks):
                damaged += chunk_damaged
                for p in packets:
                    m.write(p)
                if partial and len(packets) < info.chunk_frames[i]:  # where the stop cut it: the rest not graded
                    break
        finally:
            m.close(complete=not partial)
        if partial:
            if m.frames:
                os.replace(tmp, partial_path(dst))
                ok = True
            return m.frames
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
               photo_actors: int | None = None, stop=None) -> list[Result]:
    """Grade ``jobs`` on Ray; one Result per job, in the jobs' order. ``stop`` (an Event) ends the run early as the
    local run ends: no file started after it, a video in progress ends cleanly (nothing written, or with
    --keep-partial what was graded: for a video graded in chunks, its chunks up to the first the stop cut short)."""
    ray = connect(address)
    started = []  # the video tasks, for an interrupted run to wait on
    with _stop_passed_on(ray, stop, started) as flag:
        return _run(ray, as_look(look), jobs, opts, on_result, photo_actors, stop, flag, started)


def _run(ray, look, jobs, opts, on_result, photo_actors, stop, flag, started) -> list[Result]:
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
        if stop is not None and stop.is_set():
            pending[j] = ("stopped", None, None, t)
            continue
        try:
            info = probe(j.src, opts.chunk_seconds or CHUNK_SECONDS)
        except LiveFilterError as exc:
            done(Result(j, "failed", str(exc)))
            continue
        if info.chunks == 1:  # its warnings come back with its result (a worker's log is not shown)
            pending[j] = ("whole", whole.remote(look_ref, j, opts, flag), info, t)
            started.append(pending[j][1])
        else:  # what the output cannot keep is said here; the join, here too, says the streams it leaves out
            say_if_odd_size(info.width, info.height, j.dst)
            say_what_is_lost(info, j.dst)
            job_gopts = dataclasses.replace(gopts, settings=for_output(settings, j.dst))
            refs = [chunk_task.remote(look_ref, info, i, job_gopts, opts.grade_damaged, flag)
                    for i in range(info.chunks)]
            pending[j] = ("chunks", refs, info, t)
            started.extend(refs)

    if photos:
        n = photo_actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
        ds = ray.data.from_items([{"src": str(j.src), "dst": str(j.dst)} for j in photos])
        pool = ray.data.ActorPoolStrategy(size=min(n, len(photos)))
        graded = ds.map_batches(PhotoGrader, fn_constructor_args=(look, opts, flag), batch_size=PHOTO_BATCH,
                                compute=pool, num_cpus=1, batch_format="numpy")
        by_src = {str(j.src): j for j in photos}
        for row in graded.iter_rows():
            done(Result(by_src[row["src"]], row["status"], row["message"], frames=int(row["status"] == "ok"),
                        seconds=row["seconds"]))

    for j, (kind, ref, info, t) in pending.items():
        try:
            if kind == "whole":
                r, said = ray.get(ref)
                for line in said:
                    log.warning("%s", line)
                done(dataclasses.replace(r, job=j))
                continue
            chunks = [] if kind == "stopped" else [ray.get(r) for r in ref]
            if stop is not None and stop.is_set():  # its chunks ended early: with --keep-partial, the graded start
                n = _join(info, j.dst, chunks, for_output(settings, j.dst), partial=True) if (
                    opts.keep_partial and chunks) else 0
                done(Result(j, "interrupted", "interrupted (kept)" if n else "interrupted" if chunks else
                            "not started", frames=n, seconds=time.perf_counter() - t,
                            expected=info.frames if info else 0))
                continue
            j.dst.parent.mkdir(parents=True, exist_ok=True)
            frames = _join(info, j.dst, chunks, for_output(settings, j.dst))
            done(Result(j, "ok", frames=frames, seconds=time.perf_counter() - t))
        except LiveFilterError as exc:
            done(Result(j, "failed", str(exc)))
        except ray.exceptions.RayTaskError as exc:
            cause = exc.as_instanceof_cause()
            done(Result(j, "failed", str(cause) if isinstance(cause, LiveFilterError) else f"{j.src}: {exc}"))
    return [results[j] for j in jobs]
