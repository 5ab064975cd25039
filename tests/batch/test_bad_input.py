"""Bad video input: one line naming the file and the problem, the right exit code, nothing corrupt left behind."""

import errno
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from livefilter.cli import main
from livefilter.media.probe import timestamp

from ..conftest import ROOT, small_tmpfs
from .conftest import (
    corrupt_ts,
    decode_all,
    make_clip,
    read_code,
    trimmed_mp4,
    ts_from_its_middle,
    ts_with_a_lost_packet,
)


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err, *words):
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("livefilter: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def faststart_clip(path, frames=40):
    """An mp4 with its index first (as streaming sites write them), so a truncated copy still opens."""
    tmp = path.with_suffix(".plain.mp4")
    make_clip(tmp, frames=frames)
    with av.open(str(tmp)) as src, av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        m = {s.index: out.add_stream_from_template(s) for s in src.streams}
        for p in src.demux():
            if p.dts is not None:
                p.stream = m[p.stream.index]
                out.mux(p)
    tmp.unlink()


def test_truncated_video_grades_what_decodes(tmp_path, look_file, capsys):
    src = tmp_path / "cut.mp4"
    faststart_clip(src)
    data = src.read_bytes()
    src.write_bytes(data[: int(len(data) * 0.6)])
    code, _, err = run(["apply", look_file, src, "-o", tmp_path / "out.mp4"], capsys)
    assert code == 1
    one_error_line(err, "cut.mp4", "00:00:0")  # names the file and where the data ends
    assert "frames graded)" in err and "nothing written (--keep-partial keeps the " in err  # and how to keep them
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4"]  # partial output removed, no temp file
    (tmp_path / "out.mp4").write_bytes(b"a complete output of an earlier run")
    code, _, err = run(["apply", look_file, src, "-o", tmp_path / "out.mp4", "--keep-partial"], capsys)
    assert code == 1 and "kept" in err and "out.partial.mp4" in err
    # the part beside the output, never over it (it replaced a complete file, and --skip-existing took it as done)
    assert (tmp_path / "out.mp4").read_bytes() == b"a complete output of an earlier run"
    frames, times, _ = decode_all(tmp_path / "out.partial.mp4")
    assert 0 < len(frames) < 40 and [read_code(f) for f in frames] == list(range(len(frames)))
    # the end it names is where the kept frames end (it was named at about half that: the frames the index lists
    # past the data were counted in)
    named = re.search(r"ends near (\d+):(\d+):([\d.]+)", err).groups()
    seconds = int(named[0]) * 3600 + int(named[1]) * 60 + float(named[2])
    assert abs(seconds - times[-1]) <= 2 / 25, (seconds, times[-1])


@pytest.mark.parametrize("ext", [".mkv", ".mxf"])
def test_a_cut_short_file_whose_index_tells_nothing_is_said(ffmpeg, tmp_path, look_file, capsys, caplog, ext):
    # an MXF or a Matroska file cut short (a copy stopped, a recording killed) was graded to where it ends without a
    # word: its header's declared length is all there is to tell
    whole = tmp_path / f"whole{ext}"  # its audio longer than its video, and (Matroska) its clock starting at 2 s:
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=3",  # no alarm
                    "-f", "lavfi", "-i", "sine=sample_rate=48000:duration=3.8", "-c:v",
                    "mpeg2video" if ext == ".mxf" else "libx264", "-c:a", "pcm_s16le",
                    *(["-output_ts_offset", "2"] if ext == ".mkv" else []), str(whole)], check=True)
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])
    for src, said in ((whole, False), (cut, True)):
        caplog.clear()
        code, _, err = run(["apply", look_file, src, "-o", tmp_path / f"out_{src.stem}.mp4"], capsys)
        lines = [r.getMessage() for r in caplog.records if "seems cut short" in r.getMessage()]
        assert code == 0 and len(lines) == int(said), (src, lines, err)
    assert re.search(r"cut\.m\w\w: its data ends near 00:00:0\d\.\d+, its header declares 00:00:0[35]\.0", lines[0])
    caplog.clear()
    assert main(["fit", str(cut), "-o", str(tmp_path / "l.cube")]) == 0
    assert any("seems cut short (its stills taken up to where it ends)" in r.getMessage() for r in caplog.records)


