"""Holes found by trying livefilter as a new user (a fresh venv, README's commands, then the CLI on photos, videos
and live files, then bad inputs): each held by a test. Video and signal cases live beside their kin in
tests/batch/test_bad_input.py and tests/test_cli_defects.py."""

from __future__ import annotations

import errno
import importlib.util
import logging
import os
from pathlib import Path

import numpy as np
import pytest

from livefilter.cli import main
from livefilter.imageio import write_image

from .conftest import DATA, SAMPLES, small_tmpfs
from .test_cli_defects import cli, leftovers, one_error_line


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def small_photo(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "in" / "photo.jpg"
    path.parent.mkdir()
    write_image(path, rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    return path


# fit --samples has an upper bound --------------------------------------------------------------------------------

def test_fit_samples_over_the_maximum_is_one_line_before_anything_runs(tmp_path, capsys, monkeypatch):
    import livefilter.cli as cli_module
    from livefilter.look.sampling import MAX_SAMPLES

    monkeypatch.setattr(cli_module, "COMMANDS", {name: (lambda args: 99) for name in cli_module.COMMANDS})
    code, _, err = run(["fit", "a.jpg", "-o", tmp_path / "x.cube", "--samples", 100_000_000], capsys)
    assert code == 2
    one_error_line(err, "--samples", f"{MAX_SAMPLES}")
    code, _, err = run(["fit", "a.jpg", "-o", tmp_path / "x.cube", "--samples", MAX_SAMPLES], capsys)
    assert code == 99, err  # the maximum itself is accepted


def test_fit_look_refuses_samples_over_the_maximum(sample_after):
    import livefilter as lf
    from livefilter.look.sampling import MAX_SAMPLES

    with pytest.raises(lf.InputError, match="at most"):
        lf.fit_look(sample_after, samples=MAX_SAMPLES + 1)


# --fps has bounds ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["live", "--template", "x.cube", "--synthetic", "--record", "o.mp4", "--fps", "100000"],
    ["live", "--template", "x.cube", "--synthetic", "--record", "o.mp4", "--fps", "0.001"],
    ["live", "--template", "x.cube", "--input", "still.jpg", "--record", "o.mp4", "--fps", "241"],
    ["bench-live", "--fps", "100000"],
])
def test_fps_out_of_range_is_one_line(argv, capsys, monkeypatch):
    import livefilter.cli as cli_module

    monkeypatch.setattr(cli_module, "COMMANDS", {name: (lambda args: 99) for name in cli_module.COMMANDS})
    code, _, err = run(argv, capsys)
    assert code == 2
    one_error_line(err, "--fps")


# one rule for output folders: the folder an output is written into must exist --------------------------------

def test_apply_o_refuses_a_missing_folder_like_every_other_output(tmp_path, small_photo, capsys):
    cube = DATA / "tiny_2.cube"
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, _, err = run(["apply", cube, small_photo, "-o", tmp_path / "new" / "deeper" / "out.jpg"], capsys)
    assert code == 2
    one_error_line(err, "output folder does not exist", "new")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # no folder made either


def test_output_mistakes_say_what_they_are(tmp_path, small_photo, capsys):
    """A folder for -o, a file for --out-dir, one file given twice, a bad Ray address: each said as it is (they read
    "unsupported output extension ''", "output folder does not exist", "a.jpg and a.jpg would write the same
    output", "failed: ValueError: Invalid address format")."""
    cube = DATA / "tiny_2.cube"
    (tmp_path / "afile").write_bytes(b"")
    (tmp_path / "adir").mkdir()
    for argv, said in (
            (["apply", cube, small_photo, "--out-dir", tmp_path / "afile"], "afile: is a file, not a folder"),
            (["fit", SAMPLES / "sample_after.jpg", "-o", tmp_path / "afile" / "x.cube"], "is a file, not a folder"),
            (["apply", cube, small_photo, "-o", tmp_path / "adir"], "adir: is a folder: -o takes a file name"),
            (["apply", cube, small_photo, small_photo, "--out-dir", tmp_path / "adir"], "given twice"),
            *([(["apply", cube, small_photo, "--out-dir", tmp_path / "adir", "--ray", "bogus"],
                "--ray bogus: not a Ray address")] if importlib.util.find_spec("ray") else [])):
        code, _, err = run(argv, capsys)
        assert code == 2, err
        one_error_line(err, said)
    assert list((tmp_path / "adir").iterdir()) == []


def test_live_and_bench_mistakes_are_said_before_anything_runs(tmp_path, capsys):
    """live --original with a look file read "not an image" of the .cube; bench-live --json into a missing folder was
    refused after the whole measurement; a .mkv recording was refused as "recordings are .mp4 files" though .mov
    and .m4v are written."""
    for argv, said in (
            (["live", "--template", DATA / "tiny_2.cube", "--original", SAMPLES / "sample_before.jpg", "--synthetic",
              "--frames", 2, "--record", tmp_path / "x.mp4"], "--original is the photo before the template's look"),
            (["bench-live", "--frames", 100000, "--json", tmp_path / "nodir" / "x.json"],
             "nodir: output folder does not exist"),
            (["live", "--template", DATA / "tiny_2.cube", "--synthetic", "--frames", 2, "--record", tmp_path / "x.mkv"],
             "recordings are .mp4, .m4v or .mov files")):
        code, _, err = run(argv, capsys)
        assert code == 2, err
        one_error_line(err, said)
    assert list(tmp_path.iterdir()) == []


