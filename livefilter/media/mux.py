"""Writing a graded video's container: its own video packets, and every other stream of the source copied packet by
packet (no re-encoding), interleaved by time.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

import av

from ..errors import VideoError
from .codec import EncodeSettings, _configure
from .probe import VideoInfo, main_video, open_video

log = logging.getLogger(__name__)


# tags that describe the source's own encoding (stale after grading; muxers write their own)
_STALE_TAGS = ("encoder", "major_brand", "minor_version", "compatible_brands", "duration", "bps", "number_of_frames",
               "number_of_bytes", "_statistics_tags", "_statistics_writing_app", "_statistics_writing_date_utc")


def _tags(metadata) -> dict:
    return {k: v for k, v in metadata.items() if k.lower().split("-")[0] not in _STALE_TAGS}


def _describe(s) -> str:
    name = s.codec_context.name if s.codec_context is not None and s.codec_context.name else None
    if s.type == "video" and s.disposition & av.stream.Disposition.attached_pic:
        return f"cover image {name or ''}".strip()
    if s.type == "attachment":
        return f"attachment {s.metadata.get('filename', '')}".strip()
    if s.type == "data":
        return f"data {s.metadata.get('handler_name') or name or ''}".strip()
    return f"{s.type} {name or '(unknown codec)'}"


def _is_chapter_track(s) -> bool:
    handler = s.metadata.get("handler_name", "").lower()
    return any(w in handler for w in ("chapter", "subtitle", "text"))


# The audio an MPEG-TS carries as audio (FFmpeg's mpegtsenc gives these a stream type or a registration); its
# muxer takes any other codec too, as "private data" no player or demuxer reads back as audio (a FLAC or PCM track
# copied into a .ts came back as a data stream: the sound was lost without a word)
TS_AUDIO = frozenset({"mp2", "mp3", "aac", "aac_latm", "ac3", "eac3", "dts", "truehd", "opus", "s302m"})


def _accepts(fmt: str, s) -> bool:
    """Whether a container of format ``fmt`` takes a copy of stream ``s``: its muxer asked by writing a header with
    it alone (PyAV's list of a format's codecs misses some: AAC and AC3 in an MPEG-TS; opus in a .mov passes the
    list and fails at the header, after the grading)."""
    # the codec's own name: the stream's decoder is named otherwise for some (mp3float, dca)
    if fmt == "mpegts" and s.type == "audio" and s.codec_context.codec.canonical_name not in TS_AUDIO:
        return False
    try:
        with av.open(io.BytesIO(), "w", format=fmt) as t:
            o = t.add_stream_from_template(s)
            o.metadata.update(_tags(s.metadata))
            t.start_encoding()
        return True
    except (av.error.FFmpegError, ValueError, TypeError, NotImplementedError):
        return False


def _plan(src, fmt: str):
    """Which of ``src``'s streams (other than the video graded) go into a container of format ``fmt``: (streams
    to copy, warnings for those left out, the timecode the graded video carries)."""
    video = main_video(src)
    timecode = video.metadata.get("timecode") if video is not None else None
    has_chapters = bool(src.chapters())
    copy, left_out = [], []
    for s in src.streams:
        if video is not None and s.index == video.index:
            continue
        if s.type == "data" and "timecode" in s.metadata:  # a camera's timecode track: the muxer writes it anew
            timecode = timecode or s.metadata["timecode"]  # from the graded video's tag (copy_tags)
            continue
        if has_chapters and s.type == "data" and _is_chapter_track(s):
            continue  # an mp4's chapters, as a text track: copied as chapters (copy_tags)
        if _accepts(fmt, s):
            copy.append(s)
        else:
            left_out.append(f"stream #{s.index} ({_describe(s)})")
    return copy, left_out, timecode


def _order_channels(stream) -> None:
    """A mono or stereo audio stream whose channels have no order (an AVI's PCM: "2 channels") given their usual one:
    the mp4 muxer refused it ("unsupported channel layout"), and the grading failed. More channels are left as they
    are (which order they were recorded in is not known)."""
    cc = getattr(stream, "codec_context", None)
    if stream.type != "audio" or cc is None:
        return
    layout = cc.layout
    if layout.name.endswith("channels") and layout.nb_channels in (1, 2):
        cc.layout = av.AudioLayout(("mono", "stereo")[layout.nb_channels - 1])


def audio_codecs(path) -> list[str]:
    """The codecs of the file's audio streams (none when it cannot be opened: its grading says why)."""
    try:
        with open_video(path) as c:
            return [s.codec_context.name or "" for s in c.streams if s.type == "audio"]
    except (av.error.FFmpegError, VideoError, OSError):
        return []


def has_pcm_audio(path) -> bool:
    """Whether the file has an uncompressed PCM audio stream."""
    return any(name.startswith("pcm_") for name in audio_codecs(path))


class StreamCopier:
    """Copies a source file's streams other than the video graded (audio, subtitles, data, attachments, a cover
    image) into an output container packet by packet (no re-encoding), up to a time, so the caller can interleave
    them with its own video packets; each stream's tags (language, title) and dispositions (default, forced) go
    with it. A stream the container cannot hold is left out, and said; a camera's timecode track is written anew
    from the graded video's tag, an mp4's chapter track as chapters."""

    def __init__(self, src_path, out, what: str = ""):
        self.src = open_video(src_path)
        self.path = src_path
        self.video = main_video(self.src)
        copy, left_out, self.timecode = _plan(self.src, out.format.name)
        for s in left_out:
            log.warning("%s: %s cannot be stored in %s; left out", src_path, s, what or "this container")
        if out.format.name == "mp4" and any(s.type == "audio" and (s.codec_context.name or "").startswith("pcm_")
                                            for s in copy):
            # an mp4 holds PCM only as ISO PCM ("ipcm"): FFmpeg 5.1 decoded a camera's 24-bit audio in it as noise
            log.warning("%s: its PCM audio goes into the .mp4 as ISO PCM, which older players cannot play (FFmpeg "
                        "5.1 decodes 24-bit as noise); grade into .mov or .mkv to keep it playable everywhere",
                        src_path)
        self.map = {}
        for s in copy:
            o = out.add_stream_from_template(s)
            _order_channels(o)
            o.metadata.update(_tags(s.metadata))
            o.disposition = s.disposition
            self.map[s.index] = o
        self.out = out
        copied = [self.src.streams[i] for i in self.map if self.src.streams[i].type != "attachment"]  # no packets
        self._it = self.src.demux(*copied) if copied else iter(())
        self._pending = None
        # Where the source's clock starts (seconds): every output timestamp is moved back by it, so the output
        # starts at 0 as `ffmpeg -c copy` writes it. An MPEG-TS starts at 1.4 s or more (and a camera's stream
        # anywhere): kept, an mp4 got an empty edit of that length, a blank lead-in (measured: 2.0 s -> 3.49 s).
        start = self.src.start_time
        self.offset_s = start / 1e6 if start and start > 0 else 0.0  # PyAV: in AV_TIME_BASE (microseconds)

    def copy_tags(self, video_out) -> None:
        """The file's tags (title, date...) and chapters, and the graded video's own tags (language, a camera's
        timecode) and dispositions, as ``ffmpeg -map 0 -c copy`` keeps them."""
        self.out.metadata.update(_tags(self.src.metadata))
        if self.video is not None:
            video_out.metadata.update(_tags(self.video.metadata))
            video_out.disposition = self.video.disposition
        if self.timecode:
            video_out.metadata["timecode"] = self.timecode
        chapters = self.src.chapters()
        if chapters:
            try:
                self.out.set_chapters(chapters)
            except (av.error.FFmpegError, ValueError, TypeError) as exc:
                log.debug("%s: chapters not copied: %s", self.path, exc)

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
            if p.dts is None:  # a cover image's one packet has no time; else the demuxer's flush packets
                if p.size and p.stream.disposition & av.stream.Disposition.attached_pic:
                    p.stream = self.map[p.stream.index]
                    self.out.mux(p)
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


def close_output(out) -> None:
    """Close a PyAV output container, and its file even when finishing it fails: PyAV writes the packets it holds
    first and, where that fails (a full disk), raises with the file still open (its deleted temporary's space held
    until the process ends); a second close writes the trailer or fails, and closes the file either way."""
    try:
        out.close()
    except BaseException:
        with contextlib.suppress(Exception):
            out.close()
        raise


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
            self.copier.copy_tags(vs)
        except BaseException:
            close_output(self.out)
            raise
        self.frames = 0
        self.last_pts = None  # the latest frame written, on the source's clock (where a file cut short ends)
        self.last_t = None
        self.shift = self.copier.shift(info.time_base)  # the source clock's start (StreamCopier.offset_s)

    def write(self, packet: tuple) -> None:
        data, pts, dts, duration, key = packet
        self.last_pts = pts if self.last_pts is None else max(self.last_pts, pts)  # on the source's clock
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
            close_output(self.out)