def test_corrupt_video_data(tmp_path, look_file, capsys):
    src = tmp_path / "bad.mp4"
    make_clip(src, frames=60)
    d = bytearray(src.read_bytes())
    start = d.find(b"mdat") + len(d) // 3
    d[start:start + 3000] = os.urandom(3000)
    src.write_bytes(bytes(d))
    code, _, err = run(["apply", look_file, src, "-o", tmp_path / "out.mp4"], capsys)
    assert code == 1
    one_error_line(err, "bad.mp4", "corrupt", "00:00:")
    assert not (tmp_path / "out.mp4").exists() and len(list(tmp_path.iterdir())) == 1


def test_a_packet_flagged_damaged_is_said_and_the_video_graded(tmp_path, look_file, capsys, caplog):
    corrupt_ts(tmp_path / "bad.ts")  # no index: only the demuxer's flag says a packet was damaged
    code, _, err = run(["apply", look_file, tmp_path / "bad.ts", "-o", tmp_path / "out.mp4"], capsys)
    assert code == 0, err
    said = [r.getMessage() for r in caplog.records if "bad.ts" in r.getMessage()]
    assert len(said) == 1 and "damaged video data at 00:00:0" in said[0], said
    frames, _, _ = decode_all(tmp_path / "out.mp4")
    assert len(frames) == len(decode_all(tmp_path / "bad.ts")[0])  # every frame the decoder gives


def test_grade_damaged_grades_through_a_damaged_frame_as_players_do(tmp_path, look_file, capsys, caplog):
    src, out = tmp_path / "rec.ts", tmp_path / "out.mp4"
    at = ts_with_a_lost_packet(src)
    code, _, err = run(["apply", look_file, src, "-o", out], capsys)  # by default it stops there, and says how not to
    assert code == 1
    one_error_line(err, "rec.ts", "corrupt video data at 00:00:0", "--grade-damaged")
    assert not out.exists()
    caplog.clear()
    code, _, err = run(["apply", look_file, src, "-o", out, "--grade-damaged"], capsys)
    assert code == 0, err
    said = [r.getMessage() for r in caplog.records if "damaged frame" in r.getMessage()]
    assert said == [f"{src}: 1 damaged frame graded as the decoder conceals it, as players show it (the first at "
                    f"{timestamp(at / 25)})"], said
    frames, _, _ = decode_all(out)
    assert len(frames) == 40
    assert [read_code(f) for i, f in enumerate(frames) if i < at] == list(range(at))  # in order, none dropped


def test_two_joined_transport_streams_grade_whole(tmp_path, look_file, capsys):
    make_clip(tmp_path / "a.ts", frames=20, audio=False)
    (tmp_path / "ab.ts").write_bytes((tmp_path / "a.ts").read_bytes() * 2)  # `cat a.ts b.ts > ab.ts`
    code, _, err = run(["apply", look_file, tmp_path / "ab.ts", "-o", tmp_path / "out.mp4"], capsys)
    assert code == 0, err
    assert len(decode_all(tmp_path / "out.mp4")[0]) == 40


def test_frames_no_decoder_gives_are_not_missing(tmp_path, look_file, capsys, caplog):
    # an edit list's hidden frames, a stream's packets before its first keyframe: the file is whole (ffmpeg agrees)
    trimmed_mp4(tmp_path / "cut.mp4", frames=20, hidden=2)
    late = ts_from_its_middle(tmp_path / "late.ts")
    for name, want in (("cut.mp4", 18), ("late.ts", late)):
        code, _, err = run(["apply", look_file, tmp_path / name, "-o", tmp_path / f"out_{name}.mp4"], capsys)
        assert code == 0, err
        assert len(decode_all(tmp_path / f"out_{name}.mp4")[0]) == want
    assert not [r for r in caplog.records if r.levelno >= 30], caplog.records