def test_live_reads_a_template_over_100_mp_with_allow_large(tmp_path, capsys):
    """The size limit's error said "pass --allow-large", which live did not take."""
    from PIL import Image

    Image.new("RGB", (10050, 10050), (150, 110, 70)).save(tmp_path / "big.png")
    argv = ["live", "--template", tmp_path / "big.png", "--synthetic", "--frames", 2, "--frame-size", "64x48",
            "--record", tmp_path / "x.mp4", "--backend", "cpu", "--no-face-protect"]
    code, _, err = run(argv, capsys)
    assert code == 2 and "over the limit of 100,000,000 (100 megapixels;" in err, err
    code, _, err = run([*argv, "--allow-large"], capsys)
    assert code == 0, err
    assert (tmp_path / "x.mp4").is_file()


def test_a_sound_file_is_called_one(tmp_path, capsys):
    """A sound file as a template or an input read "not an image, or an image format that cannot be read"."""
    (tmp_path / "song.m4a").write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(64))
    for argv, said in ((["fit", tmp_path / "song.m4a", "-o", tmp_path / "x.cube"], "a sound file: no picture to read"),
                       (["apply", DATA / "tiny_2.cube", tmp_path / "song.m4a", "-o", tmp_path / "x.mp4"],
                        "a sound file: no picture to grade")):
        code, _, err = run(argv, capsys)
        assert code == 2, err
        one_error_line(err, "song.m4a", said)


@pytest.mark.parametrize("argv", [
    ["fit", SAMPLES / "sample_after.jpg", "-o", "{missing}/look.cube"],
    ["fit", SAMPLES / "sample_after.jpg", "-o", "look.cube", "--preview", "{missing}/sheet.png"],
    ["apply", DATA / "tiny_2.cube", SAMPLES / "sample_test.jpg", "-o", "{missing}/out.jpg"],
    ["apply", DATA / "tiny_2.cube", SAMPLES / "sample_test.jpg", "--out-dir", "{missing}"],
    ["live", "--template", DATA / "tiny_2.cube", "--synthetic", "--record", "{missing}/rec.mp4", "--frames", "2"],
    ["demo", "-o", "{missing}", "--frames", "2"],
    ["bench-live", "--frames", "2", "--json", "{missing}/bench.json"],
], ids=["fit", "fit --preview", "apply -o", "apply --out-dir", "live --record", "demo", "bench-live --json"])
def test_every_output_under_a_missing_folder_is_refused_in_one_line(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "nope" / "deeper"
    argv = [str(a).replace("{missing}", str(missing)) for a in argv]
    code, _, err = run(argv, capsys)
    assert code == 2, err
    one_error_line(err, "does not exist")
    assert not (tmp_path / "nope").exists() and leftovers(tmp_path) == []


# a full disk while writing an image or a .cube: exit 2, the file named -----------------------------------------

def test_disk_full_writing_an_image_names_it(tmp_path, small_photo, capsys, monkeypatch):
    from PIL import Image

    def full(self, fp, *args, **kwargs):  # a few bytes reach the file, then the disk is full
        Path(fp).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Image.Image, "save", full)
    out = tmp_path / "graded.jpg"
    code, _, err = run(["apply", DATA / "tiny_2.cube", small_photo, "-o", out], capsys)
    assert code == 2, err
    one_error_line(err, str(out), "No space left on device")
    assert not out.exists() and leftovers(tmp_path) == []


def test_disk_full_writing_a_cube_names_it(tmp_path, sample_after, sample_before, capsys, monkeypatch):
    def full(self, text, *args, **kwargs):
        self.write_bytes(text[:100].encode())
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full)
    out = tmp_path / "look.cube"
    code, _, err = run(["fit", sample_after, "--original", sample_before, "-o", out], capsys)
    assert code == 2, err
    one_error_line(err, str(out), "No space left on device")
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["graded.jpg", "look.cube"])
def test_disk_full_on_a_small_tmpfs_for_images_and_cubes(name, tmp_path, sample_after, sample_before, capsys):
    with small_tmpfs(tmp_path / "small", "8k") as mnt:
        if name == "look.cube":  # a 33^3 .cube is ~1 MB
            argv = ["fit", sample_after, "--original", sample_before, "-o", mnt / name]
        else:  # the sample photo is ~100 kB as JPEG
            argv = ["apply", DATA / "tiny_2.cube", sample_before, "-o", mnt / name, "--no-face-protect"]
        code, _, err = run(argv, capsys)
        assert code == 2, err
        one_error_line(err, name, "No space left on device")
        assert list(mnt.iterdir()) == []


