"""--ray: the same batch on a local Ray cluster gives byte-identical outputs to the local run."""

import time

import numpy as np
import pytest
from PIL import Image

import livefilter as lf

from .conftest import decode_all, make_clip, read_code, ts_with_a_lost_packet

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'livefilter[scale]'; the dev extra has it)")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_local_equals_local(tmp_path, look, cluster):
    from livefilter.live.sources import SyntheticSource

    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(5):
        Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(src / f"p{i}.png")
    synth = SyntheticSource((160, 120), fps=25)
    Image.fromarray(synth.frame_at(0)).save(src / "sub" / "face.jpg")
    make_clip(src / "long.mp4", frames=40, gop=5)  # 1.6 s: several chunks at 0.3 s
    make_clip(src / "sub" / "short.mkv", frames=8, audio=False)
    local, onray = tmp_path / "local", tmp_path / "ray"
    local.mkdir()
    onray.mkdir()
    kw = dict(recursive=True, chunk_seconds=0.3)
    r_local = lf.apply_folder(look, [src], local, workers=1, **kw)
    r_ray = lf.apply_folder(look, [src], onray, ray="local", **kw)
    assert [r.status for r in r_local] == ["ok"] * 8 and [r.status for r in r_ray] == ["ok"] * 8
    files = sorted(p.relative_to(local) for p in local.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(onray) for p in onray.rglob("*") if p.is_file()) and len(files) == 8
    for f in files:
        assert (local / f).read_bytes() == (onray / f).read_bytes(), f
    frames, _, _ = decode_all(onray / "long.mp4")
    assert [read_code(f) for f in frames] == list(range(40))


def test_grade_damaged_on_ray_equals_local(tmp_path, look, cluster, caplog):
    src, local, onray = tmp_path / "rec.ts", tmp_path / "local", tmp_path / "ray"
    local.mkdir()
    (onray / "sub").mkdir(parents=True)
    ts_with_a_lost_packet(src)  # 40 frames, 1.6 s: the damaged frame in one of the 0.3 s chunks
    kw = dict(chunk_seconds=0.3, grade_damaged=True)
    assert [r.status for r in lf.apply_folder(look, [src], local, workers=1, **kw)] == ["ok"]
    assert [r.status for r in lf.apply_folder(look, [src], onray, ray="local", **kw)] == ["ok"]
    assert (local / "rec.ts").read_bytes() == (onray / "rec.ts").read_bytes()
    assert len(decode_all(onray / "rec.ts")[0]) == 40  # a transport stream that plays
    failed = lf.apply_folder(look, [src], onray / "sub", ray="local", chunk_seconds=0.3)  # by default: it fails
    assert [r.status for r in failed] == ["failed"] and "corrupt video data" in failed[0].message
    assert "--grade-damaged" in failed[0].message  # the way out, as in the local run
    caplog.clear()  # graded whole on a worker: its warning comes back to the driver
    whole = lf.apply_folder(look, [src], onray / "sub", ray="local", chunk_seconds=30, grade_damaged=True)
    assert [r.status for r in whole] == ["ok"]
    assert any("1 damaged frame graded" in m.getMessage() for m in caplog.records), caplog.records


def test_a_file_cut_short_names_the_same_end_on_ray(tmp_path, look, cluster):
    # on Ray the end was the packets' span scaled by the frames decoded; the local run names the last frame's time
    from .test_bad_input import faststart_clip

    src = tmp_path / "cut.mp4"
    faststart_clip(src)
    src.write_bytes(src.read_bytes()[: int(src.stat().st_size * 0.6)])
    (tmp_path / "local").mkdir()
    (tmp_path / "ray").mkdir()
    local = lf.apply_folder(look, [src], tmp_path / "local", workers=1, chunk_seconds=0.3)
    onray = lf.apply_folder(look, [src], tmp_path / "ray", ray="local", chunk_seconds=0.3)
    assert [r.status for r in local] == [r.status for r in onray] == ["failed"]
    ends = [r.message.split("ends near ")[1][:12] for r in (*local, *onray)]
    assert ends[0] == ends[1], (local[0].message, onray[0].message)


def test_what_an_output_cannot_keep_is_said_on_ray_too(ffmpeg, tmp_path, look, cluster, caplog):
    # a worker's warnings are not shown (log_to_driver off): the driver says them
    import subprocess

    src, vtt, out = tmp_path / "hdr.webm", tmp_path / "s.vtt", tmp_path / "out"
    out.mkdir()
    vtt.write_text("WEBVTT\n\n00:00:00.000 --> 00:00:00.300\nhello\n")
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:duration=0.4", "-i", vtt,
                    "-c:v", "libvpx-vp9", "-color_trc", "smpte2084", "-c:s", "webvtt", src], check=True,
                   capture_output=True)
    r = lf.apply_folder(look, [src], out, ray="local", chunk_seconds=30)  # one chunk: graded whole on a worker
    assert [x.status for x in r] == ["ok"] and (out / "hdr.mp4").is_file()
    said = [m.getMessage() for m in caplog.records if m.levelno >= 30]
    assert any("an HDR video (PQ)" in m for m in said), said
    assert any("(subtitle webvtt) cannot be stored in .mp4" in m for m in said), said


