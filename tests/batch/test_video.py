"""Videos graded at rest: every frame in order, timestamps, audio and rotation kept, faces protected, H.264."""

from fractions import Fraction

import av
import numpy as np
import pytest

import livefilter as lf
from livefilter.batch.video import apply_video, probe

from .conftest import audio_packets, decode_all, make_clip, read_code


def test_every_frame_in_order_audio_untouched(tmp_path, look):
    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    times = make_clip(src, frames=40)
    r = lf.apply_video(look, src, dst)
    assert r.frames == 40 and r.status == "ok"
    frames, out_times, _ = decode_all(dst)
    assert [read_code(f) for f in frames] == list(range(40))  # none dropped, repeated or reordered
    assert out_times == pytest.approx(times, abs=1e-6)
    a_in, dur_in = audio_packets(src)
    a_out, dur_out = audio_packets(dst)
    assert a_in and a_out == a_in  # the audio is remuxed packet by packet, not re-encoded
    assert abs(dur_out - dur_in) <= 1 / 25
    with av.open(str(dst)) as c:
        v = c.streams.video[0]
        assert v.codec_context.name == "h264" and v.codec_context.pix_fmt == "yuv420p"
    src_frames, _, _ = decode_all(src)
    assert np.abs(frames[5].astype(int) - src_frames[5]).mean() > 3  # the look is there
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.mp4"]  # no temporary file left


def test_variable_frame_rate_timestamps_kept(tmp_path, look):
    src, dst = tmp_path / "vfr.mp4", tmp_path / "out.mkv"
    times = make_clip(src, frames=16, durations=[30, 50, 40, 70], audio=False)
    apply_video(look, src, dst, face_protect=False)
    frames, out_times, _ = decode_all(dst)
    assert [read_code(f) for f in frames] == list(range(16))
    assert out_times == pytest.approx(times, abs=1e-3)  # mkv stores milliseconds
    assert len(set(np.round(np.diff(out_times), 3))) == 4


def test_rotation_kept(tmp_path, look):
    src, dst = tmp_path / "rot.mp4", tmp_path / "out.mp4"
    make_clip(src, frames=6, rotation=90, audio=False)
    apply_video(look, src, dst)
    frames, _, rot = decode_all(dst)
    assert rot == 90 and frames[0].shape == (64, 96, 3)  # stored as it came, shown rotated by the player


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_faces_of_a_rotated_video_are_looked_for_upright(turns):
    """A phone's portrait video is stored sideways (or upside down) with a display rotation: its faces were looked
    for in the stored frame, lying on their side (found less fully) or upside down (not found: the face got the full
    look). They are looked for in the frame as players show it, and the map turned back to the stored frame."""
    from livefilter.batch.degree import FrameDegree
    from livefilter.resources import DATA_DIR

    upright = lf.read_image(DATA_DIR / "sample_after.jpg")  # a face
    stored = np.ascontiguousarray(np.rot90(upright, -turns))  # what the file holds; players turn it by `turns`
    with FrameDegree(True, every=1) as est:
        shown = est.update(upright)
    with FrameDegree(True, every=1, turns=turns) as est:
        got = est.update(stored)
    assert shown is not None and float(shown.min()) < 0.5  # the face is protected
    assert got is not None and np.array_equal(got, np.rot90(shown, -turns))
    assert got.shape[0] <= stored.shape[0] / 4 and got.shape[1] <= stored.shape[1] / 4  # a low-resolution map


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_quarter_turns_of_a_rotation_show_the_frame_as_ffmpeg_does(ffmpeg, tmp_path, rotation):
    """The frames' quarter turns (np.rot90(stored, rotation // 90), as the faces' analysis, a live file source and a
    video's stills take them) give the picture ffmpeg's autorotation shows: the direction pinned against a player."""
    import subprocess

    stored = np.zeros((64, 96, 3), np.uint8)
    stored[:16, :24] = 255  # a white block in the stored frame's top-left corner
    src = tmp_path / "rot.mp4"
    make_clip(src, frames=2, size=(96, 64), rotation=rotation, audio=False, frame_fn=lambda i: stored)
    turns = probe(src).rotation // 90
    shown = np.rot90(stored, turns)
    h, w = shown.shape[:2]
    raw = subprocess.run([ffmpeg, "-v", "error", "-i", str(src), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt",
                          "rgb24", "-"], capture_output=True, check=True).stdout
    played = np.frombuffer(raw, np.uint8).reshape(h, w, 3)  # autorotated: the shown size too
    corner = lambda a: np.unravel_index(np.argmax(a[..., 0].astype(int) > 128), a.shape[:2])  # noqa: E731
    assert corner(played) == corner(shown), (rotation, corner(played), corner(shown))