@pytest.mark.parametrize("command", ["demo", "live"])
def test_a_recording_the_disk_cannot_hold_is_one_error_and_no_success(command, tmp_path, capsys):
    # demo said "wrote livefilter-demo.mp4" and exited 0 when the clip could not be finished (x264 holds its frames
    # until the end: the full disk is met at close, which was logged as a warning naming the hidden temporary); live
    # printed that warning line before its error line
    with small_tmpfs(tmp_path / "small", "4k") as mnt:
        out = mnt / ("livefilter-demo.mp4" if command == "demo" else "r.mp4")
        out.write_text("OLD")
        if command == "demo":
            argv = ["demo", "-o", mnt, "--frames", 3, "--size", "160x96", "--backend", "cpu"]
        else:
            argv = ["live", "--template", DATA / "tiny_2.cube", "--synthetic", "--frames", 3, "--size", "160x96",
                    "--record", out, "--backend", "cpu", "--no-face-protect", "--no-scene"]
        code, stdout, err = run(argv, capsys)
        assert code == 2 and "wrote" not in stdout, stdout
        one_error_line(err, out.name, "cannot write the recording (No space left on device)")
        assert sorted(p.name for p in mnt.iterdir()) == [out.name] and out.read_text() == "OLD"


def test_a_name_over_255_bytes_is_one_error_line(tmp_path, capsys):
    # "File name too long" from a path check escaped as "failed: OSError", exit 1
    long = "a" * 260
    for argv in (["apply", DATA / "tiny_2.cube", SAMPLES / "sample_test.jpg", "-o", tmp_path / f"{long}.jpg"],
                 ["fit", SAMPLES / "sample_after.jpg", "-o", tmp_path / f"{long}.cube"],
                 ["demo", "-o", tmp_path / long, "--frames", 3]):
        code, _, err = run(argv, capsys)
        assert code == 2, err
        one_error_line(err, long, "(File name too long)")
    assert list(tmp_path.iterdir()) == []


# info on a .look.npz; the CuPy line --------------------------------------------------------------------------------

def test_info_on_a_look_npz_is_short_and_says_mapping_once(tmp_path, sample_after, sample_before, capsys):
    out = tmp_path / "l.look.npz"
    assert run(["fit", sample_after, "--original", sample_before, "-o", out], capsys)[0] == 0
    code, text, _ = run(["info", out], capsys)
    assert code == 0
    lines = text.splitlines()
    assert sum(ln.startswith("mapping:") for ln in lines) == 1, text
    assert all(len(ln) < 200 for ln in lines), max(lines, key=len)[:300]
    assert any(ln.startswith("scene:") for ln in lines)  # that it keeps a scene is still said
    # and which kind of file it is (a Hald, a .cube and a .3dl all said only 'LUT: 3D N^3')
    assert "kind:      livefilter look (.look.npz" in text
    assert run(["fit", sample_after, "--original", sample_before, "-o", tmp_path / "h.png"], capsys)[0] == 0
    assert "kind:      HaldCLUT, level 8 (64^3;" in run(["info", tmp_path / "h.png"], capsys)[1]
    assert "kind:      .cube LUT" in run(["info", DATA / "tiny_2.cube"], capsys)[1]


def test_auto_backend_does_not_say_cupy_is_missing_unless_verbose(caplog):
    from livefilter.render import backend as bmod

    if "CuPy is not installed" not in (bmod.available()["cuda"] or ""):
        pytest.skip("CuPy is installed here")
    with caplog.at_level(logging.DEBUG, logger="livefilter"):
        b = bmod.create_backend("auto")
    assert b.name == "cpu"
    info = [r.message for r in caplog.records if r.levelno >= logging.INFO]
    assert any("render backend: cpu" in m for m in info)
    assert not any("CuPy is not installed" in m for m in info), info
    assert sum("CuPy is not installed" in r.message for r in caplog.records) == 1  # said once, at debug level


