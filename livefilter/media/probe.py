"""Probing a video at rest (PyAV): one pass over its packets gives the frame count, the keyframes and the chunk
plan; the first frame gives the size, the rotation and the colours.

A video is graded in chunks that start at keyframes at least ``chunk_seconds`` apart (``VideoInfo.boundaries``),
so that chunks can be graded apart (the Ray runner) and joined into the same bytes as one run.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import re
from fractions import Fraction
from pathlib import Path

import av

from ..errors import VideoError

log = logging.getLogger(__name__)

VIDEO_EXTS = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm", ".ts", ".mts", ".m2ts", ".mpg", ".mpeg", ".wmv",
              ".flv", ".3gp", ".ogv", ".mxf", ".y4m", ".vob", ".dv", ".m2t")
#: containers H.264 can be written to; other inputs are written as .mp4
OUTPUT_EXTS = (".mp4", ".mov", ".m4v", ".mkv", ".ts")
CHUNK_SECONDS = 30.0
#: frames a second above which a stream's stated rate is its clock's, not its frames' (a raw DV stream's 60000)
MAX_RATE = 1000


@dataclasses.dataclass
class VideoInfo:
    """What ``probe`` learnt about an input video."""

    path: str
    width: int
    height: int
    time_base: Fraction
    rate: Fraction | None
    frames: int  # frames a whole pass decodes (the packets that give one, and those its index lists past the data)
    packets: int
    start_pts: int
    duration_s: float
    rotation: int
    colour: dict  # colorspace, color_range, color_primaries, color_trc of the first frame; a PQ video's peak (nits)
    boundaries: list  # pts where chunks 1.. start (chunk 0 starts at the beginning)
    chunk_frames: list  # frames in each chunk (from the packets)
    # where the video ends as an MXF's or a Matroska file's header declares it, and where its data ends, in seconds on
    # the same clock (None: not declared; other containers: their index tells, see codec.missing_frames)
    declared_s: float | None = None
    data_end_s: float | None = None
    sar: Fraction | None = None  # the pixels' aspect (a DV or anamorphic video's are not square); None: square
    pix_fmt: str | None = None  # the first frame's pixel format (yuv420p, yuv422p10le, ...)
    fields: str | None = None  # an interlaced video's field order as shown: "tff" (top field first) or "bff"

    @property
    def chunks(self) -> int:
        return len(self.boundaries) + 1

    def chunk_of(self, pts: int) -> int:
        return bisect.bisect_right(self.boundaries, pts)

    def chunk_range(self, i: int) -> tuple[int | None, int | None]:
        return (self.boundaries[i - 1] if i > 0 else None, self.boundaries[i] if i < len(self.boundaries) else None)

    def seconds(self, pts: int | None) -> float:
        return 0.0 if pts is None else float((pts - self.start_pts) * self.time_base)


def _tag_seconds(metadata) -> float | None:
    """A Matroska track's DURATION tag ("00:00:03.003000000") in seconds; None without one."""
    m = re.fullmatch(r"(\d+):(\d\d):(\d\d(?:\.\d+)?)", str(metadata.get("DURATION", "")).strip())
    return int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]) if m else None