def test_a_stopped_run_on_ray_ends_like_the_local_run(tmp_path, look, cluster):
    import threading
    import time

    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    make_clip(src / "long.mp4", frames=600, size=(160, 120), gop=30, audio=False)  # ~1.7 s to grade, whole
    for i in range(3):
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(src / f"p{i}.png")
    stop = threading.Event()

    def stop_once_the_video_is_under_way():  # (Ctrl+C, as the CLI's handler sets it)
        while not stop.is_set():
            if any(p.name.startswith(".long.") for p in out.iterdir()):
                stop.set()
            time.sleep(0.02)

    threading.Thread(target=stop_once_the_video_is_under_way, daemon=True).start()
    results = lf.apply_folder(look, [src], out, ray="local", keep_partial=True, stop=stop)
    stop.set()
    # the video ends as in the local run, what it graded kept (it ran to the end, or to a second Ctrl+C); a photo
    # not started is not graded
    by = {r.job.src.name: r for r in results}
    assert (by["long.mp4"].status, by["long.mp4"].message) == ("interrupted", "interrupted (kept)")
    codes = [read_code(f) for f in decode_all(out / "long.partial.mp4")[0]]
    assert 0 < len(codes) < 600 and codes == list(range(len(codes)))
    assert all(by[f"p{i}.png"].status == ("ok" if (out / f"p{i}.png").exists() else "interrupted") for i in range(3))
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left
    already = threading.Event()
    already.set()  # stopped before it starts: nothing is graded
    (tmp_path / "none").mkdir()
    results = lf.apply_folder(look, [src], tmp_path / "none", ray="local", stop=already)
    assert {(r.status, r.message) for r in results} == {("interrupted", "not started")}
    assert not list((tmp_path / "none").iterdir())


def test_a_video_in_chunks_stopped_keeps_its_chunks_up_to_the_cut_with_keep_partial(tmp_path, look, monkeypatch):
    # --keep-partial kept nothing of a video graded in chunks on Ray (the local run keeps what it graded)
    import itertools

    from livefilter.batch import ray_runner
    from livefilter.batch.video import GradeOptions, partial_path
    from livefilter.media.codec import EncodeSettings
    from livefilter.media.probe import probe

    make_clip(tmp_path / "long.mp4", frames=40, gop=5)
    info = probe(tmp_path / "long.mp4", 0.3)
    assert info.chunks >= 4
    gopts = GradeOptions(False, 1.0, "trilinear", 2, EncodeSettings(threads=1))
    real = ray_runner.decode

    def stopped_in_chunk_1(info, start, end, **kw):  # chunk 1 stopped after 2 of its frames
        frames = real(info, start, end, **kw)
        return itertools.islice(frames, 2) if start == info.chunk_range(1)[0] else frames

    monkeypatch.setattr(ray_runner, "decode", stopped_in_chunk_1)
    # the chunks graded here, not on Ray (the same code); chunk 2 and on graded whole meanwhile
    chunks = [ray_runner._grade_chunk(look, info, i, gopts) for i in range(info.chunks)]
    n = ray_runner._join(info, tmp_path / "out.mp4", chunks, gopts.settings, partial=True)
    assert n == info.chunk_frames[0] + 2 and not (tmp_path / "out.mp4").exists()
    codes = [read_code(f) for f in decode_all(partial_path(tmp_path / "out.mp4"))[0]]
    assert codes == list(range(n))  # the start, in order, nothing after the cut
    assert ray_runner._join(info, tmp_path / "none.mp4", [([], [])] * info.chunks, gopts.settings, partial=True) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mp4", "out.partial.mp4"]  # no temporary file


def test_cli_ray_flag(tmp_path, look_file, cluster, capsys):
    from livefilter.cli import main

    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(src / f"p{i}.png")
    (src / "bad.png").write_bytes(b"nope")
    code = main(["apply", str(look_file), str(src), "--out-dir", str(out), "--ray"])
    stdout, err = capsys.readouterr()
    assert code == 1 and "3 graded, 1 failed of 4 files" in stdout
    assert [ln for ln in err.splitlines() if ln.startswith("livefilter: error:")][0].count("bad.png") == 1
    assert sorted(p.name for p in out.iterdir()) == ["p0.png", "p1.png", "p2.png"]