def test_live_says_cupy_is_missing_only_with_v(tmp_path):
    from livefilter.render import backend as bmod

    if "CuPy is not installed" not in (bmod.available()["cuda"] or ""):
        pytest.skip("CuPy is installed here")
    argv = ["live", "--template", DATA / "tiny_2.cube", "--synthetic", "--record", tmp_path / "r.mp4", "--frames",
            "2", "--frame-size", "160x96", "--no-face-protect"]
    r = cli(*argv, cwd=tmp_path)
    assert r.returncode == 0 and "CuPy" not in r.stderr and "render backend: cpu" in r.stderr, r.stderr
    r = cli(*argv, "-v", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr.count("CuPy is not installed") == 1, r.stderr


# messages that mislead --------------------------------------------------------------------------------------------

def test_live_template_error_is_printed_once(tmp_path):
    bad = tmp_path / "bad.cube"
    bad.write_text("LUT_3D_SIZE 2\n0 0 0\n")
    r = cli("live", "--template", bad, "--synthetic", "--record", tmp_path / "r.mp4", "--frames", 2, "--backend",
            "cpu", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("needs 8 data rows") == 1, r.stderr
    one_error_line("\n".join(ln for ln in r.stderr.splitlines() if "render backend" not in ln), "bad.cube")


def test_info_on_a_photo_lists_every_look_format(capsys):
    code, _, err = run(["info", SAMPLES / "sample_test.jpg"], capsys)
    assert code == 2
    one_error_line(err, "sample_test.jpg", ".look.npz", ".cube", ".3dl", ".png")


def test_a_cube_with_a_latin1_title_reads_like_ffmpeg_reads_it(tmp_path):
    from livefilter.luts import read_lut

    text = (DATA / "tiny_2.cube").read_text(encoding="utf-8")
    body = "\n".join(ln for ln in text.splitlines() if not ln.startswith("TITLE"))
    path = tmp_path / "latin.cube"
    path.write_bytes('TITLE "Café crème"\n'.encode("latin-1") + body.encode("ascii"))
    lut = read_lut(path)
    assert lut.title == "Café crème"
    assert np.array_equal(lut.table, read_lut(DATA / "tiny_2.cube").table)
    # Windows-1252's curly quotes and dash (0x93, 0x94, 0x96) were read as Latin-1's invisible control characters
    path.write_bytes('TITLE "\u201cTeal\u201d \u2013 Orange"\n'.encode("cp1252") + body.encode("ascii"))
    assert read_lut(path).title == "\u201cTeal\u201d \u2013 Orange"


def test_a_binary_file_named_cube_is_still_not_a_text_cube(tmp_path):
    from livefilter.errors import LutFormatError
    from livefilter.luts import read_lut

    path = tmp_path / "x.cube"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(LutFormatError, match="not a text .cube file"):
        read_lut(path)


# apply keeps a photo's EXIF, the orientation tag reset (the rotation is applied to the pixels) ------------------

def test_apply_keeps_jpeg_exif_with_the_orientation_reset(tmp_path, capsys):
    from PIL import Image

    src = tmp_path / "camera.jpg"
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132], exif[0x0112] = "Acme", "Shooter 9", "2026:05:01 10:11:12", 6
    exif.get_ifd(0x8769)[0x9003] = "2026:05:01 10:11:12"  # DateTimeOriginal, in the Exif sub-IFD
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (40, 64, 3), dtype=np.uint8)).save(src, exif=exif.tobytes(), quality=90)
    out = tmp_path / "graded.jpg"
    code, _, err = run(["apply", DATA / "tiny_2.cube", src, "-o", out, "--no-face-protect"], capsys)
    assert code == 0, err
    with Image.open(out) as img:
        got = img.getexif()
        assert img.size == (40, 64)  # orientation 6 (rotate 90) applied to the pixels...
    assert got.get(0x0112, 1) == 1  # ...so the tag says "as stored"
    assert (got[0x010F], got[0x0110], got[0x0132]) == ("Acme", "Shooter 9", "2026:05:01 10:11:12")
    assert got.get_ifd(0x8769)[0x9003] == "2026:05:01 10:11:12"


def test_apply_writes_a_photo_with_broken_exif_without_it(tmp_path, capsys, monkeypatch):
    from PIL import Image

    src = tmp_path / "odd.jpg"
    Image.fromarray(np.full((20, 30, 3), 128, np.uint8)).save(src, exif=b"Exif\x00\x00garbage-not-tiff")
    out = tmp_path / "graded.png"
    code, _, err = run(["apply", DATA / "tiny_2.cube", src, "-o", out, "--no-face-protect"], capsys)
    assert code == 0, err
    assert Image.open(out).size == (30, 20)


# looping a one-frame video -----------------------------------------------------------------------------------------

def _clip(path: Path, frames: int, size=(160, 96), fps=10) -> Path:
    from livefilter.live.sinks import VideoFileSink
    from livefilter.live.sources import SyntheticSource

    src = SyntheticSource(size, fps=fps)
    sink = VideoFileSink(path, fps=fps)
    for _ in range(frames):
        sink.send(src.read())
    sink.close()
    return path


def test_a_looped_one_frame_video_keeps_giving_its_frame(tmp_path):
    from livefilter.live.sources import VideoFileSource

    v = VideoFileSource(_clip(tmp_path / "one.mp4", 1), loop=True)
    try:
        assert all(v.read() is not None for _ in range(5))
    finally:
        v.close()


def test_live_loop_of_a_one_frame_video_records_every_frame_asked(tmp_path, capsys):
    from livefilter.live.sources import VideoFileSource

    one = _clip(tmp_path / "one.mp4", 1)
    code, out, err = run(["live", "--template", DATA / "tiny_2.cube", "--input", one, "--loop", "--frames", 20,
                          "--record", tmp_path / "rec.mp4", "--backend", "cpu", "--no-face-protect"], capsys)
    assert code == 0, err
    assert "(20 frames)" in out, out
    v = VideoFileSource(tmp_path / "rec.mp4")
    n = 0
    while v.read() is not None:
        n += 1
    v.close()
    assert n == 20


# native logs (OpenCV, the FFmpeg inside it) stay hidden; a cut-short --input is said -------------------------

def test_no_camera_is_one_line_without_opencv_warnings(tmp_path):
    if any(Path("/dev").glob("video*")):
        pytest.skip("a camera device is here")
    r = cli("live", "--template", DATA / "tiny_2.cube", "--camera", "0", "--record", tmp_path / "r.mp4",
            "--frames", 2, "--backend", "cpu", cwd=tmp_path)
    assert r.returncode == 2
    one_error_line(r.stderr, "camera 0")


