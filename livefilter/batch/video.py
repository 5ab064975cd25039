"""Videos at rest: every frame graded in order, the other streams copied untouched, H.264 yuv420p out.

The path of a video: ``probe`` (one pass over the packets: frame count, keyframes, the chunk plan; the first frame
for rotation and colours) -> ``decode`` (a thread) -> degree (``FrameDegree``, a thread) -> render + RGB->YUV
(a thread) -> encode + mux (the caller's thread), with small bounded queues between them so the slowest stage
sets the pace and memory stays flat. Reading, encoding and writing the file are livefilter.media's; the grading
(the degree, the render, one encoder and one degree state per chunk) is this module's.

The video is graded in chunks that start at keyframes at least ``chunk_seconds`` apart; each chunk has its own
encoder and its own degree state. A one-chunk video (shorter than ``chunk_seconds``) is graded as one piece; a long
one can be graded chunk by chunk in parallel (the Ray runner) and joined by the same muxer, which gives the same
bytes as the local run. Timestamps are the input's (variable frame rate kept), the display rotation is copied.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
from pathlib import Path

import numba
import numpy as np

from ..errors import (
    LiveFilterError,
    OutputError,
    VideoDecodeError,
    VideoError,  # noqa: F401 - defined here before errors.py held every exception
)
from ..fileio import check_output_path, same_path, stem_within, temp_beside
from ..look import as_look
from ..media.codec import (
    ChunkEncoder,
    EncodeSettings,
    decode,
    for_output,
    missing_frames,
    say_damaged,
    say_if_odd_size,
    say_what_is_lost,
)
from ..media.memory import steady_memory  # noqa: F401 - lived here before livefilter.media: the CLI imported it
from ..media.mux import Muxer, has_pcm_audio
from ..media.probe import CHUNK_SECONDS, OUTPUT_EXTS, VideoInfo, probe
from ..media.stages import run_stages
from ..render.checks import check_strength
from .degree import FrameDegree, protects_faces, scene_of


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
    est = FrameDegree(protects_faces(look, opts.face_protect), every=opts.analysis_every, segments=look.segmented,
                      scene=scene_of(look), turns=info.rotation // 90)
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
    """The output file name for an input video: the same name; an extension H.264 cannot go in becomes .mp4, or
    .mov when the video has PCM audio (a camera's MXF or AVI: a .mov holds it as it is, an .mp4 as ISO PCM, which
    older players cannot play)."""
    p = Path(src)
    if p.suffix.lower() in OUTPUT_EXTS:
        return p.name
    return p.stem + (".mov" if has_pcm_audio(p) else ".mp4")


def partial_path(dst: str | os.PathLike) -> Path:
    """Where ``keep_partial`` keeps a video graded part-way: NAME.partial.EXT beside NAME.EXT, so that a complete
    output is never replaced by a part of it and ``skip_existing`` does not take the part for the whole."""
    dst = Path(dst)
    tail = f".partial{dst.suffix}"
    return dst.with_name(stem_within(dst.stem, len(os.fsencode(tail))) + tail)  # a name near the limit: cut


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


#: what a damaged frame's error adds: the way to grade through it
DAMAGED_HINT = " (--grade-damaged grades through damaged frames, as players show them)"
#: a video that failed part-way writes nothing: the line says how to keep what was graded (README's exit codes)
_NOTHING_KEPT = "; nothing written (--keep-partial keeps the {} frames graded)"


def apply_video(look, src, dst, *, face_protect: bool = True, strength: float = 1.0, progress=None,
                crf: float = 18.0, preset: str = "veryfast", interp: str = "trilinear", keep_partial: bool = False,
                stop: threading.Event | None = None, chunk_seconds: float = CHUNK_SECONDS,
                settings: EncodeSettings | None = None, analysis_every: int = 2, inputs: tuple = (),
                grade_damaged: bool = False) -> VideoResult:
    """Grade a video file with a look: every frame in order, audio and other streams copied, H.264 out.

    Args:
        look: a Look, a Lut or a look file path.
        src, dst: input video and output path (.mp4, .mov, .m4v or .mkv); ``dst`` is written under a temporary
            name and renamed when complete.
        face_protect: faces get less of the look (as live); strength: 0..1.
        progress: ``progress(done_frames, total_frames)`` after each frame.
        crf, preset: x264 quality (lower crf = better) and speed.
        keep_partial: on corrupt data or ``stop``, keep what was graded (a playable file) instead of nothing, as
            :func:`partial_path` (NAME.partial.EXT: ``dst`` itself is never a part).
        grade_damaged: a frame the decoder flags as damaged (a lost packet in a recording) is graded as the decoder
            conceals it, as players show it, and a warning says how many (``apply --grade-damaged``); by default
            grading stops there.
        stop: a threading.Event; set it (e.g. from a signal handler) to end early.
    Raises:
        VideoError (nothing written) for a file that is not a usable video; VideoDecodeError for corrupt or
        truncated data part-way (after grading what decodes).
    """
    t0 = time.perf_counter()
    look = as_look(look)
    src, dst = Path(src), Path(dst)
    if dst.suffix.lower() not in OUTPUT_EXTS:
        raise OutputError(f"unsupported video output extension {dst.suffix!r}; use one of {', '.join(OUTPUT_EXTS)}",
                          dst)
    check_output_path(dst, (src, *inputs))
    if keep_partial and any(same_path(partial_path(dst), i) for i in (src, *inputs) if i is not None):
        # where a part would go: never over an input (apply take.partial.mp4 -o take.mp4 --keep-partial)
        raise OutputError(f"--keep-partial would keep a part as {partial_path(dst).name}, an input: choose another "
                          "output name", dst)
    check_strength(strength)
    info = probe(src, chunk_seconds)
    say_if_odd_size(info.width, info.height, dst)
    say_what_is_lost(info, dst)
    settings = for_output(settings or EncodeSettings(crf=crf, preset=preset), dst)
    opts = GradeOptions(face_protect, strength, interp, analysis_every, settings)
    stop = stop or threading.Event()
    tmp = temp_beside(dst, dst.suffix)
    muxer = None
    complete = False
    try:
        muxer = Muxer(tmp, info, settings)
        damaged: list[int] = []
        last_pts = []  # the last frame decoded: where the data ends in a file cut short

        def frames():
            for pts, rgb in decode(info, stop=stop, on_damaged=damaged.append if grade_damaged else None):
                last_pts[:] = [pts]
                yield pts, info.chunk_of(pts), rgb

        try:
            n = grade_frames(frames(), look, info, opts, muxer.write, stop, progress)
        except VideoDecodeError as exc:
            muxer.close(complete=False)
            muxer = None
            if keep_partial and exc.graded:
                os.replace(tmp, partial_path(dst))
                exc.problem += f"; kept the {exc.graded} frames graded before it in {partial_path(dst)}"
            elif exc.graded:
                exc.problem += _NOTHING_KEPT.format(exc.graded)
            if exc.damaged_frame:  # players conceal it and play on: say how to do the same
                exc.problem += DAMAGED_HINT
            raise VideoDecodeError(f"{exc.problem}", src, exc.graded) from None
        interrupted = stop.is_set() and n < info.frames
        if not interrupted and (problem := missing_frames(info, n, last_pts[0] if last_pts else None)):
            muxer.close(complete=False)
            muxer = None
            if keep_partial and n:
                os.replace(tmp, partial_path(dst))
            raise VideoDecodeError(problem + (f"; kept them in {partial_path(dst)}" if keep_partial and n else
                                              _NOTHING_KEPT.format(n) if n else ""), src, n)
        say_damaged(info, damaged)
        muxer.close(complete=not interrupted)
        muxer = None
        status, out = "ok", dst
        if interrupted:
            if not (keep_partial and n):
                return VideoResult(str(src), str(dst), n, info.frames, time.perf_counter() - t0, "interrupted")
            status, out = "interrupted (kept)", partial_path(dst)
        os.replace(tmp, out)
        complete = True
        return VideoResult(str(src), str(out), n, info.frames, time.perf_counter() - t0, status)
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