def test_a_video_is_analysed_in_its_display_rotation(tmp_path, look, monkeypatch):
    """apply gives the degree state the video's display rotation (quarter turns, as players show it)."""
    from livefilter.batch import video

    made = []

    class Recording(video.FrameDegree):
        def __init__(self, *a, **k):
            made.append(k.get("turns", 0))
            super().__init__(*a, **k)

    monkeypatch.setattr(video, "FrameDegree", Recording)
    src = tmp_path / "rot.mp4"
    make_clip(src, frames=4, rotation=90, audio=False)
    turns = probe(src).rotation // 90
    apply_video(look, src, tmp_path / "out.mp4")
    assert turns in (1, 3) and made == [turns]


@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_non_square_pixels_kept(ffmpeg, tmp_path, look, ext):
    """A widescreen video stored with non-square pixels (DV, anamorphic) came out with square ones: squashed."""
    import subprocess

    src, dst = tmp_path / f"sar{ext}", tmp_path / f"out{ext}"
    subprocess.run([ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "1",
                    "-vf", "setsar=4/3", "-c:v", "libx264", "-g", "3", str(src)], check=True)
    apply_video(look, src, dst, chunk_seconds=0.35)  # several chunks: the same header in each
    with av.open(str(dst)) as c:
        v = c.streams.video[0]
        assert v.sample_aspect_ratio == Fraction(4, 3) and v.display_aspect_ratio == Fraction(16, 9)
        assert v.frames in (0, 10)


@pytest.mark.parametrize("order", ["tff", "bff"])
def test_an_interlaced_video_stays_interlaced_its_first_field_first(ffmpeg, tmp_path, order):
    """An interlaced video (a camcorder's 1080i, a DV or TV recording) came out flagged progressive: players showed
    its fields combed instead of deinterlacing them. Written bottom field first (FFmpeg's libx264 takes the order from
    each frame's flag, which PyAV cannot set: a tff=1 encode came out bottom first, its fields shown in the wrong
    order), a top-field-first picture moved down a line so that its first field is still shown first."""
    import shutil
    import subprocess

    src, dst = tmp_path / "fields.mp4", tmp_path / "out.mp4"
    subprocess.run([ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "1",
                    "-vf", f"setfield={order}", "-flags", "+ilme+ildct", "-c:v", "libx264", "-x264-params",
                    f"{order}=1", "-g", "3", str(src)], check=True)
    assert probe(src).fields == order
    apply_video(lf.Lut.identity(17), src, dst, chunk_seconds=0.35)  # several chunks: the same header in each
    assert probe(dst).fields == "bff" and probe(dst).frames == 10
    ffprobe = shutil.which("ffprobe") or pytest.skip("no ffprobe")
    flags = subprocess.run([ffprobe, "-v", "error", "-show_entries", "frame=interlaced_frame,top_field_first", "-of",
                            "csv=p=0", str(dst)], capture_output=True, text=True, check=True).stdout.split()
    assert [f.split(",")[:2] for f in flags] == [["1", "0"]] * 10  # every frame interlaced, bottom field first
    (a, *_), (b, *_) = decode_all(src)[0], decode_all(dst)[0]
    a, b = a.astype(float), b.astype(float)
    moved, kept = np.abs(b[1:] - a[:-1]).mean(), np.abs(b - a).mean()
    assert (moved < kept / 2) if order == "tff" else (kept < moved / 2), (moved, kept)  # tff: 3.5 against 9.4


