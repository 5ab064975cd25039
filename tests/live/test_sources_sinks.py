from pathlib import Path

import av
import numpy as np
import pytest

import livefilter as lf
from livefilter.errors import InputError
from livefilter.live.sinks import NullSink, SinkError, VideoFileSink, VirtualCameraSink
from livefilter.live.sources import CameraSource, ImageSource, SourceError, SyntheticSource, VideoFileSource

from ..conftest import ROOT


def test_synthetic_is_deterministic_and_moves():
    s = SyntheticSource((320, 180), fps=30, frames=5)
    frames = [s.read() for _ in range(5)]
    assert s.read() is None
    assert all(f.shape == (180, 320, 3) and f.dtype == np.uint8 for f in frames)
    assert np.array_equal(frames[3], SyntheticSource((320, 180), fps=30).frame_at(3))
    assert not np.array_equal(frames[0], frames[4])
    with pytest.raises(InputError):
        SyntheticSource((8, 8))


def test_image_source(sample_test):
    s = ImageSource(sample_test, frames=2)
    assert s.read().shape == lf.read_image(sample_test).shape
    s.read()
    assert s.read() is None


def test_an_animated_image_plays_its_first_frame_and_says_so(tmp_path, caplog):
    from PIL import Image

    frames = [Image.fromarray(np.full((40, 60, 3), v, np.uint8)) for v in (30, 200)]
    frames[0].save(tmp_path / "clip.webp", save_all=True, append_images=frames[1:], duration=100, lossless=True)
    s = ImageSource(tmp_path / "clip.webp", frames=1)
    assert int(s.read().mean()) == 30
    assert any("clip.webp: an animated image (2 frames)" in r.getMessage() for r in caplog.records)


def test_video_file_round_trip_and_loop(tmp_path):
    sink = VideoFileSink(tmp_path / "clip.mp4", fps=10)
    src = SyntheticSource((160, 96), frames=6)
    for _ in range(6):
        sink.send(src.read())
    assert not (tmp_path / "clip.mp4").exists()  # written under a temporary name until closed
    sink.close()
    sink.close()  # safe twice
    assert (tmp_path / "clip.mp4").stat().st_size > 0
    v = VideoFileSource(tmp_path / "clip.mp4")
    got = [v.read() for _ in range(6)]
    assert all(f is not None and f.shape == (96, 160, 3) for f in got) and v.read() is None
    looped = VideoFileSource(tmp_path / "clip.mp4", loop=True)
    assert all(looped.read() is not None for _ in range(15))
    with pytest.raises(InputError):
        VideoFileSource(tmp_path / "missing.mp4")


def test_a_clock_timed_recording_lasts_as_long_as_the_run(tmp_path):
    # a camera's recording was stamped one frame after another: frames the render loop skipped shortened it (51
    # frames of a 2-second run at 1280x720 played in 1.7 s)
    import time

    frame = np.zeros((64, 96, 3), np.uint8)
    with VideoFileSink(tmp_path / "rec.mp4", fps=30, timing="clock") as sink:
        for _ in range(4):
            sink.send(frame)
            time.sleep(0.1)  # a frame every 100 ms: 3 of every 30 fps slots
    with av.open(str(tmp_path / "rec.mp4")) as c:
        pts = [f.pts for f in c.decode(video=0)]
        step = round(1 / (c.streams.video[0].time_base * 30))
    gaps = np.diff(pts) / step
    assert len(pts) == 4 and np.all((gaps >= 2) & (gaps <= 5)), gaps
    with pytest.raises(SinkError, match="timing must be"):
        VideoFileSink(tmp_path / "x.mp4", timing="wall")


def test_a_recording_is_tagged_bt709_and_keeps_its_colours(tmp_path):
    # it went untagged in BT.601's matrix (PyAV's default), which players read as BT.709 at HD sizes (the bundled
    # test photo at 720p: 1 % of its pixels off by 10 to 13 code values, up to 39)
    import cv2

    photo = cv2.resize(lf.read_image(ROOT / "livefilter" / "data" / "sample_test.jpg"), (320, 212))
    with VideoFileSink(tmp_path / "rec.mp4", fps=10, crf=0) as sink:
        sink.send(photo)
    with av.open(str(tmp_path / "rec.mp4")) as c:
        f = next(c.decode(video=0))
        assert (f.colorspace, f.color_primaries, f.color_trc, f.color_range) == (1, 1, 1, 1)
    back = VideoFileSource(tmp_path / "rec.mp4").read()
    bias = (back.astype(np.float64) - photo).reshape(-1, 3).mean(0)
    assert np.abs(bias).max() <= 0.6, bias
    (tmp_path / "junk.mp4").write_bytes(b"junk")
    with pytest.raises(InputError):
        VideoFileSource(tmp_path / "junk.mp4")