def test_no_video_stream(tmp_path, look_file, capsys):
    src = tmp_path / "audio.mp4"
    with av.open(str(src), "w") as out:
        a = out.add_stream("aac", rate=48000)
        import numpy as np

        for k in range(10):
            fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            fr.sample_rate, fr.pts = 48000, k * 1024
            for p in a.encode(fr):
                out.mux(p)
        for p in a.encode(None):
            out.mux(p)
    code, _, err = run(["apply", look_file, src, "-o", tmp_path / "out.mp4"], capsys)
    assert code == 2
    one_error_line(err, "audio.mp4", "no video stream")
    assert not (tmp_path / "out.mp4").exists()


def test_unknown_codec(tmp_path, look_file, capsys):
    src = tmp_path / "odd.mp4"
    make_clip(src, frames=5, audio=False)
    d = src.read_bytes()
    k = d.rfind(b"avc1")  # the sample entry in stsd (the first one is a brand in ftyp)
    assert k > d.find(b"stsd") > 0
    src.write_bytes(d[:k] + b"zzz9" + d[k + 4:])  # a sample entry no decoder knows
    code, _, err = run(["apply", look_file, src, "-o", tmp_path / "out.mp4"], capsys)
    assert code == 2
    one_error_line(err, "odd.mp4", "codec")
    assert not (tmp_path / "out.mp4").exists()


def test_not_a_video(tmp_path, look_file, capsys):
    src = tmp_path / "text.mp4"
    src.write_text("hello")
    code, _, err = run(["apply", look_file, src, "-o", tmp_path / "out.mp4"], capsys)
    assert code == 2
    one_error_line(err, f"{src}: cannot open as a video")  # the path as given, as every other error names it


def test_output_equal_to_input_refused(tmp_path, look_file, capsys):
    src = tmp_path / "in.mp4"
    make_clip(src, frames=5, audio=False)
    before = src.read_bytes()
    code, _, err = run(["apply", look_file, src, "-o", src], capsys)
    assert code == 2
    one_error_line(err, "same as an input")
    code, _, err = run(["apply", look_file, src, "--out-dir", tmp_path], capsys)
    assert code == 2
    code, _, err = run(["live", "--template", look_file, "--input", src, "--record", src], capsys)
    assert code == 2
    one_error_line(err, "same as an input")
    assert src.read_bytes() == before and len(list(tmp_path.iterdir())) == 1


def test_disk_full_simulated(tmp_path, look_file, capsys, monkeypatch):
    from livefilter.batch import video

    src = tmp_path / "in.mp4"
    make_clip(src, frames=20)
    real = video.Muxer.write
    calls = []

    def write(self, packet):
        calls.append(1)
        if len(calls) > 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, packet)

    monkeypatch.setattr(video.Muxer, "write", write)
    code, _, err = run(["apply", look_file, src, "-o", tmp_path / "out.mp4"], capsys)
    assert code == 2
    one_error_line(err, "out.mp4", "No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_disk_full_on_a_small_tmpfs(tmp_path, look_file, capsys):
    with small_tmpfs(tmp_path / "small", "24k") as mnt:
        src = tmp_path / "in.mp4"
        make_clip(src, frames=60, size=(160, 96))
        assert src.stat().st_size > 40_000
        code, _, err = run(["apply", look_file, src, "-o", mnt / "out.mp4"], capsys)
        assert code in (1, 2)
        one_error_line(err, "out.mp4")
        assert list(mnt.iterdir()) == []  # nothing under the final name, the temporary file removed


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)],
                         ids=["SIGTERM", "SIGINT", "SIGHUP"])
@pytest.mark.parametrize("keep", [False, True])
def test_stopped_mid_video(tmp_path, look_file, sig, code, keep):
    src = tmp_path / "long.mp4"
    make_clip(src, frames=500, size=(320, 240))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "livefilter", "apply", str(look_file), str(src), "-o", str(out_dir / "g.mp4"),
           "--preset", "slow"] + (["--keep-partial"] if keep else [])
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and p.poll() is None:  # wait until the graded file is being written
        tmp = [f for f in out_dir.iterdir() if f.name.startswith(".g.")]
        if tmp and tmp[0].stat().st_size > 0:
            break
        time.sleep(0.02)
    time.sleep(0.3)
    assert p.poll() is None, p.communicate()
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    assert p.returncode == code, (out, err)
    assert "Traceback" not in err
    names = sorted(f.name for f in out_dir.iterdir())
    if keep:
        assert names == ["g.partial.mp4"] and "kept the" in out and "g.partial.mp4" in out
        frames, _, _ = decode_all(out_dir / "g.partial.mp4")  # playable, every frame up to the stop, in order
        assert 0 < len(frames) < 500 and [read_code(f) for f in frames] == list(range(len(frames)))
    else:
        assert names == []