def test_an_interlaced_video_of_486_lines_is_written_progressive(ffmpeg, tmp_path, caplog):
    # x264's interlaced coding needs a height divisible by 4: NTSC D1 (720x486) failed to grade ("height not divisible
    # by 4") once interlaced video was kept interlaced
    import subprocess

    src, dst = tmp_path / "d1.mpg", tmp_path / "out.mp4"
    subprocess.run([ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=720x486:rate=30000/1001",
                    "-frames:v", "4", "-pix_fmt", "yuv420p", "-c:v", "mpeg2video", "-flags", "+ildct+ilme", "-top", "1",
                    str(src)], check=True)
    assert probe(src).fields == "tff"
    apply_video(lf.Lut.identity(2), src, dst)
    assert probe(dst).fields is None and probe(dst).frames == 4
    assert any("interlaced at 720x486: written as progressive frames" in r.getMessage() for r in caplog.records)


def test_dv_is_bottom_field_first(ffmpeg, tmp_path):
    # DV's decoder does not say its field order: it was taken as top field first, so its fields were written swapped
    import subprocess

    src = tmp_path / "dv.avi"
    subprocess.run([ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "smptebars=size=720x576:rate=25", "-t", "0.2",
                    "-vf", "setfield=bff", "-c:v", "dvvideo", "-pix_fmt", "yuv420p", str(src)], check=True)
    assert probe(src).fields == "bff"


def test_chunks_start_at_keyframes_and_keep_every_frame(tmp_path, look):
    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    make_clip(src, frames=30, gop=5)
    info = probe(src, chunk_seconds=0.35)
    assert info.chunks > 2 and sum(info.chunk_frames) == 30
    apply_video(look, src, dst, chunk_seconds=0.35)
    frames, _, _ = decode_all(dst)
    assert [read_code(f) for f in frames] == list(range(30))


@pytest.mark.parametrize("name", ["in.mp4", "in.mkv", "in.ts", "in.m2ts"])
def test_each_chunk_decodes_its_own_frames(tmp_path, name):
    # what a Ray worker decodes: an MPEG-TS seek lands past its target (FFmpeg searches the bytes), and chunks 2..4
    # of a transport stream decoded no frame at all (apply --ray failed: "10 of 40 frames decoded")
    from livefilter.media.codec import decode

    make_clip(tmp_path / name, frames=40, gop=10, audio=False)
    info = probe(tmp_path / name, chunk_seconds=0.3)
    chunks = [[read_code(rgb) for _, rgb in decode(info, *info.chunk_range(i))] for i in range(info.chunks)]
    assert len(chunks) == 4 and chunks == [list(range(i, i + 10)) for i in range(0, 40, 10)]


def test_a_transport_stream_graded_into_a_transport_stream_plays(tmp_path, look):
    # H.264 in an MPEG-TS carries its headers in-band: written as for an mp4 (headers in the container's header,
    # which a TS has not) every frame failed to decode ("non-existing PPS 0 referenced"), while apply said "wrote"
    src, dst = tmp_path / "rec.ts", tmp_path / "out.ts"
    make_clip(src, frames=30, gop=5, audio=False)
    apply_video(look, src, dst, chunk_seconds=0.35)  # several chunks, each its own encoder
    frames, _, _ = decode_all(dst)
    assert [read_code(f) for f in frames] == list(range(30))