def test_file_sink_resizes_changed_frames_and_empty_leaves_nothing(tmp_path):
    sink = VideoFileSink(tmp_path / "a.mp4")
    sink.send(np.zeros((64, 96, 3), np.uint8))
    sink.send(np.zeros((100, 50, 3), np.uint8))  # size changed mid-stream
    sink.close()
    assert VideoFileSource(tmp_path / "a.mp4").read().shape == (64, 96, 3)
    VideoFileSink(tmp_path / "b.mp4").close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]
    with pytest.raises(SinkError):
        VideoFileSink(tmp_path / "x.avi")
    with pytest.raises(lf.OutputError):
        VideoFileSink(tmp_path / "nope" / "x.mp4")


class FakeCamera:
    """Stands in for pyvirtualcam.Camera (no v4l2loopback device on CI)."""

    def __init__(self, width, height, fps, **kw):
        self.width, self.height, self.fps, self.frames, self.closed, self.device = width, height, fps, [], 0, "fake"

    def send(self, frame):
        assert frame.shape == (self.height, self.width, 3) and frame.dtype == np.uint8
        self.frames.append(frame)

    def close(self):
        self.closed += 1


def test_virtual_camera_sink_with_fake_device():
    sink = VirtualCameraSink((64, 48), fps=30, camera_class=FakeCamera)
    sink.send(np.zeros((48, 64, 3), np.uint8))
    sink.send(np.zeros((96, 128, 3), np.uint8))  # resized to the device's size
    assert len(sink.cam.frames) == 2
    sink.close()
    sink.close()
    assert sink.cam.closed == 1


def test_virtual_camera_missing_device_says_the_fix():
    def no_device(**kw):
        raise RuntimeError("'v4l2loopback' backend: No v4l2 loopback device found")

    with pytest.raises(SinkError, match="modprobe v4l2loopback|OBS"):
        VirtualCameraSink((64, 48), camera_class=no_device)


def test_real_virtual_camera_delivers_the_frames_sent_if_present():
    try:
        sink = VirtualCameraSink((64, 48))
    except SinkError as exc:
        pytest.skip(f"no virtual camera device here: {exc}")
    device = str(sink.cam.device)
    assert device and sink.name == f"vcam {device}"
    colour = np.array([200, 40, 90], np.uint8)
    frame = np.broadcast_to(colour, (48, 64, 3)).copy()
    try:
        sink.send(frame)
        if not device.startswith("/dev/video"):
            return  # Windows/macOS (OBS): the device cannot be read back from here; sending did not raise
        import cv2

        cap = cv2.VideoCapture(device, cv2.CAP_V4L2)
        try:
            got = None
            for _ in range(20):  # the loopback device hands out the latest frame once a reader is attached
                sink.send(frame)
                ok, bgr = cap.read()
                if ok:
                    got = bgr[..., ::-1]
                    break
            assert got is not None, f"nothing could be read back from {device}"
            # the device's pixel format (YUV) rounds the colour a little
            assert np.abs(got.reshape(-1, 3).mean(0) - colour).max() < 8
        finally:
            cap.release()
    finally:
        sink.close()


def test_camera_absent_raises_source_error():
    with pytest.raises(SourceError, match="camera"):
        CameraSource("/dev/video_livefilter_none")


def test_real_camera_if_present():
    try:
        cam = CameraSource(0, (640, 480))
    except SourceError:
        pytest.skip("no camera on this machine")
    with cam:
        assert cam.read().ndim == 3


def test_null_sink_counts():
    s = NullSink()
    s.send(np.zeros((2, 2, 3), np.uint8))
    assert s.count == 1


# a video file is read as `apply` reads it: upright, every frame of a variable-rate file, corrupt data said -------

def test_a_rotated_video_plays_upright(tmp_path):
    from livefilter.media.codec import decode
    from livefilter.media.probe import probe

    from ..batch.conftest import make_clip

    make_clip(tmp_path / "phone.mp4", frames=3, rotation=90, audio=False)  # stored 96x64, shown turned a quarter
    _, stored = next(decode(probe(tmp_path / "phone.mp4")))  # as stored: decode() does not turn it
    v = VideoFileSource(tmp_path / "phone.mp4")
    frame = v.read()
    assert v.size == (64, 96) and frame.shape == (96, 64, 3)
    assert np.array_equal(frame, np.rot90(stored, 1))
    v.close()


def test_a_variable_rate_file_is_read_whole_without_a_false_alarm(tmp_path):
    from ..batch.conftest import make_clip, read_code

    make_clip(tmp_path / "vfr.mkv", frames=30, durations=[20, 40, 90], audio=False)
    v = VideoFileSource(tmp_path / "vfr.mkv")
    codes = []
    while (f := v.read()) is not None:
        codes.append(read_code(f))
    assert codes == list(range(30)) and v.problem is None


