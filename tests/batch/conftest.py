"""Tiny generated clips for the batch tests (PyAV, a base dependency, writes them: no ffmpeg binary needed)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from livefilter.media.codec import X264_PARAMS

BITS = 8  # frame index coded in 8 squares of 8x8 pixels along the top row


def code_frame(i: int, w: int = 96, h: int = 64) -> np.ndarray:
    """A frame whose top row holds ``i`` in binary (white = 1), the rest a colour ramp (so a look shows)."""
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = np.linspace(40, 220, w, dtype=np.uint8)[None, :]
    img[..., 1] = np.linspace(60, 200, h, dtype=np.uint8)[:, None]
    img[..., 2] = 120
    for b in range(BITS):
        img[0:12, b * 12:(b + 1) * 12] = 255 if (i >> b) & 1 else 0
    return img


def read_code(rgb: np.ndarray) -> int:
    cells = [rgb[2:10, b * 12 + 2:b * 12 + 10].mean() for b in range(BITS)]
    mid = (max(cells) + min(cells)) / 2 if max(cells) - min(cells) > 60 else 128
    return sum(1 << b for b, c in enumerate(cells) if c > mid)


def make_clip(path, frames: int = 20, size=(96, 64), fps: int = 25, audio: bool | str = True, rotation: int = 0,
              durations=None, gop: int = 5, frame_fn=None, sar=None) -> list[float]:
    """Write an H.264 clip (+ AAC audio of the same length); returns the frames' times in seconds.
    ``durations`` (ticks of 1/1000 s per frame, cycled) makes it variable frame rate."""
    out = av.open(str(path), "w")
    vs = out.add_stream("libx264", rate=fps)
    vs.width, vs.height, vs.pix_fmt = size[0], size[1], "yuv420p"
    tb = Fraction(1, 1000) if durations else Fraction(1, fps * 512)
    vs.codec_context.time_base = tb
    # x264's AVX-512 code gives other bytes on each encode (livefilter.media.codec.X264_PARAMS): a clip a test
    # damages at a fixed offset must be the same clip every run (corrupt_ts's flagged packet came and went)
    vs.codec_context.options = {"crf": "8", "g": str(gop), "keyint_min": str(gop), "preset": "veryfast",
                                **({"x264-params": X264_PARAMS} if X264_PARAMS else {})}
    if rotation:
        vs.set_display_rotation(rotation)
    if sar:  # non-square pixels (a Fraction)
        vs.codec_context.sample_aspect_ratio = sar
    times, t = [], 0
    for i in range(frames):
        rgb = frame_fn(i) if frame_fn else code_frame(i, *size)
        f = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        f.pts = t
        f.time_base = tb
        times.append(float(t * tb))
        for p in vs.encode(f):
            out.mux(p)
        t += durations[i % len(durations)] if durations else 512
    for p in vs.encode(None):
        out.mux(p)
    out.close()
    if audio:  # True: AAC, or an audio codec's name
        _add_audio(path, float(t * tb), "aac" if audio is True else audio)
    return times


def corrupt_ts(path, seed: int = 1) -> None:
    """An MPEG-TS clip of 60 frames with 3,000 bytes overwritten a third of the way in: the demuxer flags a packet
    damaged and a frame is lost, while the decoder reports no damaged frame (an MPEG-TS has no index)."""
    make_clip(path, frames=60, audio=False)
    d = bytearray(path.read_bytes())
    start = len(d) // 3
    d[start:start + 3000] = np.random.default_rng(seed).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(d))


def ts_with_a_lost_packet(path, frames: int = 40) -> int:
    """An MPEG-TS recording that lost one 188-byte packet (a glitch on the air): every frame still decodes, and
    the decoder flags the one that lost data as damaged (ffmpeg conceals it and plays on). The first packet whose
    loss does that is dropped (which one depends on the encoder's bytes). Returns the damaged frame's index."""
    make_clip(path, frames=frames, audio=False, gop=10)
    d = path.read_bytes()
    for k in range(4, len(d) // 188):  # past the tables (PAT, PMT) at the start
        cut = d[:k * 188] + d[(k + 1) * 188:]
        path.write_bytes(cut)
        with av.open(str(path)) as c:
            flags = [f.is_corrupt for f in c.decode(video=0)]
        if len(flags) == frames and sum(flags) == 1:
            return flags.index(True)
    raise AssertionError("no lost packet gives a damaged frame")


def trimmed_mp4(path, frames: int = 20, hidden: int = 2) -> None:
    """An mp4 whose edit list hides its first ``hidden`` frames, as a cut made without re-encoding (``ffmpeg -ss T
    -c copy``) leaves it: the packets are there, flagged to be dropped; ``frames - hidden`` frames decode."""
    base = path.with_suffix(".base.mp4")
    make_clip(base, frames=frames, audio=False)
    with av.open(str(base)) as src, av.open(str(path), "w") as out:
        v = src.streams.video[0]
        o = out.add_stream_from_template(v)
        for p in src.demux(v):
            if p.dts is not None:
                p.pts -= hidden * 512  # make_clip's frame duration in its time base
                p.dts -= hidden * 512
                p.stream = o
                out.mux(p)
    base.unlink()


def ts_from_its_middle(path, frames: int = 40) -> int:
    """An MPEG-TS cut from a 188-byte packet a fifth of the way in, as a recording that joined a stream late: it
    opens before a keyframe. Returns the frames it decodes."""
    make_clip(path, frames=frames, audio=False, gop=10)
    d = path.read_bytes()
    path.write_bytes(d[len(d) // 5 // 188 * 188:])
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def _add_audio(path, seconds: float, codec: str = "aac") -> None:
    """Rewrite ``path`` with a sine of ``seconds`` in ``codec`` beside its video (video packets copied)."""
    import os

    # an AAC clip is rewritten as an MP4 whatever its name (as the tests' clips always were: an .avi of them too);
    # another codec in the name's own container (FLAC or PCM in a .mkv)
    tmp = str(path) + ".tmp" + (".mp4" if codec == "aac" else Path(path).suffix)
    src = av.open(str(path))
    out = av.open(tmp, "w")
    v_in = src.streams.video[0]
    v_out = out.add_stream_from_template(v_in)
    a = out.add_stream(codec, rate=48000)
    a.layout = "mono"
    n = int(seconds * 48000)
    fmt = a.format.name  # the encoder's sample format
    samples = 0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / 48000)
    if fmt.startswith(("s16", "s32")):  # whole numbers at full scale
        bits = 16 if fmt.startswith("s16") else 32
        samples = (samples * (2 ** (bits - 1) - 1)).astype(np.int16 if bits == 16 else np.int32)
    else:
        samples = samples.astype(np.float32)
    pkts = []
    for k in range(0, n, 1024):
        fr = av.AudioFrame.from_ndarray(samples[None, k:k + 1024], format=fmt, layout="mono")
        fr.sample_rate, fr.pts = 48000, k
        pkts += a.encode(fr)
    pkts += a.encode(None)
    vp = [p for p in src.demux(v_in) if p.dts is not None]
    for p in vp:
        p.stream = v_out
    for p in pkts:
        p.stream = a
    for p in sorted(vp + pkts, key=lambda p: float(p.dts * p.time_base)):
        out.mux(p)
    out.close()
    src.close()
    os.replace(tmp, path)


def decode_all(path):
    """(rgb frames, times in s, rotation) of the first video stream."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames, times, rot = [], [], 0
        for f in c.decode(v):
            frames.append(f.to_ndarray(format="rgb24"))
            times.append(float(f.pts * f.time_base))
            rot = f.rotation or 0
    return frames, times, rot


def audio_packets(path):
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return [], 0.0
        a = c.streams.audio[0]
        pk = [p for p in c.demux(a) if p.dts is not None]
        data = [bytes(p) for p in pk]
        end = max(float((p.pts + p.duration) * p.time_base) for p in pk) - min(float(p.pts * p.time_base) for p in pk)
    return data, end


@pytest.fixture(scope="session")
def look_file(tmp_path_factory):
    import livefilter as lf
    from livefilter.resources import DATA_DIR

    path = tmp_path_factory.mktemp("look") / "look.cube"
    lf.fit_look(DATA_DIR / "sample_after.jpg", DATA_DIR / "sample_before.jpg").save(path)
    return path


@pytest.fixture(scope="session")
def look(look_file):
    import livefilter as lf

    return lf.load_look(look_file)