def test_faces_get_less_of_the_look(tmp_path):
    from livefilter.analysis.faces import FaceDetector
    from livefilter.live.sources import SyntheticSource

    synth = SyntheticSource((320, 240), fps=25)
    src = tmp_path / "face.mp4"
    make_clip(src, frames=8, size=(320, 240), frame_fn=synth.frame_at, audio=False)
    on, off = tmp_path / "on.mp4", tmp_path / "off.mp4"
    table = lf.identity_table(17)
    table[..., 2] = 1 - table[..., 2]  # a strong look (blue inverted), so that coding noise does not matter
    look = lf.Lut(table)
    apply_video(look, src, on)
    apply_video(look, src, off, face_protect=False)
    f_in, _, _ = decode_all(src)
    f_on, _, _ = decode_all(on)
    f_off, _, _ = decode_all(off)
    with FaceDetector() as det:
        boxes = det.detect(f_in[4])
    assert boxes, "the synthetic clip shows a face"
    x0, y0, x1, y1 = boxes[0]
    cx, cy = int((x0 + x1) / 2 * 320), int((y0 + y1) / 2 * 240)
    face = (slice(cy - 10, cy + 10), slice(cx - 10, cx + 10))
    for k in (0, 4, 7):  # from the first frame on
        d_on = np.abs(f_on[k][face].astype(int) - f_in[k][face]).mean()
        d_off = np.abs(f_off[k][face].astype(int) - f_in[k][face]).mean()
        assert d_on < 0.5 * d_off, (k, d_on, d_off)
    corner = (slice(0, 30), slice(0, 30))
    assert np.abs(f_on[4][corner].astype(int) - f_off[4][corner]).mean() < 2  # the background keeps the look


def test_a_per_segment_look_is_rendered_per_segment(tmp_path):
    """A look fitted with --segments: each frame is segmented, the person gets the person's LUT and the rest
    the background's (the global LUT is not what is rendered)."""
    from livefilter.live.sources import SyntheticSource

    synth = SyntheticSource((320, 240), fps=25)
    src = tmp_path / "face.mp4"
    make_clip(src, frames=6, size=(320, 240), frame_fn=synth.frame_at, audio=False)
    ident = lf.identity_table(17)
    inverted = ident.copy()
    inverted[..., 2] = 1 - inverted[..., 2]
    grey = np.repeat(ident.mean(-1, keepdims=True), 3, -1)
    look = lf.Look(lut=lf.Lut(grey), label_luts={0: lf.Lut(ident), 1: lf.Lut(inverted)},
                   meta={"name": "split", "segments": {"categories": {0: "background", 1: "person"}}})
    assert look.segmented
    out = tmp_path / "out.mp4"
    apply_video(look, src, out, face_protect=False)
    f_in, _, _ = decode_all(src)
    f_out, _, _ = decode_all(out)
    # inside the person (the segmenter's soft mask 0.99-1 there on every frame; a window 20 px further left met the
    # mask's edge, 0.5-0.7 on the first frame, and passed by a code value or two)
    face = (slice(100, 140), slice(165, 205))
    for k in (0, 3, 5):
        got, inp = f_out[k][face].astype(int), f_in[k][face].astype(int)
        # the person's look (blue inverted), not the background's (unchanged); the soft mask is ~0.9-0.97 there
        d_person = np.abs(got[..., 2] - (255 - inp[..., 2])).mean()
        d_background = np.abs(got[..., 2] - inp[..., 2]).mean()
        assert d_person < 0.25 * d_background, (k, d_person, d_background)
        assert np.abs(got[..., :2] - inp[..., :2]).mean() < 6, k  # red and green kept (not the global grey)


