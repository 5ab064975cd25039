"""Videos at rest (PyAV): every frame graded in order, the other streams copied untouched, H.264 yuv420p out.

The path of a video: ``probe`` (one pass over the packets: frame count, keyframes, the chunk plan; the first frame
for rotation and colours) -> ``decode`` (a thread) -> degree (``FrameDegree``, a thread) -> render + RGB->YUV
(a thread) -> encode + mux (the caller's thread), with small bounded queues between them so the slowest stage
sets the pace and memory stays flat.

The video is graded in chunks that start at keyframes at least ``chunk_seconds`` apart; each chunk has its own
encoder and its own degree state. A one-chunk video (shorter than ``chunk_seconds``) is graded as one piece; a long
one can be graded chunk by chunk in parallel (the Ray runner) and joined by the same muxer, which gives the same
bytes as the local run. Timestamps are the input's (variable frame rate kept), the display rotation is copied.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import logging
import os
import queue
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

import numba
import numpy as np

from ..errors import InputError, LiveFilterError, OutputError, VideoDecodeError, VideoError
from ..fileio import check_output_path, chmod_as_created
from .degree import FrameDegree, scene_of
from .yuv import rgb_to_i420

log = logging.getLogger(__name__)

VIDEO_EXTS = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm", ".ts", ".mts", ".m2ts", ".mpg", ".mpeg", ".wmv",
              ".flv", ".3gp", ".ogv")
#: containers H.264 can be written to; other inputs are written as .mp4
OUTPUT_EXTS = (".mp4", ".mov", ".m4v", ".mkv", ".ts")
CHUNK_SECONDS = 30.0
QUEUE_DEPTH = 3
# glibc raises its mmap threshold to the size of each large block freed, so the per-frame buffers (6 MB at 1080p)
# come from the threads' heap arenas, which fragment; a fixed 1 MiB threshold maps and unmaps each of them: +1.6 %
# resident memory over 3,000 1080p frames instead of +13 % (docs/decisions.md, 'malloc threshold').
MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def steady_memory() -> bool:
    """Fix glibc's mmap threshold (see MMAP_THRESHOLD) for this process; False where the C library has no
    mallopt (musl, macOS, Windows) or a user set MALLOC_MMAP_THRESHOLD_ themselves."""
    if os.environ.get("MALLOC_MMAP_THRESHOLD_"):
        return False
    try:
        import ctypes

        return bool(ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False


@dataclasses.dataclass(frozen=True)
class EncodeSettings:
    """How the graded video is encoded. ``threads`` is fixed (not 'auto') because x264's output depends on it:
    the Ray runner passes the driver's settings to every worker so chunks match the local run."""

    crf: float = 18.0
    preset: str = "veryfast"  # as live recordings (sinks.VideoFileSink) and OBS; see cli.py's --preset
    threads: int = max(1, (os.cpu_count() or 1) * 3 // 2)
    codec: str = "libx264"
    pix_fmt: str = "yuv420p"


@dataclasses.dataclass
class VideoInfo:
    """What ``probe`` learnt about an input video."""

    path: str
    width: int
    height: int
    time_base: Fraction
    rate: Fraction | None
    frames: int  # frames expected (from the container's index or the packets)
    packets: int
    start_pts: int
    duration_s: float
    rotation: int
    colour: dict  # colorspace, color_range, color_primaries, color_trc of the first frame
    boundaries: list  # pts where chunks 1.. start (chunk 0 starts at the beginning)
    chunk_frames: list  # frames in each chunk (from the packets)

    @property
    def chunks(self) -> int:
        return len(self.boundaries) + 1

    def chunk_of(self, pts: int) -> int:
        return bisect.bisect_right(self.boundaries, pts)

    def chunk_range(self, i: int) -> tuple[int | None, int | None]:
        return (self.boundaries[i - 1] if i > 0 else None, self.boundaries[i] if i < len(self.boundaries) else None)

    def seconds(self, pts: int | None) -> float:
        return 0.0 if pts is None else float((pts - self.start_pts) * self.time_base)


def timestamp(seconds: float) -> str:
    """hh:mm:ss.mmm, as players show it."""
    ms = int(round(max(seconds, 0.0) * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    return f"{h:02d}:{m:02d}:{rem / 1000:06.3f}"


def _open(path):
    import av

    try:
        return av.open(str(path))
    except av.error.FFmpegError as exc:
        raise VideoError(f"cannot open as a video ({exc.strerror or exc})", path) from None


def probe(path, chunk_seconds: float = CHUNK_SECONDS) -> VideoInfo:
    """Read a video's packets once (no decoding but the first frame): frame count, keyframes, the chunk plan."""
    import av

    path = Path(path)
    if not path.is_file():
        raise VideoError("no such file", path)
    with _open(path) as c:
        if not c.streams.video:
            kinds = ", ".join(sorted({s.type for s in c.streams})) or "none"
            raise VideoError(f"no video stream (streams: {kinds})", path)
        v = c.streams.video[0]
        cc = v.codec_context
        if cc is None or not cc.name or cc.name == "none":
            raise VideoError("unknown video codec: no decoder for it in this FFmpeg build", path)
        tb = v.time_base or Fraction(1, 90000)
        pts_list, keys = [], []
        try:
            for pkt in c.demux(v):
                t = pkt.pts if pkt.pts is not None else pkt.dts
                if t is None:
                    continue
                pts_list.append(t)
                if pkt.is_keyframe:
                    keys.append(t)
        except av.error.FFmpegError as exc:  # the grading pass reaches the same place and reports it
            log.debug("%s: reading packets stopped: %s", path, exc)
    first = None
    with _open(path) as c:
        v = c.streams.video[0]
        try:
            for frame in c.decode(v):
                first = frame
                break
        except av.error.FFmpegError as exc:
            raise VideoError(f"cannot decode the video ({cc.name}): {exc.strerror or exc}", path) from None
        if first is None:
            raise VideoError(f"no decodable video frame ({cc.name})", path)
        width, height = first.width, first.height
        rate = v.average_rate or v.guessed_rate
        declared = v.frames or 0
    pts_sorted = sorted(pts_list)
    start = pts_sorted[0] if pts_sorted else 0
    step = int(chunk_seconds / tb) if chunk_seconds and chunk_seconds > 0 else None
    boundaries = []
    if step:
        last = start
        for k in sorted(set(keys)):
            if k - last >= step:
                boundaries.append(k)
                last = k
    chunk_frames = [0] * (len(boundaries) + 1)
    for t in pts_sorted:
        chunk_frames[bisect.bisect_right(boundaries, t)] += 1
    duration = float((pts_sorted[-1] - start) * tb) if pts_sorted else 0.0
    colour = {k: getattr(first, k, None) for k in ("colorspace", "color_range", "color_primaries", "color_trc")}
    return VideoInfo(str(path), width, height, Fraction(tb), Fraction(rate) if rate else None,
                     max(declared, len(pts_list)), len(pts_list), start, duration, int(first.rotation or 0), colour,
                     boundaries, chunk_frames)


# --- decode ---------------------------------------------------------------------------------------------------
_BT709, _BT601 = 1, 5  # AVColorSpace values


def _src_colorspace(info: VideoInfo) -> int:
    cs = info.colour.get("colorspace")
    return cs if cs in (1, 4, 5, 6, 9, 10) else _BT601  # unspecified: what FFmpeg's swscale assumes


def decode(info: VideoInfo, start: int | None = None, end: int | None = None, stop: threading.Event | None = None):
    """Yield (pts, rgb uint8 (H, W, 3)) for the frames with start <= pts < end, in presentation order.

    Raises VideoDecodeError at corrupt or truncated data (after yielding every frame before it)."""
    import av

    with _open(info.path) as c:
        v = c.streams.video[0]
        v.codec_context.thread_type = "AUTO"
        if start is not None:
            c.seek(start, stream=v, backward=True, any_frame=False)
        cs = _src_colorspace(info)
        last_pts, n = None, 0
        period = max(1, int(1 / (info.rate * info.time_base))) if info.rate else 1
        try:
            for packet in _complete_packets(c.demux(v), truncated=info.packets < info.frames):
                if stop is not None and stop.is_set():
                    return
                for frame in packet.decode():
                    pts = frame.pts
                    if pts is None:
                        pts = (last_pts + period) if last_pts is not None else info.start_pts
                    if start is not None and pts < start:
                        continue  # leading frames of an open GOP: they belong to the previous chunk
                    if end is not None and pts >= end:
                        return
                    if frame.is_corrupt:
                        raise VideoDecodeError(f"corrupt video data at {timestamp(info.seconds(pts))}",
                                               info.path, n)
                    if last_pts is not None and pts <= last_pts:  # broken timestamps: keep them increasing
                        pts = last_pts + 1
                    rgb = frame.reformat(format="rgb24", src_colorspace=cs).to_ndarray()
                    last_pts = pts
                    n += 1
                    yield pts, rgb
        except av.error.FFmpegError as exc:
            at = timestamp(info.seconds(last_pts)) if last_pts is not None else "the start"
            raise VideoDecodeError(f"corrupt or truncated video data after {at} ({exc.strerror or exc})",
                                   info.path, n) from None


def _complete_packets(packets, truncated: bool):
    """The demuxer's packets, but in a file cut short (fewer packets than its index lists) the last one with data
    is left out: it was read up to the end of the file and would decode into a damaged frame."""
    held = None
    for p in packets:
        if p.size == 0:  # the flush packet at the end
            if held is not None and not truncated:
                yield held
            held = None
            yield p
            continue
        if held is not None:
            yield held
        held = p
    if held is not None and not truncated:
        yield held


# --- encode -----------------------------------------------------------------------------------------------------
def _has_avx512(cpuinfo: str = "/proc/cpuinfo") -> bool:
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as f:
            return any(line.startswith("flags") and " avx512f" in line for line in f)
    except OSError:
        return False


# x264's AVX-512 code is not repeatable (the same small frames encoded again gave other bytes: 1 run of 10 matched
# the first at 160x120), its AVX2 code is, and no slower (docs/decisions.md, 'x264 on AVX-512'). A graded file must
# be a function of its input (the Ray runner's chunks must equal the local run's), so on a CPU with AVX-512 x264 is
# told to use AVX2 and below (which every AVX-512 CPU has); elsewhere x264 detects the CPU itself.
X264_PARAMS = "asm=AVX2,BMI2,LZCNT" if _has_avx512() else None


def say_if_odd_size(width: int, height: int, dst) -> None:
    """H.264 in 4:2:0 (yuv420p, what players expect) holds even sizes only: an odd one loses its last column and/or
    row, and a warning says so once per output."""
    if width % 2 or height % 2:
        log.warning("%s: %dx%d is written as %dx%d (H.264 in 4:2:0 needs an even width and height; the last %s "
                    "dropped)", dst, width, height, width - width % 2, height - height % 2,
                    "column and row are" if width % 2 and height % 2 else "column is" if width % 2 else "row is")


def _configure(cc, info: VideoInfo, settings: EncodeSettings) -> None:
    """The same encoder settings for every chunk's encoder and the muxer's stream (identical headers)."""
    cc.width, cc.height = info.width - info.width % 2, info.height - info.height % 2
    cc.pix_fmt = settings.pix_fmt
    cc.time_base = info.time_base
    if info.rate:
        cc.framerate = info.rate
    cs = _src_colorspace(info)
    cc.colorspace = cs
    cc.color_range = 1  # limited ("tv"): what players expect of H.264
    for k in ("color_primaries", "color_trc"):
        if info.colour.get(k) not in (None, 2):
            setattr(cc, k, info.colour[k])
    cc.options = {"crf": f"{settings.crf:g}", "preset": settings.preset, "threads": str(settings.threads),
                  **({"x264-params": X264_PARAMS} if X264_PARAMS and settings.codec == "libx264" else {})}


class ChunkEncoder:
    """One encoder session: RGB frames in, (bytes, pts, dts, duration, keyframe) packets out."""

    def __init__(self, info: VideoInfo, settings: EncodeSettings):
        import av

        self.cc = av.CodecContext.create(settings.codec, "w")
        _configure(self.cc, info, settings)
        self.cc.flags |= av.codec.context.Flags.global_header  # headers in the container (mp4 avcC), not in-band
        self.cc.open()
        self.cs = _src_colorspace(info)
        self.w, self.h = self.cc.width, self.cc.height

    def to_frame(self, rgb: np.ndarray, pts: int):
        """RGB -> a yuv420p VideoFrame (thread-safe: called in the render thread)."""
        import av

        if rgb.shape[1] != self.w or rgb.shape[0] != self.h:
            rgb = rgb[: self.h, : self.w]
        # our own RGB -> I420 pass (batch/yuv.py): within 1 code value of libswscale's, 5 ms instead of 16.7 at 1080p
        f = av.VideoFrame.from_ndarray(rgb_to_i420(rgb, self.cs), format="yuv420p")
        f.pts = pts
        return f

    def encode(self, frame) -> list:
        return [_pack(p) for p in self.cc.encode(frame)]

    def flush(self) -> list:
        return [_pack(p) for p in self.cc.encode(None)]


def _pack(p) -> tuple:
    return bytes(p), p.pts, p.dts, p.duration, bool(p.is_keyframe)


# --- mux --------------------------------------------------------------------------------------------------------
class StreamCopier:
    """Copies a source file's streams other than its first video stream (audio, and subtitles the output
    container can hold) into an output container packet by packet (no re-encoding), up to a time, so the caller
    can interleave them with its own video packets."""

    def __init__(self, src_path, out, what: str = ""):
        self.src = _open(src_path)
        self.path = src_path
        self.map = {}
        supported = out.supported_codecs
        video = self.src.streams.video[0].index if self.src.streams.video else None
        for s in self.src.streams:
            if s.index == video:
                continue
            name = s.codec_context.name if s.codec_context is not None else None
            if s.type in ("audio", "subtitle", "video") and name and name in supported:
                self.map[s.index] = out.add_stream_from_template(s)
            else:
                log.warning("%s: stream #%d (%s %s) cannot be stored in %s; left out", src_path, s.index, s.type,
                            name or "data", what or "this container")
        self.out = out
        self._it = self.src.demux(*[self.src.streams[i] for i in self.map]) if self.map else iter(())
        self._pending = None
        # Where the source's clock starts (seconds): every output timestamp is moved back by it, so the output
        # starts at 0 as `ffmpeg -c copy` writes it. An MPEG-TS starts at 1.4 s or more (and a camera's stream
        # anywhere): kept, an mp4 got an empty edit of that length, a blank lead-in (measured: 2.0 s -> 3.49 s).
        start = self.src.start_time
        self.offset_s = start / 1e6 if start and start > 0 else 0.0  # PyAV: in AV_TIME_BASE (microseconds)

    def shift(self, time_base) -> int:
        """``offset_s`` in ticks of ``time_base``."""
        return round(self.offset_s / time_base)

    def copy_until(self, t: float | None) -> None:
        """Mux the source's packets whose time (from the start, ``offset_s`` taken off) is <= ``t`` seconds (all of
        them when ``t`` is None)."""
        while True:
            if self._pending is None:
                try:
                    self._pending = next(self._it)
                except StopIteration:
                    self._it, self._pending = iter(()), None
                    return
                except Exception as exc:  # noqa: BLE001 - a damaged audio stream must not lose the video
                    log.warning("%s: copying the other streams stopped: %s", self.path, exc)
                    self._it, self._pending = iter(()), None
                    return
            p = self._pending
            if p.dts is None:  # the demuxer's flush packets
                self._pending = None
                continue
            if t is not None and float(p.dts * p.time_base) - self.offset_s > t:
                return
            shift = self.shift(p.time_base)
            if shift:
                p.dts -= shift
                if p.pts is not None:
                    p.pts -= shift
            p.stream = self.map[p.stream.index]
            self.out.mux(p)
            self._pending = None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.src.close()


class Muxer:
    """Writes the graded video's packets and copies every other stream of the source (StreamCopier),
    interleaved by time in one fixed order (so a run split into chunks writes the same bytes as one piece)."""

    def __init__(self, dst, info: VideoInfo, settings: EncodeSettings):
        import av

        self.info = info
        # bitexact: no random ids or dates (Matroska writes both), so the same packets give the same file
        self.out = av.open(str(dst), "w", options={"fflags": "+bitexact"})
        vs = self.out.add_stream(settings.codec, rate=info.rate) if info.rate else self.out.add_stream(settings.codec)
        _configure(vs.codec_context, info, settings)
        vs.time_base = info.time_base
        if info.rotation:
            vs.set_display_rotation(info.rotation)
        self.vs = vs
        try:
            self.copier = StreamCopier(info.path, self.out, Path(dst).suffix)
        except BaseException:
            self.out.close()
            raise
        self.frames = 0
        self.last_t = None
        self.shift = self.copier.shift(info.time_base)  # the source clock's start (StreamCopier.offset_s)

    def write(self, packet: tuple) -> None:
        import av

        data, pts, dts, duration, key = packet
        pts, dts = pts - self.shift, dts - self.shift
        self.copier.copy_until(float(dts * self.info.time_base))
        p = av.Packet(data)
        p.pts, p.dts, p.time_base, p.stream = pts, dts, self.info.time_base, self.vs
        if duration:
            p.duration = duration
        p.is_keyframe = key
        self.out.mux(p)
        self.frames += 1
        end = float((pts + (duration or 0)) * self.info.time_base)
        self.last_t = end if self.last_t is None else max(self.last_t, end)

    def close(self, complete: bool = True) -> None:
        """Copy what is left of the other streams (up to the last video frame when ``complete`` is False)."""
        try:
            self.copier.copy_until(None if complete else self.last_t)
        finally:
            self.copier.close()
            self.out.close()


# --- the threaded stages ------------------------------------------------------------------------------------------
_END = object()


class _Failed:
    def __init__(self, exc):
        self.exc = exc


def _stage(fn, qin, qout, stop):
    while True:
        try:
            item = qin.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                return  # the caller gave up (an error elsewhere): nothing more will come
            continue
        if item is _END or isinstance(item, _Failed):
            qout.put(item)
            return
        if stop.is_set():
            continue  # drain
        try:
            qout.put(fn(item))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            stop.set()
            qout.put(_Failed(exc))
            return


def _produce(it, qout, stop):
    try:
        for item in it:
            if stop.is_set():
                break
            qout.put(item)
    except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
        qout.put(_Failed(exc))
        return
    qout.put(_END)


def run_stages(items, stages, consume, stop: threading.Event, poll: float = 0.2) -> None:
    """``items`` (an iterator, read in a thread) -> each of ``stages`` in its own thread -> ``consume`` here.
    Bounded queues: at most QUEUE_DEPTH items wait between two stages. The first error anywhere stops the others
    and is raised here, after ``consume`` got every item that made it through before it."""
    qs = [queue.Queue(QUEUE_DEPTH) for _ in range(len(stages) + 1)]
    inner = threading.Event()  # stops the stages on an error; ``stop`` (the caller's) only ends the reading
    both = _Either(stop, inner)
    threads = [threading.Thread(target=_produce, args=(items, qs[0], both), name="lf-decode", daemon=True)]
    for k, fn in enumerate(stages):
        threads.append(threading.Thread(target=_stage, args=(fn, qs[k], qs[k + 1], inner), name=f"lf-stage{k}",
                                        daemon=True))
    for t in threads:
        t.start()
    failure = None
    try:
        while True:
            try:
                item = qs[-1].get(timeout=poll)
            except queue.Empty:
                continue
            if item is _END:
                break
            if isinstance(item, _Failed):
                failure = item.exc
                break
            consume(item)
    except BaseException:
        inner.set()
        raise
    finally:
        if failure is not None:
            inner.set()
        deadline = time.monotonic() + 10
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            for q in qs:  # unblock the threads waiting on full queues; they see ``inner`` and end
                with contextlib.suppress(queue.Empty):
                    while True:
                        q.get_nowait()
            time.sleep(0.005)
    if failure is not None:
        raise failure


class _Either:
    """is_set() of either event (the producer stops on the caller's stop or on an error)."""

    def __init__(self, a, b):
        self.a, self.b = a, b

    def is_set(self):
        return self.a.is_set() or self.b.is_set()


@dataclasses.dataclass
class _Frame:
    pts: int
    chunk: int
    rgb: np.ndarray
    degree: np.ndarray | None = None
    mask: np.ndarray | None = None
    out: object = None


@dataclasses.dataclass
class GradeOptions:
    face_protect: bool = True
    strength: float = 1.0
    interp: str = "trilinear"
    analysis_every: int = 2
    settings: EncodeSettings = dataclasses.field(default_factory=EncodeSettings)


def grade_frames(frames, look, info: VideoInfo, opts: GradeOptions, emit, stop: threading.Event,
                 progress=None) -> int:
    """Grade (pts, chunk, rgb) items into encoded packets handed to ``emit`` in order; returns frames graded.
    Each chunk gets a fresh encoder and a fresh degree state (see the module doc)."""
    est = FrameDegree(opts.face_protect, every=opts.analysis_every, segments=look.segmented, scene=scene_of(look))
    state = {"chunk": None, "enc": None, "done": 0, "analysis_chunk": None}
    encoders: dict[int, ChunkEncoder] = {}
    lock = threading.Lock()

    def encoder_for(chunk):
        with lock:
            if chunk not in encoders:
                encoders[chunk] = ChunkEncoder(info, opts.settings)
            return encoders[chunk]

    def analyse(f: _Frame):
        if f.chunk != state["analysis_chunk"]:
            est.reset()
            state["analysis_chunk"] = f.chunk
        f.degree = est.update(f.rgb, info.seconds(f.pts))
        f.mask = est.mask  # a per-segment look: the frame's own soft person mask (else None: one LUT)
        return f

    def render(f: _Frame):
        # one numba thread in this stage: x264's threads and the decoder's already fill the cores, and numba's own
        # pool on top of them made the whole pipeline slower (1080p veryfast: 15.8 -> 17.6 fps with one thread);
        # numba's thread count is per calling thread, so the live view and the rest of the process keep theirs
        numba.set_num_threads(1)
        out = look.apply(f.rgb, strength=opts.strength, interp=opts.interp, degree=f.degree, mask=f.mask) \
            if opts.strength > 0 else f.rgb
        f.out = encoder_for(f.chunk).to_frame(out, f.pts)
        f.rgb = None
        return f

    def consume(f: _Frame):
        if f.chunk != state["chunk"]:
            if state["enc"] is not None:
                for p in state["enc"].flush():
                    emit(p)
                with lock:
                    encoders.pop(state["chunk"], None)
            state["chunk"], state["enc"] = f.chunk, encoder_for(f.chunk)
        for p in state["enc"].encode(f.out):
            emit(p)
        state["done"] += 1
        if progress is not None:
            progress(state["done"], info.frames)

    def finish():
        if state["enc"] is not None:
            for p in state["enc"].flush():
                emit(p)
            state["enc"] = None

    try:
        run_stages((_Frame(pts, chunk, rgb) for pts, chunk, rgb in frames), [analyse, render], consume, stop)
    except VideoDecodeError as exc:
        finish()
        exc.graded = state["done"]
        raise
    finally:
        est.close()
    finish()
    return state["done"]


# --- the public entry point ---------------------------------------------------------------------------------------
def output_name(src: str | os.PathLike) -> str:
    """The output file name for an input video: the same name; an extension H.264 cannot go in becomes .mp4."""
    p = Path(src)
    return p.name if p.suffix.lower() in OUTPUT_EXTS else p.stem + ".mp4"


def temp_beside(dst: Path, suffix: str | None = None) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.stem}.", suffix=suffix or dst.suffix, dir=dst.parent)
    os.close(fd)
    chmod_as_created(tmp)
    return Path(tmp)


@dataclasses.dataclass
class VideoResult:
    src: str
    dst: str
    frames: int
    expected: int
    seconds: float
    status: str = "ok"  # ok | interrupted (kept) | interrupted

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def _as_look(look):
    from ..look import Look, load_look
    from ..luts.lut import Lut

    if isinstance(look, Look):
        return look
    if isinstance(look, Lut):
        return Look(look, meta={"name": look.title or "lut"})
    return load_look(look)


def apply_video(look, src, dst, *, face_protect: bool = True, strength: float = 1.0, progress=None,
                crf: float = 18.0, preset: str = "veryfast", interp: str = "trilinear", keep_partial: bool = False,
                stop: threading.Event | None = None, chunk_seconds: float = CHUNK_SECONDS,
                settings: EncodeSettings | None = None, analysis_every: int = 2, inputs: tuple = ()) -> VideoResult:
    """Grade a video file with a look: every frame in order, audio and other streams copied, H.264 out.

    Args:
        look: a Look, a Lut or a look file path.
        src, dst: input video and output path (.mp4, .mov, .m4v or .mkv); ``dst`` is written under a temporary
            name and renamed when complete.
        face_protect: faces get less of the look (as live); strength: 0..1.
        progress: ``progress(done_frames, total_frames)`` after each frame.
        crf, preset: x264 quality (lower crf = better) and speed.
        keep_partial: on corrupt data or ``stop``, keep what was graded (a playable file) instead of nothing.
        stop: a threading.Event; set it (e.g. from a signal handler) to end early.
    Raises:
        VideoError (nothing written) for a file that is not a usable video; VideoDecodeError for corrupt or
        truncated data part-way (after grading what decodes).
    """
    t0 = time.perf_counter()
    look = _as_look(look)
    src, dst = Path(src), Path(dst)
    if dst.suffix.lower() not in OUTPUT_EXTS:
        raise OutputError(f"unsupported video output extension {dst.suffix!r}; use one of {', '.join(OUTPUT_EXTS)}",
                          dst)
    check_output_path(dst, (src, *inputs))
    if not 0 <= strength <= 1:
        raise InputError(f"strength must be 0..1, got {strength}")
    info = probe(src, chunk_seconds)
    say_if_odd_size(info.width, info.height, dst)
    settings = settings or EncodeSettings(crf=crf, preset=preset)
    opts = GradeOptions(face_protect, strength, interp, analysis_every, settings)
    stop = stop or threading.Event()
    tmp = temp_beside(dst)
    muxer = None
    complete = False
    try:
        muxer = Muxer(tmp, info, settings)
        frames = ((pts, info.chunk_of(pts), rgb) for pts, rgb in decode(info, stop=stop))
        try:
            n = grade_frames(frames, look, info, opts, muxer.write, stop, progress)
        except VideoDecodeError as exc:
            muxer.close(complete=False)
            muxer = None
            if keep_partial and exc.graded:
                os.replace(tmp, dst)
                exc.problem += f"; kept the {exc.graded} frames graded before it in {dst}"
            raise VideoDecodeError(f"{exc.problem}", src, exc.graded) from None
        interrupted = stop.is_set() and n < info.frames
        if not interrupted and n < info.frames:
            muxer.close(complete=False)
            muxer = None
            if keep_partial and n:
                os.replace(tmp, dst)
            last = timestamp(info.duration_s * n / max(info.frames, 1))
            raise VideoDecodeError(f"truncated or corrupt: {n} of {info.frames} frames decoded (the video data "
                                   f"ends near {last})" + (f"; kept them in {dst}" if keep_partial and n else ""),
                                   src, n)
        muxer.close(complete=not interrupted)
        muxer = None
        status = "ok"
        if interrupted:
            if not (keep_partial and n):
                return VideoResult(str(src), str(dst), n, info.frames, time.perf_counter() - t0, "interrupted")
            status = "interrupted (kept)"
        os.replace(tmp, dst)
        complete = True
        return VideoResult(str(src), str(dst), n, info.frames, time.perf_counter() - t0, status)
    except OSError as exc:
        if isinstance(exc, LiveFilterError):
            raise
        raise OutputError(f"cannot write the video ({exc.strerror or exc})", dst) from None
    finally:
        if muxer is not None:
            with contextlib.suppress(Exception):
                muxer.close(complete=False)
        if not complete:
            with contextlib.suppress(OSError):
                tmp.unlink()
