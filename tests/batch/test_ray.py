"""--ray: the same batch on a local Ray cluster gives byte-identical outputs to the local run."""

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


def test_cli_ray_local_prints_only_its_own_lines(tmp_path, look_file):
    import subprocess
    import sys

    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    for i in range(2):
        Image.fromarray(np.full((8, 8, 3), 60 * i, np.uint8)).save(src / f"p{i}.png")
    r = subprocess.run([sys.executable, "-m", "livefilter", "apply", str(look_file), str(src), "--out-dir", str(out),
                        "--ray", "local"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", r.stderr  # Ray's set-up, progress and C++ lines only with -v
    assert "2 graded, 0 failed of 2 files" in r.stdout