def test_an_empty_input_file_is_one_line_without_ffmpeg_lines(tmp_path):
    (tmp_path / "zero.mp4").write_bytes(b"")
    r = cli("live", "--template", DATA / "tiny_2.cube", "--input", tmp_path / "zero.mp4", "--record",
            tmp_path / "r.mp4", "--backend", "cpu", cwd=tmp_path)
    assert r.returncode == 2
    one_error_line(r.stderr, "zero.mp4")


def test_a_truncated_input_is_said_and_fails_with_its_frames_kept(tmp_path):
    from .batch.test_bad_input import faststart_clip

    src = tmp_path / "cut.mp4"
    faststart_clip(src)  # 40 frames, the index first, so a truncated copy still opens
    data = src.read_bytes()
    src.write_bytes(data[: int(len(data) * 0.6)])
    r = cli("live", "--template", DATA / "tiny_2.cube", "--input", src, "--record", tmp_path / "r.mp4",
            "--backend", "cpu", "--no-face-protect", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "render backend" not in ln]
    assert len(lines) == 1 and "cut.mp4" in lines[0] and "truncated" in lines[0], r.stderr
    assert (tmp_path / "r.mp4").stat().st_size > 0
    r = cli("live", "--template", DATA / "tiny_2.cube", "--input", src, "--record", tmp_path / "r2.mp4",
            "--backend", "cpu", "--no-face-protect", "-v", cwd=tmp_path)
    assert "livefilter: FFmpeg " in r.stderr  # -v shows FFmpeg's own lines


# a folder of a few photos is graded in this process; many photos still go to one worker per core ---------------

def _photos(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2)
    for i in range(n):
        write_image(folder / f"p{i}.jpg", rng.integers(0, 256, (96, 128, 3), dtype=np.uint8))
    return folder


class _PoolStarted(Exception):
    pass


def _jobs_and_options(tmp_path, n):
    from livefilter.batch.folders import plan_jobs
    from livefilter.batch.jobs import Options

    out = tmp_path / "out"
    out.mkdir()
    jobs = plan_jobs([_photos(tmp_path / "in", n)], out_dir=out)
    return jobs, Options(True, 1.0, "trilinear", 95, False, 18.0, "veryfast", False)


def test_three_photos_start_no_worker_process(tmp_path, monkeypatch):
    import concurrent.futures

    from livefilter.batch.folders import run_jobs

    def no_pool(*args, **kwargs):
        raise _PoolStarted

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    jobs, opts = _jobs_and_options(tmp_path, 3)
    results = run_jobs(DATA / "tiny_2.cube", jobs, opts, workers=4)
    assert [r.status for r in results] == ["ok"] * 3 and all(j.dst.is_file() for j in jobs)
    # one face detector served the three: each photo is graded as a single apply grades it
    from livefilter.batch.images import apply_image

    apply_image(DATA / "tiny_2.cube", jobs[2].src, tmp_path / "alone.jpg")
    assert (tmp_path / "alone.jpg").read_bytes() == jobs[2].dst.read_bytes()


def test_many_photos_go_to_one_worker_per_core(tmp_path, monkeypatch):
    import concurrent.futures

    from livefilter.batch import folders

    started, graded_here = [], []

    def pool(workers, **kwargs):
        started.append(workers)
        raise _PoolStarted

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", pool)
    monkeypatch.setattr(folders, "WORKER_START_S", 0.0)  # as if each photo took long against a worker's start
    jobs, opts = _jobs_and_options(tmp_path, 6)
    with pytest.raises(_PoolStarted):
        folders.run_jobs(DATA / "tiny_2.cube", jobs, opts, workers=4, on_result=graded_here.append)
    assert len(graded_here) == 2  # the first two here (the first pays this process's set-up), the rest...
    assert started == [4]  # ...on every worker asked for
    assert folders._worth_workers(298, 0.05, os.cpu_count() or 1) == ((os.cpu_count() or 1) > 1)


def test_a_folder_of_three_photos_is_no_slower_than_one_apply(tmp_path):
    import time

    folder = _photos(tmp_path / "in", 3)
    (tmp_path / "out").mkdir()
    t = time.perf_counter()
    r = cli("apply", DATA / "tiny_2.cube", folder / "p0.jpg", "-o", tmp_path / "one.jpg", cwd=tmp_path)
    single = time.perf_counter() - t
    assert r.returncode == 0, r.stderr
    t = time.perf_counter()
    r = cli("apply", DATA / "tiny_2.cube", folder, "--out-dir", tmp_path / "out", "-j", 2, cwd=tmp_path)
    batch = time.perf_counter() - t
    assert r.returncode == 0 and "3 graded" in r.stdout, r.stderr
    # three photos cost a process start and two more small photos (~0.1 s each), not a worker start (~4 s) each
    assert batch < 1.5 * single + 1.0, (batch, single)


# odd frame sizes: H.264 4:2:0 needs even ones; the dropped row / column is said -----------------------------------