def test_damaged_and_whole_files_live(tmp_path, caplog):
    from ..batch.conftest import corrupt_ts, make_clip, trimmed_mp4, ts_from_its_middle

    def frames(path, **kw):
        v = VideoFileSource(path, **kw)
        n = 0
        while v.read() is not None:
            n += 1
        v.close()
        return n, v.problem

    corrupt_ts(tmp_path / "bad.ts")  # a packet flagged damaged, no frame the decoder calls damaged: said, played
    assert frames(tmp_path / "bad.ts")[1] is None
    assert any("bad.ts: damaged video data at" in r.getMessage() for r in caplog.records)
    trimmed_mp4(tmp_path / "cut.mp4", frames=20, hidden=2)
    late = ts_from_its_middle(tmp_path / "late.ts")
    assert frames(tmp_path / "cut.mp4") == (18, None) and frames(tmp_path / "late.ts") == (late, None)
    make_clip(tmp_path / "a.mp4", frames=5, audio=False)
    v = VideoFileSource(tmp_path / "a.mp4", loop=True)
    (tmp_path / "a.mp4").unlink()  # a loop plays on: the file is held open
    assert all(v.read() is not None for _ in range(12))
    v.close()
    assert v.read() is None  # closed is closed: no new pass


def test_a_damaged_frame_fails_live_naming_the_file(tmp_path):
    import os
    import subprocess
    import sys

    from ..batch.conftest import make_clip

    src = tmp_path / "bad.mp4"  # as apply's test_corrupt_video_data: the decoder reports damaged frames
    make_clip(src, frames=60)
    d = bytearray(src.read_bytes())
    start = d.find(b"mdat") + len(d) // 3
    d[start:start + 3000] = os.urandom(3000)
    src.write_bytes(bytes(d))
    r = subprocess.run([sys.executable, "-m", "livefilter", "live", "--template", "tests/data/tiny_2.cube", "--input",
                        str(src), "--record", str(tmp_path / "r.mp4"), "--backend", "cpu", "--no-face-protect"],
                       capture_output=True, text=True, cwd=Path(__file__).parents[2], timeout=120)
    assert r.returncode == 1, r.stderr
    said = [ln for ln in r.stderr.splitlines() if "bad.mp4" in ln]
    assert len(said) == 1 and "corrupt" in said[0] and "Traceback" not in r.stderr, r.stderr
    assert (tmp_path / "r.mp4").stat().st_size > 0  # the frames before it are kept


def test_a_mov_recording_is_a_quicktime_file(tmp_path):
    # its temporary's .mp4 name made every recording an MP4, whatever its extension (a camera's PCM went into a
    # "recording.mov" as ISO PCM, with a warning that named .mov as the cure)
    for name, brand in (("rec.mov", b"qt  "), ("rec.mp4", b"isom")):
        with VideoFileSink(tmp_path / name, fps=10) as sink:
            sink.send(np.zeros((48, 64, 3), np.uint8))
        assert (tmp_path / name).read_bytes()[8:12] == brand


def test_a_still_gif_is_a_still_image_source(tmp_path):
    # live took a still GIF for a one-frame video (1 frame written, --fps ignored) and a JPEG 2000 for "a still image,
    # not a video" once apply graded both
    from PIL import Image

    from livefilter.live.sources import sequence_files

    img = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "a.gif")
    Image.fromarray(img).save(tmp_path / "b.jp2")
    assert [f.name for f in sequence_files(tmp_path)] == ["a.gif", "b.jp2"]
    from livefilter.cli import main

    for name in ("a.gif", "b.jp2"):
        out = tmp_path / f"{name}.mp4"
        assert main(["live", "--template", str(ROOT / "livefilter" / "data" / "sample_after.jpg"), "--input",
                     str(tmp_path / name), "--record", str(out), "--frames", "5", "--fps", "10"]) == 0
        with av.open(str(out)) as c:
            assert sum(1 for _ in c.decode(video=0)) == 5


def test_a_looped_sequence_says_an_unreadable_image_once(tmp_path, caplog):
    from PIL import Image

    from livefilter.live.sources import ImageSequenceSource

    for i in range(3):
        Image.fromarray(np.full((8, 8, 3), 50 * i, np.uint8)).save(tmp_path / f"f_{i}.png")
    (tmp_path / "f_1.png").write_bytes(b"broken")
    src = ImageSequenceSource(tmp_path, loop=True)
    frames = [src.read() for _ in range(6)]  # three passes over the two good images
    assert [int(f[0, 0, 0]) for f in frames] == [0, 100] * 3
    said = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert len(said) == 1 and "f_1.png" in said[0], said  # it was said on every pass
