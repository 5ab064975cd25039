"""A graded video keeps what `ffmpeg -map 0 -c copy` keeps of its other streams: every stream its container can
hold (asked of the muxer itself), their languages, titles and dispositions, the file's title and chapters, a
camera's timecode, a cover image; what it cannot keep is said, once, before the grading."""

from __future__ import annotations

import subprocess

import av
import numpy as np
import pytest

from livefilter.cli import main

from .conftest import decode_all, make_clip

CLIP = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=0.6"]
TONE = ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.6"]
H264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "5"]


def _ffmpeg(ffmpeg, *args):
    r = subprocess.run([ffmpeg, "-v", "error", "-y", *map(str, args)], capture_output=True, text=True)
    if r.returncode and "Unknown encoder" in r.stderr:
        pytest.skip(f"this ffmpeg lacks an encoder: {r.stderr.strip()}")
    assert r.returncode == 0, r.stderr


def _grade(look_file, src, dst, capsys, caplog):
    caplog.clear()
    code = main(["apply", str(look_file), str(src), "-o", str(dst)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return [r.getMessage() for r in caplog.records if r.levelno >= 30]


def _streams(path):
    with av.open(str(path)) as c:
        return [(s.type, s.codec_context.name if s.codec_context is not None else None, dict(s.metadata),
                 s.disposition) for s in c.streams]


def test_a_tv_recording_keeps_its_aac_and_ac3_audio(ffmpeg, tmp_path, look_file, capsys, caplog):
    # PyAV's list of the MPEG-TS muxer's codecs holds MP2 alone: AAC and AC3 tracks were left out of a .ts
    src = tmp_path / "tv.ts"
    _ffmpeg(ffmpeg, *CLIP, *TONE, "-map", 0, "-map", 1, "-map", 1, *H264, "-c:a:0", "aac", "-c:a:1", "ac3", src)
    said = _grade(look_file, src, tmp_path / "out.ts", capsys, caplog)
    assert said == []
    assert [(t, n) for t, n, _, _ in _streams(tmp_path / "out.ts")] == [("video", "h264"), ("audio", "aac"),
                                                                        ("audio", "ac3")]
    assert len(decode_all(tmp_path / "out.ts")[0]) == 15


def test_a_stream_the_container_refuses_is_said_before_the_grading(ffmpeg, tmp_path, look_file, capsys, caplog):
    # opus is on PyAV's list for .mov, but the muxer refuses it at the header: the run failed after all the grading
    src = tmp_path / "talk.mkv"
    _ffmpeg(ffmpeg, *CLIP, *TONE, *H264, "-c:a", "libopus", src)
    said = _grade(look_file, src, tmp_path / "out.mov", capsys, caplog)
    assert said == [f"{src}: stream #1 (audio opus) cannot be stored in .mov; left out"]
    assert [t for t, *_ in _streams(tmp_path / "out.mov")] == ["video"]
    assert len(decode_all(tmp_path / "out.mov")[0]) == 15


@pytest.mark.parametrize("codec", ["flac", "pcm_s16le", "mp3"])
def test_audio_a_transport_stream_cannot_carry_is_said_not_written_as_data(tmp_path, look_file, capsys, caplog,
                                                                           codec):
    # the MPEG-TS muxer takes any codec as private data: the sound came back as an unreadable data stream, unsaid;
    # an MP3 (its decoder named mp3float) it carries as audio
    src = tmp_path / "take.mkv"
    make_clip(src, frames=15, audio=codec)
    said = _grade(look_file, src, tmp_path / "out.ts", capsys, caplog)
    if codec == "mp3":
        assert said == [] and [t for t, *_ in _streams(tmp_path / "out.ts")] == ["video", "audio"]
        return
    assert said == [f"{src}: stream #1 (audio {codec}) cannot be stored in .ts; left out"]
    assert [t for t, *_ in _streams(tmp_path / "out.ts")] == ["video"]
    said = _grade(look_file, src, tmp_path / "out.mkv", capsys, caplog)  # where it can be kept, it is
    assert said == [] and [(t, n) for t, n, *_ in _streams(tmp_path / "out.mkv")] == [("video", "h264"),
                                                                                      ("audio", codec)]


def test_languages_titles_dispositions_chapters_and_timecode_are_kept(ffmpeg, tmp_path, look_file, capsys, caplog):
    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:00,500\nhello\n")
    src = tmp_path / "film.mkv"
    _ffmpeg(ffmpeg, *CLIP, *TONE, "-i", srt, "-map", 0, "-map", 1, "-map", 1, "-map", 2, *H264, "-c:a", "aac",
            "-c:s", "srt", "-metadata", "title=Holiday", "-metadata:s:a:0", "language=eng",
            "-metadata:s:a:1", "language=fre", "-metadata:s:a:1", "title=Commentary", "-disposition:a:0", "0",
            "-disposition:a:1", "default", "-disposition:s:0", "forced", "-metadata:s:s:0", "language=eng", src)
    assert _grade(look_file, src, tmp_path / "out.mkv", capsys, caplog) == []
    (_, _, v, _), (_, _, a0, d0), (_, _, a1, d1), (_, sub, s0, ds) = _streams(tmp_path / "out.mkv")
    assert (a0.get("language"), a1.get("language"), a1.get("title"), s0.get("language")) == ("eng", "fre",
                                                                                              "Commentary", "eng")
    Disp = av.stream.Disposition
    assert not d0 & Disp.default and d1 & Disp.default and ds & Disp.forced and sub == "srt"
    with av.open(str(tmp_path / "out.mkv")) as c:
        assert c.metadata.get("title") == "Holiday"

    chapters = tmp_path / "ch.txt"  # an mp4 with chapters (stored as a text track) and a camera timecode
    chapters.write_text(";FFMETADATA1\ntitle=Trip\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=300\ntitle=Intro\n"
                        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=300\nEND=600\ntitle=Main\n")
    cam = tmp_path / "cam.mov"
    _ffmpeg(ffmpeg, *CLIP, *TONE, "-i", chapters, "-map", 0, "-map", 1, "-map_metadata", 2, "-map_chapters", 2,
            *H264, "-c:a", "aac", "-timecode", "01:00:00:00", cam)
    for out in (tmp_path / "out.mov", tmp_path / "out.mp4"):
        assert _grade(look_file, cam, out, capsys, caplog) == []  # the timecode and chapter tracks: not "left out"
        with av.open(str(out)) as c:
            assert [ch["metadata"].get("title") for ch in c.chapters()] == ["Intro", "Main"]
            assert c.metadata.get("title") == "Trip" and c.streams.video[0].metadata.get("timecode") == "01:00:00:00"


def test_a_cover_image_is_kept_and_never_graded(ffmpeg, tmp_path, look_file, capsys, caplog):
    cover = tmp_path / "cover.jpg"
    _ffmpeg(ffmpeg, "-f", "lavfi", "-i", "color=red:size=32x32", "-frames:v", 1, cover)
    src = tmp_path / "clip.mp4"  # the cover first: the video graded is the clip, not the picture
    _ffmpeg(ffmpeg, "-i", cover, *CLIP, *TONE, "-map", 0, "-map", 1, "-map", 2, "-c:v:0", "mjpeg",
            "-disposition:v:0", "attached_pic", "-c:v:1", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", src)
    assert _grade(look_file, src, tmp_path / "out.mp4", capsys, caplog) == []
    kinds = [(t, n, bool(d & av.stream.Disposition.attached_pic)) for t, n, _, d in _streams(tmp_path / "out.mp4")]
    assert sorted(kinds) == [("audio", "aac", False), ("video", "h264", False), ("video", "mjpeg", True)]
    assert len(decode_all(tmp_path / "out.mp4")[0]) == 15

    song = tmp_path / "song.mp4"  # a music file: its picture is no video to grade
    _ffmpeg(ffmpeg, "-i", cover, *TONE, "-map", 0, "-map", 1, "-c:v", "mjpeg", "-disposition:v:0", "attached_pic",
            "-c:a", "aac", song)
    code = main(["apply", str(look_file), str(song), "-o", str(tmp_path / "song_out.mp4")])
    err = capsys.readouterr().err
    assert code == 2 and "no video stream (streams: a cover image, audio)" in err


@pytest.mark.parametrize("trc, name", [("smpte2084", "PQ"), ("arib-std-b67", "HLG")])
def test_an_hdr_video_says_it_is_brought_to_sdr(ffmpeg, tmp_path, look_file, capsys, caplog, trc, name):
    src = tmp_path / "hdr.mp4"
    _ffmpeg(ffmpeg, *CLIP, *H264, "-color_primaries", "bt2020", "-color_trc", trc, "-colorspace", "bt2020nc", src)
    said = _grade(look_file, src, tmp_path / "out.mp4", capsys, caplog)
    assert len(said) == 1 and f"an HDR video ({name}): brought to SDR (BT.709)" in said[0]


@pytest.mark.parametrize("pix_fmt, kind", [("yuv420p10le", "10-bit 4:2:0"), ("yuv422p10le", "10-bit 4:2:2"),
                                            ("yuv444p", "8-bit 4:4:4")])
def test_a_video_richer_than_8_bit_4_2_0_says_what_it_becomes(ffmpeg, tmp_path, look_file, capsys, caplog, pix_fmt,
                                                               kind):
    # a camera's 10-bit or 4:2:2 video became 8-bit 4:2:0 without a word (the plain clips of this file say nothing)
    src = tmp_path / "rich.mkv"
    _ffmpeg(ffmpeg, *CLIP, "-c:v", "libx264", "-pix_fmt", pix_fmt, "-g", "5", src)
    said = _grade(look_file, src, tmp_path / "out.mp4", capsys, caplog)
    assert said == [f"{src}: {kind} ({pix_fmt}); the graded video is 8-bit 4:2:0 H.264, as players and browsers "
                    "play it"]


@pytest.mark.parametrize("ext, made, graded", [
    (".dv", ["-vf", "setfield=bff", "-c:v", "dvvideo", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le", "-f", "dv"], ".mov"),
    (".vob", ["-c:v", "mpeg2video", "-c:a", "ac3", "-f", "vob"], ".mp4"),
    (".m2t", ["-c:v", "mpeg2video", "-c:a", "mp2", "-f", "mpegts"], ".mp4"),
])
def test_camcorder_and_dvd_files_are_videos(ffmpeg, tmp_path, look_file, capsys, ext, made, graded):
    # a DV camcorder's .dv, a DVD's .vob and an HDV camcorder's .m2t were "not an image or video file"; a raw .dv's
    # stated rate is its clock's 60000, and a .mov refused its timecode at that rate
    src = tmp_path / f"clip{ext}"
    size = "720x576" if ext == ".dv" else "160x120"
    _ffmpeg(ffmpeg, "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration=0.2", "-f", "lavfi", "-i",
            "sine=frequency=440:sample_rate=48000:duration=0.2", "-ac", 2, *made, src)
    out = tmp_path / "graded"
    out.mkdir()
    assert main(["apply", str(look_file), str(src), "--out-dir", str(out)]) == 0, capsys.readouterr().err
    assert decode_all(out / f"clip{graded}")[0].__len__() == 5  # a .dv's PCM keeps it in a .mov


@pytest.mark.parametrize("ext, codec", [(".mxf", "mpeg2video"), (".y4m", "wrapped_avframe")])
def test_an_mxf_and_a_y4m_are_videos(tmp_path, look_file, capsys, caplog, ext, codec):
    # a camera's or an editor's MXF and a raw .y4m were "not an image or video file"
    src = tmp_path / f"clip{ext}"
    with av.open(str(src), "w", format="yuv4mpegpipe" if ext == ".y4m" else None) as out:
        vs = out.add_stream(codec, rate=25)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 40 * i, np.uint8), format="rgb24")
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
    _grade(look_file, src, tmp_path / "out.mp4", capsys, caplog)
    frames, _, _ = decode_all(tmp_path / "out.mp4")
    assert len(frames) == 5
    out = tmp_path / "graded"
    out.mkdir()
    assert main(["apply", str(look_file), str(tmp_path), "--out-dir", str(out)]) == 0  # a folder takes it too
    assert (out / "clip.mp4").exists()  # no audio: an .mp4
    assert "left out" not in "".join(capsys.readouterr())


def test_a_camera_mxf_keeps_its_pcm_audio_playable(ffmpeg, tmp_path, look_file, capsys, caplog):
    # a camera's MXF carries 24-bit PCM; in an .mp4 that is ISO PCM, which FFmpeg 5.1 decoded as noise: in a folder
    # a video with PCM audio whose container cannot hold H.264 becomes a .mov (PCM as it is; without PCM an .mp4),
    # and an .mp4 asked for says so
    src = tmp_path / "cam" / "A001.mxf"
    src.parent.mkdir()
    _ffmpeg(ffmpeg, "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=0.6", "-f", "lavfi", "-i",
            "sine=frequency=440:sample_rate=48000:duration=0.6", "-c:v", "mpeg2video", "-c:a", "pcm_s24le", src)
    said = _grade(look_file, src, tmp_path / "out.mp4", capsys, caplog)
    assert len(said) == 1 and "its PCM audio goes into the .mp4 as ISO PCM" in said[0]
    out = tmp_path / "graded"
    out.mkdir()
    _ffmpeg(ffmpeg, "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=0.6", "-c:v", "mpeg2video",
            src.parent / "B002.mxf")  # no audio
    assert main(["apply", str(look_file), str(src.parent), "--out-dir", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["A001.mov", "B002.mp4"]
    # (and the MXF's timecode, as a .mov's timecode track)
    assert [(t, n) for t, n, _, _ in _streams(out / "A001.mov")][:2] == [("video", "h264"), ("audio", "pcm_s24le")]
    assert _grade(look_file, src, tmp_path / "out.mov", capsys, caplog) == []


def test_a_rotation_a_ts_cannot_hold_is_said(tmp_path, look_file, capsys, caplog):
    src = tmp_path / "phone.mp4"
    make_clip(src, frames=10, rotation=90, audio=False)
    assert _grade(look_file, src, tmp_path / "out.mp4", capsys, caplog) == []  # an mp4 keeps it
    said = _grade(look_file, src, tmp_path / "out.ts", capsys, caplog)
    assert len(said) == 1 and "display rotation (90 degrees) cannot be stored in .ts" in said[0]


def test_a_worker_process_says_it_as_the_command_does(ffmpeg, tmp_path, look_file):
    # workers are spawned: their warnings came out bare ("f3/a.webm: stream #1 ..."), not as "livefilter: ..."
    import sys

    src, out, vtt = tmp_path / "in", tmp_path / "out", tmp_path / "s.vtt"
    src.mkdir()
    out.mkdir()
    vtt.write_text("WEBVTT\n\n00:00:00.000 --> 00:00:00.300\nhello\n")
    for name in ("a.webm", "b.webm"):
        _ffmpeg(ffmpeg, *CLIP, "-i", vtt, "-c:v", "libvpx-vp9", "-c:s", "webvtt", src / name)
    r = subprocess.run([sys.executable, "-m", "livefilter", "apply", str(look_file), str(src), "--out-dir", str(out),
                        "-j", "2"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert all(ln.startswith("livefilter: ") for ln in lines), r.stderr
    assert sum("(subtitle webvtt) cannot be stored in .mp4" in ln for ln in lines) == 2, r.stderr
    assert "2 graded, 0 failed of 2 files" in r.stdout


@pytest.mark.parametrize("size, matrix", [("1280x720", "bt709"), ("720x576", "bt470bg")])
def test_an_untagged_video_is_read_as_players_read_it(ffmpeg, tmp_path, capsys, caplog, size, matrix):
    # an untagged HD video (an HDV or a camera's file) was read in BT.601 (FFmpeg's swscale's default) and tagged so:
    # players show untagged HD as BT.709, so the graded copy's greens came out 28 code values brighter
    import livefilter as lf

    identity = tmp_path / "identity.cube"
    lf.write_lut(identity, lf.Lut.identity(2))
    src, dst = tmp_path / "untagged.mp4", tmp_path / "out.mp4"
    _ffmpeg(ffmpeg, "-f", "lavfi", "-i", f"color=c=0x00A000:size={size}:rate=25:duration=0.2", "-vf",
            f"scale=out_color_matrix={'bt709' if matrix == 'bt709' else 'bt601'}:out_range=tv", *H264, src)
    cs = {"bt709": 1, "bt470bg": 5}[matrix]
    with av.open(str(src)) as c:
        f = next(c.decode(video=0))
        assert f.colorspace == 2  # unspecified
        shown = f.reformat(format="rgb24", src_colorspace=cs).to_ndarray().astype(int)  # as a player shows it
    assert _grade(identity, src, dst, capsys, caplog) == []
    with av.open(str(dst)) as c:
        f = next(c.decode(video=0))
        assert f.colorspace == cs
        graded = f.reformat(format="rgb24", src_colorspace=f.colorspace).to_ndarray().astype(int)
    assert np.abs(graded - shown)[8:-8, 8:-8].mean((0, 1)).max() < 2


def test_an_avi_s_stereo_pcm_goes_into_an_mp4(ffmpeg, tmp_path, look_file, capsys, caplog):
    # an AVI's PCM has no channel order ("2 channels"): the mp4 muxer refused it and the grading failed
    # ("failed: ArgumentError: ... returned 22")
    src, dst = tmp_path / "camera.avi", tmp_path / "out.mp4"
    _ffmpeg(ffmpeg, *CLIP, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=0.6", "-ac", 2, *H264,
            "-c:a", "pcm_s16le", src)
    said = _grade(look_file, src, dst, capsys, caplog)
    assert len(said) == 1 and "its PCM audio goes into the .mp4 as ISO PCM" in said[0]

    def sound(path):
        with av.open(str(path)) as c:
            return np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)

    assert np.array_equal(sound(src), sound(dst))