def test_a_look_with_a_scene_grades_an_unlike_video_less(tmp_path):
    """A .look.npz carries its template's scene: frames of an unlike scene get s = the floor (scene.FLOOR) of the look
    outside faces, on the video's own clock (the same bytes every run)."""
    from livefilter.analysis.scene import FLOOR, SceneFeatures, default_model
    from livefilter.live.sources import SyntheticSource

    synth = SyntheticSource((160, 120), fps=25)
    src = tmp_path / "clip.mp4"
    make_clip(src, frames=6, size=(160, 120), frame_fn=synth.frame_at, audio=False)
    table = lf.identity_table(17)
    table[..., 2] = 1 - table[..., 2]
    f = default_model().describe(synth.frame_at(0))
    opposite = SceneFeatures(top=-1, feature=-f.feature)  # as unlike the clip as features can be: s = FLOOR
    plain = lf.Look(lut=lf.Lut(table), meta={"name": "plain"})
    scened = lf.Look(lut=lf.Lut(table), meta={"name": "scened", "scene": opposite.to_meta()})
    full, less, again = tmp_path / "full.mp4", tmp_path / "less.mp4", tmp_path / "again.mp4"
    apply_video(plain, src, full, face_protect=False)
    apply_video(scened, src, less, face_protect=False)
    apply_video(scened, src, again, face_protect=False)
    f_in, _, _ = decode_all(src)
    f_full, _, _ = decode_all(full)
    f_less, _, _ = decode_all(less)
    f_again, _, _ = decode_all(again)
    for k in (0, 5):
        d_full = np.abs(f_full[k].astype(int) - f_in[k]).mean()
        d_less = np.abs(f_less[k].astype(int) - f_in[k]).mean()
        assert abs(d_less / d_full - FLOOR) < 0.05, (k, d_less, d_full)
    assert all(np.array_equal(a, b) for a, b in zip(f_less, f_again))


def test_x264_is_held_below_avx512_only_where_the_cpu_has_it(tmp_path, monkeypatch):
    """x264's AVX-512 code gave other bytes for the same frames (livefilter.media.codec.X264_PARAMS): on such a CPU
    the encoder is told to stop at AVX2; a CPU without AVX-512 (or no /proc/cpuinfo) is left to x264."""
    from livefilter.media import codec as bv

    with_512, without = tmp_path / "a", tmp_path / "b"
    with_512.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw\n")
    without.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 bmi2\n")
    assert bv._has_avx512(str(with_512)) and not bv._has_avx512(str(without))
    assert not bv._has_avx512(str(tmp_path / "none"))
    info = bv.VideoInfo(path="x.mp4", width=64, height=48, time_base=Fraction(1, 25), rate=Fraction(25),
                        frames=1, packets=1, start_pts=0, duration_s=0.04, rotation=0, colour={}, boundaries=[],
                        chunk_frames=[1])
    for params in ("asm=AVX2,BMI2,LZCNT", None):
        monkeypatch.setattr(bv, "X264_PARAMS", params)
        cc = av.CodecContext.create("libx264", "w")
        bv._configure(cc, info, bv.EncodeSettings())
        assert cc.options.get("x264-params") == params


def test_a_black_and_white_look_greys_a_video_s_faces_too(tmp_path):
    """Face protection gave a face a share of a black-and-white look: it stayed in colour in a grey video."""
    import cv2

    from livefilter.resources import DATA_DIR

    face = cv2.resize(lf.read_image(DATA_DIR / "sample_after.jpg"), (384, 256))  # a portrait
    src, dst = tmp_path / "face.mp4", tmp_path / "bw.mp4"
    make_clip(src, frames=4, size=(384, 256), frame_fn=lambda i: face, audio=False)
    x = lf.identity_table(17)
    bw = lf.Look(lut=lf.Lut(np.repeat((x @ np.array([0.299, 0.587, 0.114]))[..., None], 3, -1), title="bw"))
    apply_video(bw, src, dst)
    with av.open(str(dst)) as c:
        chroma = [f.to_ndarray()[256:].astype(int) for f in c.decode(video=0)]  # the I420 frame's Cb and Cr rows
    assert len(chroma) == 4 and max(np.abs(c - 128).max() for c in chroma) <= 1  # grey, the face too