def test_a_folder_summary_names_the_parts_kept(tmp_path):
    """--keep-partial in a folder: the summary says where the parts are (it said only "not finished")."""
    from livefilter.batch.folders import summary
    from livefilter.batch.jobs import Job, Result

    jobs = [Job(tmp_path / f"v{i}.mp4", tmp_path / "out" / f"v{i}.mp4", "video") for i in range(3)]
    results = [Result(jobs[0], "ok"), Result(jobs[1], "interrupted", "interrupted (kept)", frames=9),
               Result(jobs[2], "interrupted", "not started")]
    assert summary(results) == "1 graded, 0 failed, 2 not finished (stopped; 1 part kept: v1.partial.mp4) of 3 files"


def test_a_name_near_the_length_limit_is_written(tmp_path, look_file, capsys):
    """A file name of 246-255 bytes could not be written: its temporary name (".NAME.XXXXXXXX.EXT") was too long."""
    from livefilter.fileio import NAME_MAX

    src = tmp_path / "in.mp4"
    make_clip(src, frames=3, size=(64, 48))
    for ext in (".jpg", ".mp4"):
        name = "é" * ((NAME_MAX - len(ext)) // 2) + "a" * ((NAME_MAX - len(ext)) % 2) + ext  # 255 bytes in UTF-8
        assert len(name.encode()) == NAME_MAX
        given = ROOT / "livefilter" / "data" / "sample_test.jpg" if ext == ".jpg" else src
        code, _, err = run(["apply", look_file, given, "-o", tmp_path / name, "--no-face-protect"], capsys)
        assert code == 0, err
        assert (tmp_path / name).stat().st_size > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="finds the workers in /proc (Linux)")
def test_ctrl_c_while_the_workers_start_is_a_quiet_stop(tmp_path, look_file):
    """Ctrl+C in a folder run's first second (the worker processes still importing) printed a KeyboardInterrupt
    traceback per worker and failed every file as "a worker process ended": the workers now start with it
    ignored, and the files are not finished, not failed."""
    (tmp_path / "in").mkdir()
    for name in ("a.mp4", "b.mp4"):
        make_clip(tmp_path / "in" / name, frames=60, size=(160, 120))
    (tmp_path / "out").mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-m", "livefilter", "apply", str(look_file), str(tmp_path / "in"),
                          "--out-dir", str(tmp_path / "out"), "-j", "2", "--no-face-protect"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60  # until the workers are being started (the parent has read the look)
    while time.monotonic() < deadline and p.poll() is None and not _workers(p.pid):
        time.sleep(0.005)
    os.killpg(p.pid, signal.SIGINT)  # as the terminal sends it: to the whole process group
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "worker process ended" not in err, err
    assert "0 failed" in out and "not finished (stopped)" in out, out
    assert list((tmp_path / "out").iterdir()) == []


def _workers(pid: int) -> list[int]:
    """The spawned worker processes of ``pid`` (Linux /proc)."""
    out = []
    for d in Path("/proc").glob("[0-9]*"):
        try:
            if (int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid
                    and b"spawn_main" in (d / "cmdline").read_bytes()):
                out.append(int(d.name))
        except (OSError, ValueError, IndexError):
            pass
    return out


def test_keep_partial_never_keeps_its_part_over_an_input(tmp_path, look_file, capsys):
    src = tmp_path / "take.partial.mp4"  # the part of take.mp4 would be the input itself
    make_clip(src, frames=3, size=(64, 48))
    before = src.read_bytes()
    code, _, err = run(["apply", look_file, src, "-o", tmp_path / "take.mp4", "--keep-partial"], capsys)
    assert code == 2 and "--keep-partial would keep a part as take.partial.mp4, an input" in err, err
    assert src.read_bytes() == before and not (tmp_path / "take.mp4").exists()