def _odd_clip(path: Path, size=(161, 97), frames=4) -> Path:
    import av

    rng = np.random.default_rng(3)
    with av.open(str(path), "w") as out:
        s = out.add_stream("png", rate=10)
        s.width, s.height, s.pix_fmt = size[0], size[1], "rgb24"
        for _ in range(frames):
            f = av.VideoFrame.from_ndarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "rgb24")
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def test_apply_says_an_odd_video_size_is_made_even(tmp_path, capsys, caplog):
    src = _odd_clip(tmp_path / "odd.mov")
    with caplog.at_level(logging.WARNING, logger="livefilter"):
        code, _, err = run(["apply", DATA / "tiny_2.cube", src, "-o", tmp_path / "g.mp4", "--no-face-protect"],
                           capsys)
    assert code == 0, err
    said = [r.getMessage() for r in caplog.records if "161x97" in r.getMessage()]
    assert len(said) == 1 and "160x96" in said[0] and "g.mp4" in said[0], caplog.text


def test_live_says_an_odd_frame_size_is_made_even(tmp_path, capsys, caplog):
    with caplog.at_level(logging.WARNING, logger="livefilter"):
        code, _, err = run(["live", "--template", DATA / "tiny_2.cube", "--synthetic", "--frame-size", "641x359",
                            "--record", tmp_path / "r.mp4", "--frames", 2, "--backend", "cpu",
                            "--no-face-protect"], capsys)
    assert code == 0, err
    said = [r.getMessage() for r in caplog.records if "641x359" in r.getMessage()]
    assert len(said) == 1 and "640x358" in said[0], caplog.text


# MPEG-TS input: starts at 0 (no blank lead-in from the stream's clock), and stays .ts --------------------------

def _ts_clip(path: Path, seconds=2.0, fps=25, start_s=1.4) -> Path:
    """An H.264 + AAC MPEG-TS whose clock starts at ``start_s`` (ffmpeg's muxer starts TS files at 1.4 s)."""
    import av

    with av.open(str(path), "w", format="mpegts") as out:
        v = out.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = 160, 96, "yuv420p"
        a = out.add_stream("aac", rate=48000)
        for i in range(int(seconds * fps)):
            f = av.VideoFrame.from_ndarray(np.full((96, 160, 3), (i * 9) % 256, np.uint8), "rgb24")
            f.pts = i + int(start_s * fps)
            for p in v.encode(f):
                out.mux(p)
        for p in v.encode():
            out.mux(p)
        n = int(seconds * 48000)
        x = (0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / 48000)).astype(np.float32)[None, :]
        for k in range(0, n, 1024):
            fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[:, k:k + 1024]), format="fltp", layout="mono")
            fr.sample_rate, fr.pts = 48000, k + int(start_s * 48000)
            for p in a.encode(fr):
                out.mux(p)
        for p in a.encode():
            out.mux(p)
    return path


def _starts_and_duration(path: Path) -> tuple[float, float, float]:
    """(video start, audio start, the file's duration as a player shows it: its end since 0) in seconds."""
    import av

    with av.open(str(path)) as c:
        st = {s.type: float(s.start_time * s.time_base) for s in c.streams if s.start_time is not None}
        end = max(float((s.start_time + s.duration) * s.time_base) for s in c.streams if s.duration)
    return st["video"], st["audio"], end


def test_a_ts_input_starts_at_zero_like_ffmpeg_copy(tmp_path, capsys):
    src = _ts_clip(tmp_path / "in.ts")
    out = tmp_path / "graded.mp4"
    code, _, err = run(["apply", DATA / "tiny_2.cube", src, "-o", out, "--no-face-protect"], capsys)
    assert code == 0, err
    v0, a0, end = _starts_and_duration(out)
    assert min(v0, a0) == pytest.approx(0.0, abs=0.03), (v0, a0)
    assert end == pytest.approx(2.05, abs=0.1)  # not 3.4 s with a blank lead-in
    sv, sa, _ = _starts_and_duration(src)
    assert v0 - a0 == pytest.approx(sv - sa, abs=0.002)  # picture and sound as far apart as in the source