def timestamp(seconds: float) -> str:
    """hh:mm:ss.mmm, as players show it."""
    ms = int(round(max(seconds, 0.0) * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    return f"{h:02d}:{m:02d}:{rem / 1000:06.3f}"


def open_video(path):
    """The container at ``path`` (or in an open binary file, read from its start), open for reading; VideoError when
    it cannot be opened."""
    is_file = hasattr(path, "read")
    if is_file:
        path.seek(0)
    try:
        return av.open(path if is_file else str(path))
    except av.error.FFmpegError as exc:
        raise VideoError(f"cannot open as a video ({exc.strerror or exc})", path.name if is_file else path) from None


def main_video(c):
    """The container's video stream to grade: its first one that is not a cover image (an attached picture, as a
    music file or a podcast carries), or None."""
    return next((s for s in c.streams.video if not s.disposition & av.stream.Disposition.attached_pic), None)


def probe(path, chunk_seconds: float = CHUNK_SECONDS) -> VideoInfo:
    """Read a video's packets once (no decoding but the first frame): frame count, keyframes, the chunk plan."""
    path = Path(path)
    if not path.is_file():
        raise VideoError("no such file", path)
    with open_video(path) as c:
        if c.format.name == "image2" or c.format.name.endswith("_pipe"):  # FFmpeg reads a photo as a 1-frame video
            kind = path.suffix.lower().lstrip(".") if c.format.name == "image2" else c.format.name[:-5]
            raise VideoError(f"a still image ({kind or 'image'}), not a video: grade it as a photo", path)
        v = main_video(c)
        if v is None:
            kinds = ", ".join(sorted({"a cover image" if s.type == "video" else s.type for s in c.streams})) or "none"
            raise VideoError(f"no video stream (streams: {kinds})", path)
        cc = v.codec_context
        if cc is None or not cc.name or cc.name == "none":
            raise VideoError("unknown video codec: no decoder for it in this FFmpeg build", path)
        tb = v.time_base or Fraction(1, 90000)
        pts_list, keys = [], []
        hidden = lead = 0  # packets that give no frame: hidden by an edit list; before the first keyframe
        end = 0  # the data's end: the largest pts + its packet's duration
        kind = c.format.name
        try:
            for pkt in c.demux(v):
                t = pkt.pts if pkt.pts is not None else pkt.dts
                if t is None:
                    continue
                pts_list.append(t)
                end = max(end, t + (pkt.duration or 0))
                if pkt.is_keyframe:
                    keys.append(t)
                if pkt.is_discard:
                    hidden += 1
                elif not keys:
                    lead += 1
        except av.error.FFmpegError as exc:  # the grading pass reaches the same place and reports it
            log.debug("%s: reading packets stopped: %s", path, exc)
    first = None
    with open_video(path) as c:
        v = main_video(c)
        try:
            for frame in c.decode(v):
                first = frame
                break
        except av.error.FFmpegError as exc:
            raise VideoError(f"cannot decode the video ({cc.name}): {exc.strerror or exc}", path) from None
        if first is None:
            raise VideoError(f"no decodable video frame ({cc.name})", path)
        width, height = first.width, first.height
        # the first plausible of the stream's rates: a raw .dv's average and guessed rates are its clock's 60000 (an
        # .mov then refused its timecode: 'fps 60000 is too large')
        rate = next((r for r in (v.average_rate, v.guessed_rate, v.base_rate, v.codec_context.framerate)
                     if r and 0 < r <= MAX_RATE), None)
        sar = v.sample_aspect_ratio or v.codec_context.sample_aspect_ratio  # the pixels' shape
        sar = Fraction(sar) if sar and sar > 0 and sar != 1 else None
        fields = _fields(first, v.codec_context.field_order, cc.name)
        declared = v.frames or 0
        # the video's end its header declares: an MXF's length from its start; Matroska's DURATION tag (written near
        # the start, so a file cut short keeps it), an end time on the stream's clock. Elsewhere (an mp4's index, a
        # WMV giving every stream the file's length, a stream of packets) it is not read.
        declared_s = data_end_s = None
        if kind == "mxf" and v.duration and pts_list:
            declared_s, data_end_s = float(v.duration * tb), float((end - min(pts_list)) * tb)
        elif kind.startswith("matroska") and pts_list and (tag := _tag_seconds(v.metadata)) is not None:
            declared_s, data_end_s = tag, float(end * tb)
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
    if colour["color_trc"] == 16:  # PQ: HDR10's metadata gives the tone curve's source peak (media/hdr.py)
        from .hdr import content_peak

        if peak := content_peak(first):
            colour["peak"] = peak
    # the frames a whole pass decodes: a packet each, less those that give none (an mp4 trimmed without re-encoding
    # hides a frame or more by its edit list; a stream recorded from its middle opens before a keyframe: measured,
    # ffmpeg decodes neither), plus those the index lists past the end of the data (a file cut short)
    frames = len(pts_list) - hidden - (lead if keys else 0) + max(0, declared - len(pts_list))
    return VideoInfo(str(path), width, height, Fraction(tb), Fraction(rate) if rate else None,
                     frames, len(pts_list), start, duration, int(first.rotation or 0), colour, boundaries, chunk_frames,
                     declared_s, data_end_s, sar, first.format.name, fields)


# AVFieldOrder: 2 top field coded and shown first, 3 bottom first, 4 top coded / bottom shown first, 5 the reverse
_SHOWN_FIRST = {2: "tff", 5: "tff", 3: "bff", 4: "bff"}


def _fields(frame, field_order: int, codec: str) -> str | None:
    """An interlaced video's field order as shown ("tff" / "bff"), None for progressive: by the stream's field order,
    else, for a frame flagged interlaced, standard-definition DV's (bottom field first, by its standard; its decoder
    does not say; DVCPRO HD's 1080i is top field first) or top field first (PyAV does not show a frame's own order)."""
    if field_order in _SHOWN_FIRST:
        return _SHOWN_FIRST[field_order]
    if not frame.interlaced_frame or field_order == 1:
        return None
    return "bff" if codec == "dvvideo" and frame.height <= 576 else "tff"