# SIGTERM to the process (kill PID): ray.init's own handler exited at once; SIGHUP to the process group (the
# terminal closed): it killed the local cluster's servers too, and the run hung a minute and failed
@pytest.mark.parametrize("sig, group", [("SIGTERM", False), ("SIGHUP", True)])
def test_cli_ray_local_prints_only_its_own_lines_and_stops_on_a_signal(tmp_path, look_file, sig, group):
    import os
    import signal
    import subprocess
    import sys
    import time

    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    for i in range(2):
        Image.fromarray(np.full((8, 8, 3), 60 * i, np.uint8)).save(src / f"p{i}.png")
    make_clip(src / "long.mp4", frames=600, size=(160, 120), gop=30, audio=False)
    p = subprocess.Popen([sys.executable, "-m", "livefilter", "apply", str(look_file), str(src), "--out-dir", str(out),
                          "--ray", "local"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        end = time.monotonic() + 120
        while not any(f.name.startswith(".long.") for f in out.iterdir()) and time.monotonic() < end:
            time.sleep(0.02)
        signum = getattr(signal, sig)
        os.killpg(p.pid, signum) if group else p.send_signal(signum)  # once the video is under way
        stdout, err = p.communicate(timeout=50)  # (the cluster's servers killed: a minute, then exit 1)
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)  # whatever is left of it
        except ProcessLookupError:
            pass
    assert err.strip() == "", err  # Ray's set-up, progress and C++ lines only with -v
    assert p.returncode == 128 + signum and f"stopped ({sig})" in stdout, stdout
    assert "not finished (stopped)" in stdout and " 0 failed" in stdout, stdout
    assert not [f.name for f in out.iterdir() if f.name.startswith(".") or f.name.startswith("long")]


def _until_stopped(flag) -> str:
    from livefilter.batch.ray_runner import RemoteStop

    stop = RemoteStop(flag, every=0.05)
    end = time.monotonic() + 60
    while not stop.is_set() and time.monotonic() < end:
        time.sleep(0.01)
    return "stopped" if stop.is_set() else "never told"


def test_an_interrupted_run_stops_its_workers_before_it_ends(cluster):
    # a second Ctrl+C went straight to Ray's shutdown, which killed a video's worker mid-write: its hidden temporary
    # file stayed
    import threading

    from livefilter.batch.ray_runner import _stop_passed_on

    started = []
    with pytest.raises(KeyboardInterrupt), _stop_passed_on(ray, threading.Event(), started) as flag:
        started.append(ray.remote(_until_stopped).remote(flag))
        time.sleep(1)  # under way
        raise KeyboardInterrupt
    ready, _ = ray.wait(started, timeout=0)
    assert ready and ray.get(ready[0]) == "stopped"  # told, and ended before the interrupt went on


def test_ray_addresses_that_do_not_connect_are_one_line_each():
    from livefilter.batch.ray_runner import _join_cluster
    from livefilter.errors import InputError

    class Ray:
        def __init__(self, exc):
            self.exc = exc

        def init(self, **kw):
            raise self.exc

    no_cluster = ConnectionError("Could not find any running Ray instance. Please specify ... `--address` flag")
    with pytest.raises(InputError, match=r"^--ray auto: no running Ray cluster found \(`ray start --head`"):
        _join_cluster(Ray(no_cluster), "auto", {})
    with pytest.raises(InputError, match="^--ray 10.0.0.9:6379: cannot reach the Ray cluster"):
        _join_cluster(Ray(ConnectionError("GCS unreachable")), "10.0.0.9:6379", {})
    client = ValueError("Ray Client requires pip package `ray[client]`. If you installed the minimal Ray ...")
    with pytest.raises(InputError, match=r"^--ray ray://h:10001: a ray:// address needs Ray's client: pip install"):
        _join_cluster(Ray(client), "ray://h:10001", {})
    with pytest.raises(InputError, match="^--ray x: not a Ray address"):
        _join_cluster(Ray(ValueError("Invalid address format")), "x", {})


def test_a_cluster_livefilter_starts_sends_no_usage_statistics(monkeypatch):
    # Ray's usage statistics are on by default (a local cluster's head reports to usage-stats.ray.io): off unless
    # the user chose, as README's privacy line says nothing is sent
    import os

    from livefilter.batch import ray_runner

    seen = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: seen.append(os.environ.get("RAY_USAGE_STATS_ENABLED")))
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "unset below")  # restored (to unset) after the test
    monkeypatch.delenv("RAY_USAGE_STATS_ENABLED")
    ray_runner.connect("local")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "1")  # the user's own choice stays
    ray_runner.connect("local")
    assert seen == ["0", "1"]
