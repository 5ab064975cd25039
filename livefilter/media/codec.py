"""Decoding frames out of a video and encoding graded frames into H.264 packets (PyAV, libx264).

``decode`` yields RGB frames in presentation order (one chunk's, or all); ``ChunkEncoder`` is one encoder session:
RGB frames in (through our own RGB -> I420 pass, yuv.py), packets out. Every encoder and the muxer's stream are
configured alike (``_configure``), so that chunks encoded apart join into one valid stream.
"""

from __future__ import annotations

import dataclasses
import logging
import numbers
import os
import threading
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import Interpolation, VideoReformatter

from ..errors import InputError, OutputError, VideoDecodeError
from .hdr import TRANSFER_NAME, ToSDR
from .probe import VideoInfo, main_video, open_video, timestamp
from .yuv import I420_COLORSPACES, rgb_to_i420, yuv_to_rgb

log = logging.getLogger(__name__)


#: x264's presets, fastest first
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


@dataclasses.dataclass(frozen=True)
class EncodeSettings:
    """How the graded video is encoded. ``threads`` is fixed (not 'auto') because x264's output depends on it:
    the Ray runner passes the driver's settings to every worker so chunks match the local run."""

    crf: float = 18.0
    preset: str = "veryfast"  # as live recordings (sinks.VideoFileSink) and OBS; see cli/parser.py's --preset
    threads: int = max(1, (os.cpu_count() or 1) * 3 // 2)
    codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    #: the stream's headers (H.264's SPS / PPS) before every keyframe instead of once in the container's header:
    #: an MPEG-TS has no such header (:func:`for_output` sets it)
    in_band_headers: bool = False

    def __post_init__(self):  # PyAV's OverflowError / ArgumentError escaped apply_video and failed every file
        if isinstance(self.crf, bool) or not isinstance(self.crf, numbers.Real) or not 0 <= self.crf <= 51:
            raise InputError(f"crf must be in 0..51 (H.264's quality: lower is better), got {self.crf!r}")
        if self.codec == "libx264" and self.preset not in PRESETS:
            raise InputError(f"preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")


#: containers whose video carries its own headers in-band (a TS written with them in a container header alone was
#: unplayable: "non-existing PPS 0 referenced")
IN_BAND_EXTS = (".ts",)


def for_output(settings: EncodeSettings, dst) -> EncodeSettings:
    """``settings`` for a video written to ``dst`` (its container decides where the stream's headers go)."""
    return dataclasses.replace(settings, in_band_headers=Path(dst).suffix.lower() in IN_BAND_EXTS)


# --- decode ---------------------------------------------------------------------------------------------------
_BT709, _BT601, _BT2020 = 1, 5, 9  # AVColorSpace values (AVColorPrimaries for BT.709 and BT.2020 alike)


def is_hdr(info: VideoInfo) -> bool:
    """Whether the video's first frame is tagged with an HDR transfer (PQ or HLG)."""
    return info.colour.get("color_trc") in TRANSFER_NAME


def _src_colorspace(info: VideoInfo) -> int:
    cs = info.colour.get("colorspace")
    if cs == 10:  # BT.2020 constant luminance: swscale has no such matrix (it failed as "corrupt data"); the
        return _BT2020  # non-constant one is close
    if cs in (1, 4, 5, 6, 9):
        return cs
    if is_hdr(info):
        return _BT2020  # unspecified: HDR's matrix
    # unspecified SDR: what players read it as (mpv, VLC, browsers: BT.709 above SD sizes, BT.601 at SD), not FFmpeg's
    # swscale's BT.601 throughout (an untagged HDV or 1080p camera file came out tagged BT.601, its greens 28 code
    # values brighter than the same file played)
    return _BT709 if info.width >= 1280 or info.height > 576 else _BT601


#: swscale's exact YUV -> RGB (its default path is dark by a code value or two: docs/decisions.md, 'YUV -> RGB on
#: decoding'), for the pixel formats media/yuv.py does not read
_EXACT = Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT
#: 16-bit RGB from swscale: planar (PyAV stacks it as R, G, B); its packed rgb48le came out garbled (magenta) for a
#: 4:2:0 frame of odd width (a VP9 / AV1 video can have one)
_RGB16 = "gbrp16le"


def _rgb(info: VideoInfo):
    """frame -> uint8 RGB (H, W, 3), for this video. An HDR frame is brought to SDR BT.709 as an SDR screen shows it
    (media/hdr.py), so that a look learnt on SDR photos grades it as it grades SDR video."""
    cs = _src_colorspace(info)
    if not is_hdr(info):
        def to_sdr_rgb(frame):
            rgb = yuv_to_rgb(frame, cs)  # planar 8- and 10-bit YUV, rounded (media/yuv.py)
            if rgb is None:  # another format (NV12, 12-bit, alpha): swscale's exact path (its fast one is biased)
                rgb = frame.reformat(format="rgb24", src_colorspace=cs, interpolation=_EXACT).to_ndarray()
            return rgb

        return to_sdr_rgb
    reformatter, converters = VideoReformatter(), {}

    def to_rgb(frame):
        key = (frame.format.name, frame.color_range)
        if key not in converters:
            converters[key] = ToSDR(info.colour, _white16(frame.format.name, frame.color_range, cs))
        return converters[key](reformatter.reformat(frame, format=_RGB16, src_colorspace=cs).to_ndarray())

    return to_rgb


def _white16(pix_fmt: str, color_range: int, cs: int) -> float:
    """What swscale's 16-bit RGB (_RGB16) makes of nominal white in this planar YUV format and range: 65283 for 10-bit
    limited range, 65021 for 8-bit (its output is that much short of 65535; left alone, an HDR video came out 1 to 3
    code values dark). 65535 for a format this does not know how to fill."""
    f = av.VideoFrame(2, 2, pix_fmt)
    bits = f.format.components[0].bits
    if not pix_fmt.startswith("yuv") or len(f.planes) != 3 or bits > 16:
        return 65535.0
    top = (1 << bits) - 1 if color_range == 2 else 235 << (bits - 8)
    for k, plane in enumerate(f.planes):
        np.frombuffer(plane, np.uint16 if bits > 8 else np.uint8)[:] = top if k == 0 else 1 << (bits - 1)
    f.color_range = color_range
    return float(VideoReformatter().reformat(f, format=_RGB16, src_colorspace=cs).to_ndarray()[0, 0, 1])


def decode(info: VideoInfo, start: int | None = None, end: int | None = None, stop: threading.Event | None = None,
           file=None, on_damaged=None):
    """Yield (pts, rgb uint8 (H, W, 3)) for the frames with start <= pts < end, in presentation order.

    Raises VideoDecodeError at corrupt or truncated data (after yielding every frame before it): a frame the decoder
    says is damaged, or data it cannot read. With ``on_damaged`` a damaged frame is yielded as the decoder conceals
    it (as players show it) and ``on_damaged(pts)`` told. A packet the demuxer flags (an MPEG-TS whose packet
    counter skips: a lost or broken packet, or two files joined) is said once and decoding goes on: the decoder
    tells whether a frame suffered (a join decodes whole, as ffmpeg decodes it). ``file``: the video as an open
    binary file (read from its start) instead of ``info.path``."""
    flagged = False
    with open_video(info.path if file is None else file) as c:
        v = main_video(c)
        v.codec_context.thread_type = "AUTO"
        to_rgb = _rgb(info)
        last_pts, n, tainted = None, 0, False
        period = max(1, int(1 / (info.rate * info.time_base))) if info.rate else 1
        try:
            if start is not None:
                _seek_before(c, v, start, step=max(1, int(1 / info.time_base)))
            for packet in _complete_packets(c.demux(v), truncated=info.packets < info.frames):
                if stop is not None and stop.is_set():
                    return
                if packet.is_corrupt and not flagged and _within(packet.pts, start, end):
                    flagged = True
                    at = timestamp(info.seconds(packet.pts if packet.pts is not None else last_pts))
                    log.warning("%s: damaged video data at %s (a lost or broken packet, or two files joined): the "
                                "frames there may be damaged or missing", info.path, at)
                for frame in packet.decode():
                    pts = frame.pts
                    if pts is None:
                        pts = (last_pts + period) if last_pts is not None else info.start_pts
                    if frame.key_frame:
                        tainted = False
                    if start is not None and pts < start:
                        # decoded on the way to ``start`` from the keyframe before it (a video's still): a damaged
                        # one damages the frames after it up to the next keyframe, which the decoder does not flag
                        # (fit learnt from a still of green blocks); leading frames of an open GOP after the first
                        # frame yielded belong to the previous chunk
                        tainted = tainted or (n == 0 and frame.is_corrupt)
                        continue
                    if end is not None and pts >= end:
                        return
                    if frame.is_corrupt or tainted:
                        if on_damaged is None:
                            raise VideoDecodeError(f"corrupt video data at {timestamp(info.seconds(pts))}",
                                                   info.path, n, damaged_frame=True)
                        on_damaged(pts)
                    if last_pts is not None and pts <= last_pts:  # broken timestamps: keep them increasing
                        pts = last_pts + 1
                    rgb = to_rgb(frame)
                    last_pts = pts
                    n += 1
                    yield pts, rgb
        except av.error.FFmpegError as exc:
            at = timestamp(info.seconds(last_pts)) if last_pts is not None else "the start"
            raise VideoDecodeError(f"corrupt or truncated video data after {at} ({exc.strerror or exc})",
                                   info.path, n) from None


def _seek_before(c, v, target: int, step: int, tries: int = 12) -> None:
    """Seek so that decoding starts at a keyframe at or before ``target`` (pts). In an MPEG-TS FFmpeg's seek is a
    search over the bytes and can land past the target (a Ray chunk then decoded none of its frames): seek earlier,
    by ``step`` (one second) and then doubling, until the first keyframe it meets is at or before it (none: it landed
    at the end); else from the start."""
    back = 0
    for _ in range(tries):
        c.seek(target - back, stream=v, backward=True, any_frame=False)
        first = next((p.pts for p in c.demux(v) if p.is_keyframe and p.pts is not None), None)
        if first is not None and first <= target:
            c.seek(target - back, stream=v, backward=True, any_frame=False)  # again: the packets looked at are spent
            return
        back = back * 2 or step
    c.seek(0, backward=True, any_frame=True)  # from the start of the file: slower, never wrong


def _within(pts: int | None, start: int | None, end: int | None) -> bool:
    return pts is None or ((start is None or pts >= start) and (end is None or pts < end))


def say_damaged(info: VideoInfo, damaged: list[int]) -> None:
    """One warning for the damaged frames graded through (their pts), naming the first."""
    if damaged:
        n = len(damaged)
        log.warning("%s: %d damaged frame%s graded as the decoder conceals %s, as players show %s (the first at %s)",
                    info.path, n, "s" if n > 1 else "", "them" if n > 1 else "it", "them" if n > 1 else "it",
                    timestamp(info.seconds(min(damaged))))


def missing_frames(info: VideoInfo, decoded: int, last_pts: int | None = None) -> str | None:
    """What is wrong when a whole pass through the video decoded fewer frames than it holds (its index or its
    packets); None when none is missing. ``last_pts``: the last decoded frame's, where the data ends (without it,
    the packets' span scaled by the share of them decoded: scaled by the frames the index lists, which a file cut
    short lists past its data, the end was named at half its time)."""
    if decoded >= info.frames:
        return None
    at = (info.seconds(last_pts) if last_pts is not None else
          info.duration_s * min(decoded / max(info.packets - 1, 1), 1.0))
    last = timestamp(at)
    return f"truncated or corrupt: {decoded} of {info.frames} frames decoded (the video data ends near {last})"


def cut_short(info: VideoInfo) -> str | None:
    """What to say of a video whose data ends well before the length its header declares, when its index tells
    nothing (MXF, Matroska: :func:`missing_frames` cannot know): a warning, not an error (a header can be stale)."""
    if info.declared_s is None or info.data_end_s is None or info.frames > info.packets:
        return None  # not declared; or the index tells (an error)
    if info.declared_s - info.data_end_s <= max(0.5, 0.05 * info.declared_s):
        return None
    return (f"its data ends near {timestamp(info.data_end_s)}, its header declares {timestamp(info.declared_s)}: the "
            "file seems cut short (graded up to where it ends)")


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
    row, and a warning says so once per output; a frame under 2 pixels a side cannot be written at all (an
    OutputError, before anything is written)."""
    if width < 2 or height < 2:
        raise OutputError(f"{width}x{height} frames cannot be written as H.264 (4:2:0 needs at least 2x2 pixels)",
                          dst)
    if width % 2 or height % 2:
        log.warning("%s: %dx%d is written as %dx%d (H.264 in 4:2:0 needs an even width and height; the last %s "
                    "dropped)", dst, width, height, width - width % 2, height - height % 2,
                    "column and row are" if width % 2 and height % 2 else "column is" if width % 2 else "row is")


def say_what_is_lost(info: VideoInfo, dst) -> None:
    """A warning for what an output cannot keep of its input, once per output: a file cut short whose index tells
    nothing, an HDR video's range (brought to SDR before grading), more bits or colour resolution than 8-bit 4:2:0
    (a camera's 10-bit or 4:2:2, a screen recording's RGB), interlacing H.264 cannot keep at its height, a display
    rotation an MPEG-TS cannot store."""
    if problem := cut_short(info):
        log.warning("%s: %s", info.path, problem)
    if is_hdr(info):
        log.warning("%s: an HDR video (%s): brought to SDR (BT.709) as an SDR screen shows it, then graded; the graded "
                    "video is SDR", info.path, TRANSFER_NAME[info.colour["color_trc"]])
    else:
        _say_if_richer(info, "the graded video")
    if info.fields and not _fields_kept(info):
        log.warning("%s: interlaced at %dx%d: written as progressive frames (H.264's interlaced coding needs a height "
                    "divisible by 4)", info.path, info.width, info.height)
    if info.rotation and Path(dst).suffix.lower() in IN_BAND_EXTS:
        log.warning("%s: its display rotation (%d degrees) cannot be stored in %s: the graded video plays unrotated "
                    "(grade into .mp4, .mov or .mkv to keep it)", info.path, info.rotation, Path(dst).suffix)


def say_what_a_recording_loses(info: VideoInfo, dst) -> None:
    """``live --input VIDEO --record``: what the recording (8-bit 4:2:0 progressive H.264, as a camera's) cannot keep
    of the file, where ``apply`` would (a cut-short file and HDR are said by the source itself)."""
    if not is_hdr(info):
        _say_if_richer(info, "the recording")
    if info.fields:
        log.warning("%s: interlaced: %s is recorded as progressive frames (`livefilter apply` keeps it interlaced)",
                    info.path, Path(dst).name)


def _say_if_richer(info: VideoInfo, what: str) -> None:
    if (kind := _richer_than_output(info.pix_fmt, info.width, info.height)) is not None:
        log.warning("%s: %s (%s); %s is 8-bit 4:2:0 H.264, as players and browsers play it", info.path, kind,
                    info.pix_fmt, what)


def _richer_than_output(pix_fmt: str | None, width: int, height: int) -> str | None:
    """What a pixel format holds that the graded video's 8-bit 4:2:0 does not ("10-bit 4:2:2", "RGB"), or None."""
    try:
        fmt = av.VideoFormat(pix_fmt, width, height)
    except (TypeError, ValueError, av.FFmpegError):
        return None  # none known, or a hardware frame: said nothing of
    bits = max((c.bits for c in fmt.components if not c.is_alpha), default=8)
    if fmt.is_rgb or len(fmt.components) < 3:
        chroma = "RGB" if fmt.is_rgb else "grey"
    else:
        cw, ch = fmt.chroma_width(), fmt.chroma_height()
        chroma = {(1, 1): "4:4:4", (2, 1): "4:2:2", (4, 1): "4:1:1"}.get(
            (-(-width // max(cw, 1)), -(-height // max(ch, 1))))  # None: 4:2:0 or coarser (4:1:0)
    if bits <= 8 and chroma in (None, "grey"):
        return None
    chroma = chroma or "4:2:0"
    return f"{bits}-bit {chroma}" if bits > 8 else f"8-bit {chroma}"


def _out_colorspace(info: VideoInfo) -> int:
    """The graded video's YUV matrix: the input's where the RGB -> I420 pass has it (BT.709, BT.601, BT.2020), else
    BT.709 (an HDR video is brought to SDR BT.709 on decoding)."""
    cs = _src_colorspace(info)
    return cs if cs in I420_COLORSPACES and not is_hdr(info) else _BT709


def _configure(cc, info: VideoInfo, settings: EncodeSettings) -> None:
    """The same encoder settings for every chunk's encoder and the muxer's stream (identical headers)."""
    cc.width, cc.height = info.width - info.width % 2, info.height - info.height % 2
    cc.pix_fmt = settings.pix_fmt
    cc.time_base = info.time_base
    if info.rate:
        cc.framerate = info.rate
    if info.sar:  # non-square pixels stay so (a widescreen DV or anamorphic video played squashed)
        cc.sample_aspect_ratio = info.sar
    cc.colorspace = _out_colorspace(info)
    cc.color_range = 1  # limited ("tv"): what players expect of H.264
    for k in ("color_primaries", "color_trc"):
        if is_hdr(info):
            setattr(cc, k, _BT709)  # brought to SDR on decoding (_rgb)
        elif info.colour.get(k) not in (None, 2):
            setattr(cc, k, info.colour[k])
    x264 = [X264_PARAMS] if X264_PARAMS else []
    if _fields_kept(info):  # interlaced stays interlaced, its first field first: players deinterlace it as the input
        # bottom field first: FFmpeg's libx264 takes the order from each frame's flag, which PyAV cannot set (tff=1
        # came out bottom first); a top-field-first picture is moved down a line instead (ChunkEncoder.to_frame)
        x264.append("bff=1")
        cc.field_order = 3  # AV_FIELD_BB: a Matroska output's FieldOrder element too
    cc.options = {"crf": f"{settings.crf:g}", "preset": settings.preset, "threads": str(settings.threads),
                  **({"x264-params": ":".join(x264)} if x264 and settings.codec == "libx264" else {})}


def _fields_kept(info: VideoInfo) -> bool:
    """Whether an interlaced video is written interlaced: x264's interlaced coding needs a height (the even one
    written) divisible by 4; NTSC D1's 486 lines are written progressive, as before, and said (say_what_is_lost)."""
    return info.fields is not None and (info.height - info.height % 2) % 4 == 0


class ChunkEncoder:
    """One encoder session: RGB frames in, (bytes, pts, dts, duration, keyframe) packets out."""

    def __init__(self, info: VideoInfo, settings: EncodeSettings):
        self.cc = av.CodecContext.create(settings.codec, "w")
        _configure(self.cc, info, settings)
        if not settings.in_band_headers:  # headers in the container (mp4's avcC); else x264 repeats them in-band
            self.cc.flags |= av.codec.context.Flags.global_header
        self.cc.open()
        self.cs = _out_colorspace(info)
        self.fields = _fields_kept(info)
        self.move_down = self.fields and info.fields == "tff"
        self.w, self.h = self.cc.width, self.cc.height

    def to_frame(self, rgb: np.ndarray, pts: int):
        """RGB -> a yuv420p VideoFrame (thread-safe: called in the render thread)."""
        if rgb.shape[1] != self.w or rgb.shape[0] != self.h:
            rgb = rgb[: self.h, : self.w]
        if self.move_down:  # the first field onto the odd lines (as ffmpeg's fieldorder filter): bottom field first;
            rgb = np.concatenate((rgb[1:2], rgb[:-1]))  # line 0, of the second field, from that field's line 1
        # our own RGB -> I420 pass (yuv.py): within 1 code value of libswscale's, 5 ms instead of 16.7 at 1080p
        f = av.VideoFrame.from_ndarray(rgb_to_i420(rgb, self.cs, self.fields), format="yuv420p")
        f.pts = pts
        return f

    def encode(self, frame) -> list:
        return [_pack(p) for p in self.cc.encode(frame)]

    def flush(self) -> list:
        return [_pack(p) for p in self.cc.encode(None)]


def _pack(p) -> tuple:
    return bytes(p), p.pts, p.dts, p.duration, bool(p.is_keyframe)
