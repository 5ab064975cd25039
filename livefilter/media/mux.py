"""Writing a graded video's container: its own video packets, and every other stream of the source copied packet by
packet (no re-encoding), interleaved by time.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import av

from .codec import EncodeSettings, _configure
from .probe import VideoInfo, open_video

log = logging.getLogger(__name__)


class StreamCopier:
    """Copies a source file's streams other than its first video stream (audio, and subtitles the output
    container can hold) into an output container packet by packet (no re-encoding), up to a time, so the caller
    can interleave them with its own video packets."""

    def __init__(self, src_path, out, what: str = ""):
        self.src = open_video(src_path)
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
