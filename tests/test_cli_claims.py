"""README's command-line promises that need a real process or a live run: LIVEFILTER_DEBUG, Ctrl+C during
`live`, `--template FOLDER`, `--loop`, `--duration`."""

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import livefilter.cli as cli
from livefilter.cli import main
from livefilter.errors import LiveFilterError
from livefilter.imageio import write_image
from livefilter.live.sinks import VideoFileSink
from livefilter.live.sources import SyntheticSource, VideoFileSource

from .conftest import DATA
from .test_cli import assert_bad_input, run

LIVE = ["--size", "320x180", "--backend", "cpu", "--no-face-protect"]


def _frames(path):
    v = VideoFileSource(path)
    frames = []
    try:
        while (f := v.read()) is not None:
            frames.append(f)
        return frames
    finally:
        v.close()


def test_errors_are_one_line_and_livefilter_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    missing = tmp_path / "missing.cube"
    monkeypatch.delenv("LIVEFILTER_DEBUG", raising=False)
    code, _, err = run(["info", missing], capsys)
    assert_bad_input(code, err, "missing.cube")
    monkeypatch.setenv("LIVEFILTER_DEBUG", "1")
    with pytest.raises(LiveFilterError, match="missing.cube"):  # raised, so Python prints the traceback
        main(["info", str(missing)])

    def boom(args):
        raise RuntimeError("unexpected")

    monkeypatch.setitem(cli.COMMANDS, "info", boom)
    with pytest.raises(RuntimeError, match="unexpected"):
        main(["info", str(missing)])
    monkeypatch.delenv("LIVEFILTER_DEBUG")
    code, _, err = run(["info", missing], capsys)
    assert code == 1 and err.strip() == (
        "livefilter: failed: RuntimeError: unexpected (LIVEFILTER_DEBUG=1 shows the traceback)")


def test_livefilter_debug_in_a_real_process_prints_the_traceback(tmp_path):
    env = dict(os.environ, LIVEFILTER_DEBUG="1")
    res = subprocess.run([sys.executable, "-m", "livefilter", "info", str(tmp_path / "missing.cube")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 1 and "Traceback (most recent call last)" in res.stderr
    assert "missing.cube" in res.stderr.strip().splitlines()[-1]


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT, a POSIX signal")
def test_ctrl_c_stops_live_cleanly_and_finalises_the_recording(tmp_path):
    rec = tmp_path / "rec.mp4"
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "livefilter", "live", "--template", str(DATA / "tiny_2.cube"), "--synthetic",
         "--record", str(rec), *LIVE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while not any("Ctrl+C to stop" in line for line in lines):
            assert proc.poll() is None and time.monotonic() < deadline, (lines, proc.stderr.read())
            time.sleep(0.05)
        time.sleep(1.0)  # some frames into the recording
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    err = proc.stderr.read()
    out = "".join(lines)
    assert code == 0, err
    assert "stopped" in out and "Traceback" not in err
    n = int(next(line for line in out.splitlines() if " fps" in line).split()[0])  # "N frames, F fps"
    assert n > 0
    assert len(_frames(rec)) == n  # the mp4 was finalised with every rendered frame
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.mp4"]  # no temporary file left


def test_template_folder_uses_its_first_look_and_empty_folder_is_refused(tmp_path, capsys):
    looks = tmp_path / "looks"
    looks.mkdir()
    (looks / "a_swap.cube").write_text((DATA / "tiny_2.cube").read_text())  # swaps red and blue
    (looks / "b_identity.cube").write_text("LUT_3D_SIZE 2\n" + "".join(
        f"{r} {g} {b}\n" for b in (0, 1) for g in (0, 1) for r in (0, 1)))
    (looks / "notes.txt").write_text("not a look")
    # a still image as the input: every frame is the same picture, so what was graded does not depend on how far a
    # paced clip ran ahead while the machine was busy
    still = SyntheticSource((320, 180), fps=30.0).frame_at(0)
    write_image(tmp_path / "still.png", still)
    code, out, err = run(["live", "--template", looks, "--input", tmp_path / "still.png", "--record",
                          tmp_path / "rec.mp4", "--frames", 6, *LIVE], capsys)
    assert code == 0, err
    assert "look: swap red blue" in out  # tiny_2.cube's TITLE
    frames = _frames(tmp_path / "rec.mp4")
    swapped = [np.abs(f.astype(int) - still[..., ::-1]).mean() for f in frames]
    plain = [np.abs(f.astype(int) - still).mean() for f in frames]
    assert len(frames) == 6 and max(swapped) < 0.2 * min(plain)
    (tmp_path / "empty").mkdir()
    code, _, err = run(["live", "--template", tmp_path / "empty", "--synthetic", "--record", tmp_path / "x.mp4"],
                       capsys)
    assert_bad_input(code, err, "has no look files")
    assert not (tmp_path / "x.mp4").exists()


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "clip.mp4"
    sink = VideoFileSink(path, fps=30)
    src = SyntheticSource((320, 180), frames=6)
    for _ in range(6):
        sink.send(src.read())
    sink.close()
    return path


def test_loop_replays_the_input_video(tmp_path, capsys, clip):
    code, out, err = run(["live", "--template", DATA / "tiny_2.cube", "--input", clip, "--loop", "--frames", 15,
                          "--record", tmp_path / "looped.mp4", *LIVE], capsys)
    assert code == 0, err
    assert "15 frames" in out and len(_frames(tmp_path / "looped.mp4")) == 15
    code, out, err = run(["live", "--template", DATA / "tiny_2.cube", "--input", clip, "--frames", 15,
                          "--record", tmp_path / "once.mp4", *LIVE], capsys)
    assert code == 0, err
    n = int(out.strip().splitlines()[-1].split()[0])
    assert 1 <= n <= 6 and len(_frames(tmp_path / "once.mp4")) == n  # without --loop the 6-frame clip ends


def test_duration_stops_the_live_run(tmp_path, capsys):
    t = time.monotonic()
    code, out, err = run(["live", "--template", DATA / "tiny_2.cube", "--synthetic", "--fps", 30, "--duration", 1.0,
                          "--frames", 600, "--record", tmp_path / "rec.mp4", *LIVE], capsys)
    elapsed = time.monotonic() - t
    assert code == 0, err
    n = int(out.strip().splitlines()[-1].split()[0])
    # a source paced at 30 fps gives at most ~31 frames in 1 s; without --duration the run would go to 600
    assert 1 <= n <= 36 and elapsed >= 1.0