def test_a_ts_input_in_a_folder_stays_ts(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    _ts_clip(tmp_path / "in" / "clip.ts")
    (tmp_path / "out").mkdir()
    code, _, err = run(["apply", DATA / "tiny_2.cube", tmp_path / "in", "--out-dir", tmp_path / "out",
                        "--no-face-protect"], capsys)
    assert code == 0, err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["clip.ts"]


# live --input FILE --record keeps the file's frames from the start, its timing and its audio in sync --------------

def _coded_clip(path: Path, frames: int, fps: int = 25) -> Path:
    from .batch.conftest import make_clip

    make_clip(path, frames=frames, size=(96, 64), fps=fps)
    return path


def test_live_record_of_a_file_loses_no_frame_at_the_start(tmp_path, capsys):
    from .batch.conftest import decode_all, read_code

    src = _coded_clip(tmp_path / "in.mp4", 40, fps=100)  # 10 ms a frame: opening the mp4 writer takes longer
    code, _, err = run(["live", "--template", DATA / "tiny_2.cube", "--input", src, "--record", tmp_path / "r.mp4",
                        "--backend", "cpu", "--no-face-protect"], capsys)
    assert code == 0, err
    frames, _, _ = decode_all(tmp_path / "r.mp4")
    codes = [read_code(f) for f in frames]
    # opened with the first frame, the writer lost the 8 frames that came meanwhile (0, 9, 10, ...); a loaded machine
    # may still skip a frame here and there in the render loop (as anywhere in a live run: 2 of the first 8 seen)
    start = [c for c in codes if c < 12]
    assert codes[0] == 0 and max(b - a for a, b in zip(start, start[1:])) <= 3, codes


@pytest.mark.parametrize("rotation", [0, 90])
def test_live_record_of_a_file_keeps_its_pixel_shape(tmp_path, capsys, rotation):
    """A file with non-square pixels (DV, anamorphic) was recorded with square ones: squashed (turned upright,
    the pixels' shape turns with it)."""
    from fractions import Fraction

    import av

    from .batch.conftest import make_clip

    src = tmp_path / "in.mp4"
    make_clip(src, frames=6, size=(96, 64), fps=10, audio=False, rotation=rotation, sar=Fraction(4, 3))
    code, _, err = run(["live", "--template", DATA / "tiny_2.cube", "--input", src, "--record", tmp_path / "r.mp4",
                        "--backend", "cpu", "--no-face-protect"], capsys)
    assert code == 0, err
    with av.open(str(tmp_path / "r.mp4")) as c:
        v = c.streams.video[0]
        assert v.sample_aspect_ratio == (Fraction(3, 4) if rotation else Fraction(4, 3))
        assert (v.width, v.height) == ((64, 96) if rotation else (96, 64))


def test_live_record_of_a_file_keeps_a_gap_where_the_file_has_one(ffmpeg, tmp_path, capsys):
    """A stretch of a file that gives no frame (a TV recording's lost packets; here frames cut out, their neighbours'
    timestamps kept) was closed up in the recording: the frames after it came a second earlier than their sound."""
    import subprocess

    from .batch.conftest import decode_all, make_clip, read_code

    whole, src = tmp_path / "whole.mp4", tmp_path / "in.ts"
    times = make_clip(whole, frames=60, size=(96, 64), fps=25, audio=False)
    subprocess.run([ffmpeg, "-loglevel", "error", "-i", str(whole), "-vf", r"select=not(between(n\,20\,44))",
                    "-fps_mode", "passthrough", "-c:v", "libx264", "-crf", "10", "-g", "5", str(src)], check=True)
    code, _, err = run(["live", "--template", DATA / "tiny_2.cube", "--input", src, "--record", tmp_path / "r.mp4",
                        "--backend", "cpu", "--no-face-protect"], capsys)
    assert code == 0, err
    frames, got, _ = decode_all(tmp_path / "r.mp4")
    codes = [read_code(f) for f in frames]
    assert max(codes) >= 45 and not set(range(20, 45)) & set(codes), codes  # (live may skip a frame under load)
    first = got[0] - times[codes[0]]  # the recording's clock starts at its first frame
    for c, t in zip(codes, got):  # each frame at its time in the file (closed up, frame 45 came at 0.8 s, not 1.8)
        assert abs(t - first - times[c]) <= 0.041, (c, t, times[c])


def test_live_record_of_a_variable_frame_rate_file_keeps_its_timing(tmp_path, capsys):
    """A phone's clip whose rate falls (here 50 fps, then 10) was recorded at its average rate: the frames of its
    slow stretch came up to 0.66 s before their sound (a clip at 30 then 10 fps). Each frame at its time now."""
    from .batch.conftest import audio_packets, decode_all, make_clip, read_code

    src = tmp_path / "in.mp4"
    times = make_clip(src, frames=30, size=(96, 64), durations=[20] * 20 + [100] * 10)
    code, _, err = run(["live", "--template", DATA / "tiny_2.cube", "--input", src, "--record", tmp_path / "r.mp4",
                        "--backend", "cpu", "--no-face-protect"], capsys)
    assert code == 0, err
    frames, got, _ = decode_all(tmp_path / "r.mp4")
    codes = [read_code(f) for f in frames]
    assert max(codes) == 29 and codes == sorted(codes)
    first = got[0] - times[codes[0]]
    for c, t in zip(codes, got):
        assert abs(t - first - times[c]) <= 0.002, (c, t, times[c])
    _, audio_end = audio_packets(tmp_path / "r.mp4")
    assert audio_end == pytest.approx(times[-1] + 0.1, abs=0.05)  # the sound runs to the picture's end


def test_a_recording_sink_made_without_the_files_time_base_keeps_its_timing_too(tmp_path):
    """A VideoFileSink(timing="source") made in a script, as before the sink took a time base: the frames' times in
    the file were ignored (evenly spaced: the frame at 1.00 s stamped 1.35 s). Kept at the sink's rate."""
    from livefilter.live.pipeline import LivePipeline
    from livefilter.live.sinks import VideoFileSink
    from livefilter.live.sources import VideoFileSource

    from .batch.conftest import decode_all, make_clip, read_code

    src = tmp_path / "in.mp4"
    times = make_clip(src, frames=30, size=(96, 64), audio=False, durations=[20] * 20 + [100] * 10)
    source = VideoFileSource(src)
    sink = VideoFileSink(tmp_path / "r.mp4", fps=source.fps, timing="source")
    with LivePipeline(source, [sink], look=None, backend="cpu", face_protect=False, scene=False) as p:
        p.run()
    frames, got, _ = decode_all(tmp_path / "r.mp4")
    codes = [read_code(f) for f in frames]
    assert max(codes) == 29 and codes == sorted(codes)
    # at the sink's rate (the average's): the fast stretch is pushed on, the slow one brings it back to time
    assert abs(got[-1] - times[codes[-1]]) <= 0.5 / source.fps + 1e-3, (got[-1], times[codes[-1]])


def test_live_record_of_a_file_says_what_the_recording_loses(ffmpeg, tmp_path, capsys, caplog):
    """A 10-bit interlaced camera file was recorded 8-bit progressive without a word (`apply` says the first and
    keeps the second)."""
    import subprocess

    src = tmp_path / "cam.mkv"
    subprocess.run([ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=25", "-t", "0.2",
                    "-vf", "setfield=tff", "-flags", "+ilme+ildct", "-c:v", "libx264", "-pix_fmt", "yuv422p10le",
                    "-x264-params", "tff=1", str(src)], check=True)
    code, _, err = run(["live", "--template", DATA / "tiny_2.cube", "--input", src, "--record", tmp_path / "r.mp4",
                        "--backend", "cpu", "--no-face-protect"], capsys)
    assert code == 0, err
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert said == [f"{src}: 10-bit 4:2:2 (yuv422p10le); the recording is 8-bit 4:2:0 H.264, as players and browsers "
                    "play it", f"{src}: interlaced: r.mp4 is recorded as progressive frames (`livefilter apply` keeps "
                    "it interlaced)"]


def test_a_recorded_file_keeps_its_timing_and_audio_when_frames_are_dropped(tmp_path):
    from livefilter.live.pipeline import LivePipeline
    from livefilter.live.sinks import VideoFileSink
    from livefilter.live.sources import VideoFileSource

    from .batch.conftest import audio_packets, decode_all, read_code

    src = _coded_clip(tmp_path / "in.mp4", 60)
    source = VideoFileSource(src)
    sink = VideoFileSink(tmp_path / "r.mp4", fps=source.fps, audio_from=src, timing="source")

    def slow(out, info):  # a render loop that falls behind now and then: the capture drops frames meanwhile
        if info["seq"] % 15 == 5:
            import time

            time.sleep(0.2)

    with LivePipeline(source, [sink], look=None, backend="cpu", face_protect=False, scene=False) as p:
        p.add_callback(slow)
        p.run()
        dropped = p.dropped_frames
    assert dropped > 0
    frames, times, _ = decode_all(tmp_path / "r.mp4")
    codes = [read_code(f) for f in frames]
    assert len(frames) < 60 and codes == sorted(codes)
    assert times == pytest.approx([c / 25 for c in codes], abs=1e-3)  # each frame at its time in the file
    _, audio_end = audio_packets(tmp_path / "r.mp4")
    assert audio_end == pytest.approx(60 / 25, abs=0.1)  # the sound runs to the picture's end, not past or short


# live --input takes an image sequence: a folder of images or a %04d pattern, as apply takes folders ----------------

def _sequence(folder: Path, n: int, name="f_{:03d}.png") -> Path:
    from .batch.conftest import code_frame

    folder.mkdir()
    for i in range(n):
        write_image(folder / name.format(i + 1), code_frame(i))
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.mark.parametrize("how", ["folder", "pattern"])
def test_live_input_plays_an_image_sequence(how, tmp_path, capsys):
    from .batch.conftest import decode_all, read_code

    folder = _sequence(tmp_path / "frames", 6)
    spec = folder if how == "folder" else folder / "f_%03d.png"
    code, out, err = run(["live", "--template", DATA / "tiny_2.cube", "--input", spec, "--fps", 25, "--record",
                          tmp_path / "r.mp4", "--backend", "cpu", "--no-face-protect"], capsys)
    assert code == 0, err
    frames, times, _ = decode_all(tmp_path / "r.mp4")
    assert [read_code(f) for f in frames] == list(range(6))
    assert times == pytest.approx([i / 25 for i in range(6)], abs=1e-3)


def test_live_input_folder_without_images_is_one_line(tmp_path, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "notes.txt").write_text("x")
    code, _, err = run(["live", "--template", DATA / "tiny_2.cube", "--input", folder, "--record",
                        tmp_path / "r.mp4", "--frames", 2], capsys)
    assert code == 2
    one_error_line(err, "frames", "no images")
    code, _, err = run(["live", "--template", DATA / "tiny_2.cube", "--input", folder / "x_%04d.png", "--record",
                        tmp_path / "r.mp4", "--frames", 2], capsys)
    assert code == 2
    one_error_line(err, "x_%04d.png", "no file")
