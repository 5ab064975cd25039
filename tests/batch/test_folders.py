"""Folders and many files: recursion, one bad file skipped, collisions refused first, --skip-existing, the API."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import livefilter as lf
from livefilter.cli import main

from ..conftest import ROOT
from .conftest import decode_all, make_clip, read_code


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def photos(folder, n=3, sub=True):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    if sub:
        (folder / "sub").mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(folder / "sub" / "deep.png")


def test_folder_with_a_bad_file(tmp_path, look_file, look, capsys):
    src = tmp_path / "in"
    photos(src)
    make_clip(src / "sub" / "clip.avi", frames=10)  # an .avi in: H.264 in .mp4 out
    (src / "broken.jpg").write_bytes(b"not a jpeg at all")
    (src / "notes.txt").write_text("not an image: ignored in a folder")
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, err = run(["apply", look_file, src, "--out-dir", out, "--recursive", "-j", "2"], capsys)
    assert code == 1
    errors = [ln for ln in err.splitlines() if ln.startswith("livefilter: error:")]
    assert len(errors) == 1 and "broken.jpg" in errors[0], err
    assert "5 graded, 1 failed of 6 files" in stdout
    got = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert got == ["p0.png", "p1.png", "p2.png", "sub/clip.mp4", "sub/deep.png"]
    graded = lf.read_image(out / "p1.png")
    assert np.array_equal(graded, look.apply(lf.read_image(src / "p1.png")))  # noise has no face: full look
    frames, _, _ = decode_all(out / "sub" / "clip.mp4")
    assert [read_code(f) for f in frames] == list(range(10))
    # without --recursive the sub-folder is left alone
    out2 = tmp_path / "out2"
    out2.mkdir()
    code, stdout, _ = run(["apply", look_file, src, "--out-dir", out2, "-j", "1"], capsys)
    assert code == 1 and sorted(p.name for p in out2.iterdir()) == ["p0.png", "p1.png", "p2.png"]


def test_one_file_in_a_sub_folder_gets_its_output_folder_as_several_do(tmp_path, look_file, capsys):
    # before: with one file, "out/sub: output folder does not exist" (exit 2); with two, out/sub was made
    src, out = tmp_path / "in", tmp_path / "out"
    photos(src / "sub", 1, sub=False)
    out.mkdir()
    code, stdout, err = run(["apply", look_file, src, "--out-dir", out, "--recursive"], capsys)
    assert code == 0, err
    assert (out / "sub" / "p0.png").is_file()
    assert stdout.startswith(f"wrote {out / 'sub' / 'p0.png'} (") and stdout.endswith(" ms)\n"), stdout


def test_a_linked_album_is_followed_and_a_broken_link_named(tmp_path, look_file, capsys):
    """With -r a link to a folder (an album linked in) was left out without a word, and a broken link too."""
    photos(tmp_path / "elsewhere", 1, sub=False)
    src, out = tmp_path / "in", tmp_path / "out"
    photos(src, 1, sub=False)
    out.mkdir()
    (src / "album").symlink_to(tmp_path / "elsewhere")
    (src / "back").symlink_to(src)  # a link up the tree is walked once
    (src / "gone.jpg").symlink_to(tmp_path / "missing.jpg")
    code, stdout, err = run(["apply", look_file, src, "--out-dir", out, "-r"], capsys)
    assert code == 0, err
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.png")) == ["album/p0.png", "p0.png"]
    assert f"left out 1 link that is broken ({src / 'gone.jpg'})" in stdout + err


def test_a_file_where_a_sub_folder_goes_is_one_line_before_anything_is_written(tmp_path, look_file, capsys):
    # each of the sub-folder's files failed: "cannot write (File exists)", or "(Not a directory)" deeper down
    src, out = tmp_path / "in", tmp_path / "out"
    photos(src)
    out.mkdir()
    (out / "sub").write_text("a file")
    code, _, err = run(["apply", look_file, src, "--out-dir", out, "-r"], capsys)
    assert code == 2 and err == f"livefilter: error: {out / 'sub'}: is a file where the output folder mirrors a " \
                                "sub-folder of the input\n"
    assert sorted(p.name for p in out.iterdir()) == ["sub"]


def test_a_folder_without_photos_or_videos_is_refused(tmp_path, look_file, capsys):
    # "0 graded, 0 failed of 0 files", exit 0: a mistyped or wrong folder looked like a success
    (tmp_path / "empty").mkdir()
    photos(tmp_path / "only_sub" / "sub", 1, sub=False)
    out = tmp_path / "out"
    out.mkdir()
    code, _, err = run(["apply", look_file, tmp_path / "empty", "--out-dir", out], capsys)
    assert code == 2 and err.endswith("empty: no still photo or video in this folder\n")
    code, _, err = run(["apply", look_file, tmp_path / "only_sub", "--out-dir", out], capsys)
    assert code == 2 and err.endswith("only_sub: no still photo or video in this folder (its sub-folders are graded "
                                      "with -r)\n")
    assert run(["apply", look_file, tmp_path / "only_sub", "--out-dir", out, "-r"], capsys)[0] == 0
    # an empty folder beside photos is no error; nor is its output folder a sub-folder -r would grade (a review)
    sub = tmp_path / "only_sub" / "sub"
    assert run(["apply", look_file, tmp_path / "empty", sub, "--out-dir", out], capsys)[0] == 0
    (tmp_path / "empty" / "graded").mkdir()
    code, _, err = run(["apply", look_file, tmp_path / "empty", "--out-dir", tmp_path / "empty" / "graded"], capsys)
    assert code == 2 and err.endswith("empty: no still photo or video in this folder\n"), err


def test_a_signal_once_every_file_is_done_is_no_stop(tmp_path, look_file, capsys, monkeypatch):
    """Ctrl+C as the last file finished: '10 graded, 0 failed of 10 files', then 'stopped (SIGINT)', exit 130."""
    import signal

    import livefilter.batch.folders as folders

    real = folders.grade_batch

    def graded_then_signalled(*a, **kw):
        results = real(*a, **kw)
        os.kill(os.getpid(), signal.SIGINT)  # the handler only sets the stop: nothing is left to stop
        return results

    monkeypatch.setattr(folders, "grade_batch", graded_then_signalled)
    photos(tmp_path / "in", 2, sub=False)
    (tmp_path / "out").mkdir()
    code, out, err = run(["apply", look_file, tmp_path / "in", "--out-dir", tmp_path / "out"], capsys)
    assert code == 0 and re.search(r"2 graded, 0 failed of 2 files in [0-9.]+ s\n$", out) and "stopped" not in out, (
        out, err)


def test_photos_are_written_in_the_format_asked_for(tmp_path, look_file, capsys):
    """A folder of TIFFs and PNGs could only be graded into TIFFs and PNGs: no way to deliver JPEGs."""
    src, out = tmp_path / "in", tmp_path / "out"
    photos(src, 2, sub=True)
    lf.write_image(src / "scan.tif", np.full((24, 32, 3), 90, np.uint8))
    alpha = np.full((24, 32), 255, np.uint8)
    alpha[:, :8] = 0  # a transparent part: laid on white in a JPEG, with a line
    lf.write_image(src / "cut.png", np.full((24, 32, 3), 40, np.uint8), alpha)
    make_clip(src / "clip.mp4", frames=3, audio=False)  # a video stays a video
    out.mkdir()
    code, said, err = run(["apply", look_file, src, "--out-dir", out, "-r", "--format", "jpg", "--quality", "90"],
                          capsys)
    assert code == 0, err
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.*")) == [
        "clip.mp4", "cut.jpg", "p0.jpg", "p1.jpg", "scan.jpg", "sub/deep.jpg"]
    assert Image.open(out / "scan.jpg").format == "JPEG"
    cut = lf.read_image(out / "cut.jpg").astype(int)
    assert cut[:, :6].mean() > cut[:, 12:].mean() + 100  # its transparent part laid on white (said on stderr)
    want = lf.render(lf.read_image(src / "scan.tif"), lf.load_look(look_file))
    assert np.abs(lf.read_image(out / "scan.jpg").astype(int) - want).max() <= 2  # the same grade, as a JPEG
    photos(tmp_path / "more", 1, sub=False)
    lf.write_image(tmp_path / "more" / "p0.jpeg", np.zeros((24, 32, 3), np.uint8))
    code, _, err = run(["apply", look_file, tmp_path / "more", "--out-dir", out, "--format", "jpg"], capsys)
    assert code == 2 and "would write the same output" in err  # p0.png and p0.jpeg -> p0.jpg
    code, _, err = run(["apply", look_file, src / "p0.png", "-o", tmp_path / "x.png", "--format", "jpg"], capsys)
    assert code == 2 and "a photo format is for an output folder" in err
    with pytest.raises(lf.InputError, match="photo format must be one of jpg, png, tif, webp, avif, heic, got 'bmp'"):
        lf.apply_folder(look_file, [src], out, photo_format="bmp")
    assert lf.apply_folder(look_file, [src / "p1.png"], tmp_path, photo_format="TIFF")[0].job.dst.name == "p1.tif"


def test_a_stopped_batch_says_how_to_resume_it(tmp_path, look_file, capsys, monkeypatch):
    """A batch stopped part-way, run again, graded every file again without a word (178 of 332 done twice for a
    helper); the stop now says --skip-existing. The summary says how long the batch took."""
    import dataclasses
    import signal

    import livefilter.batch.folders as folders

    real = folders.grade_batch

    def stopped_after_two(*a, **kw):
        results = real(*a, **kw)
        os.kill(os.getpid(), signal.SIGINT)  # the handler sets the stop; the last file counts as not finished
        return results[:2] + [dataclasses.replace(r, status="interrupted") for r in results[2:]]

    monkeypatch.setattr(folders, "grade_batch", stopped_after_two)
    photos(tmp_path / "in", 3, sub=False)
    (tmp_path / "out").mkdir()
    code, out, _ = run(["apply", look_file, tmp_path / "in", "--out-dir", tmp_path / "out"], capsys)
    lines = out.splitlines()
    assert code == 130 and re.fullmatch(r"2 graded, 0 failed, 1 not finished \(stopped\) of 3 files in [0-9.]+ s",
                                        lines[-3]), out
    assert lines[-2:] == ["to grade only the files not finished, run the same command with --skip-existing",
                          "stopped (SIGINT)"]


def test_many_skipped_files_are_counted_not_listed(tmp_path, look_file, capsys):
    """A resumed batch printed a 'skipped' line for each file already done (141 lines for a helper); a batch run
    again without --skip-existing replaced the files there without a word."""
    photos(tmp_path / "in", 6, sub=False)
    out = tmp_path / "out"
    out.mkdir()
    assert run(["apply", look_file, tmp_path / "in", "--out-dir", out], capsys)[0] == 0
    code, said, _ = run(["apply", look_file, tmp_path / "in", "--out-dir", out], capsys)
    assert code == 0 and f"replacing 6 existing files ({out / 'p0.png'}, {out / 'p1.png'}, ...): --skip-existing " \
        "leaves them" in said
    (out / "p5.png").unlink()
    code, said, _ = run(["apply", look_file, tmp_path / "in", "--out-dir", out, "--skip-existing"], capsys)
    assert "replacing" not in said
    named = [line for line in said.splitlines() if line.startswith("skipped ")]
    assert code == 0 and len(named) == 4 and named[-1] == "skipped 2 more whose output exists (-v names them)"
    # (-v in a process of its own: in this one it leaves FFmpeg's log level up for the tests after it)
    r = subprocess.run([sys.executable, "-m", "livefilter", "apply", str(look_file), str(tmp_path / "in"), "--out-dir",
                        str(out), "--skip-existing", "-v"], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0 and r.stdout.count(".png exists)") == 6, r.stderr


def test_many_name_collisions_name_a_few_and_the_output_folder_equal_to_the_input_s_says_folder(
        tmp_path, look_file, capsys):
    """80 pairs of inputs writing one output each made a 10 kB error line; --out-dir the photos' own folder said
    'choose another name' (a folder was given)."""
    photos(tmp_path / "a", 5, sub=False)
    photos(tmp_path / "b", 5, sub=False)
    (tmp_path / "out").mkdir()
    code, _, err = run(["apply", look_file, tmp_path / "a", tmp_path / "b", "--out-dir", tmp_path / "out"], capsys)
    assert code == 2 and "5 pairs of inputs would write the same output" in err and "; and 2 more;" in err
    assert err.count(" -> ") == 3 and len(err.splitlines()) == 1
    code, _, err = run(["apply", look_file, tmp_path / "a", "--out-dir", tmp_path / "a"], capsys)
    assert code == 2 and err.rstrip().endswith("choose another folder") and "p0.png" in err, err


def test_name_collisions_refused_before_anything_is_written(tmp_path, look_file, capsys):
    photos(tmp_path / "a", 2, sub=False)
    photos(tmp_path / "b", 2, sub=False)
    out = tmp_path / "out"
    out.mkdir()
    code, _, err = run(["apply", look_file, tmp_path / "a", tmp_path / "b", "--out-dir", out], capsys)
    assert code == 2 and "same output" in err and "p0.png" in err
    assert "2 pairs of inputs" in err and "p1.png" in err and len(err.splitlines()) == 1  # named at once, one line
    code, _, err = run(["apply", look_file, tmp_path / "a", tmp_path / "a", "--out-dir", out], capsys)
    assert code == 2 and err == f"livefilter: error: {tmp_path / 'a'}: given twice (once is enough)\n"  # not p0.png
    assert list(out.iterdir()) == []
    # two videos whose outputs are both x.mp4
    make_clip(tmp_path / "x.avi", frames=3, audio=False)
    make_clip(tmp_path / "x.mp4", frames=3, audio=False)
    code, _, err = run(["apply", look_file, tmp_path / "x.avi", tmp_path / "x.mp4", "--out-dir", out], capsys)
    assert code == 2 and "same output" in err and "x.avi" in err
    assert list(out.iterdir()) == []


def test_skip_existing_resumes(tmp_path, look_file, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    photos(src, 3, sub=False)
    out.mkdir()
    code, _, _ = run(["apply", look_file, src, "--out-dir", out, "-j", "1"], capsys)
    assert code == 0
    (out / "p1.png").unlink()
    os.utime(out / "p0.png", (1, 1))
    code, stdout, _ = run(["apply", look_file, src, "--out-dir", out, "--skip-existing", "-j", "1"], capsys)
    assert code == 0
    assert "1 graded, 0 failed, 2 skipped (output exists) of 3 files" in stdout
    assert (out / "p1.png").is_file() and os.stat(out / "p0.png").st_mtime == 1


def test_apply_folder_api(tmp_path, look):
    src, out = tmp_path / "in", tmp_path / "out"
    photos(src)
    out.mkdir()
    seen = []
    results = lf.apply_folder(look, [src], out, recursive=True, workers=1, progress=lambda d, t: seen.append((d, t)))
    assert [r.status for r in results] == ["ok"] * 4
    assert seen[-1] == (4, 4)
    assert (out / "sub" / "deep.png").is_file()


def test_a_script_without_the_main_guard_fails_its_files_instead_of_hanging(tmp_path):
    # the workers are spawned: each imports the script, which called apply_folder again at its top level. The first
    # process blocked forever writing the Look (pickled, over a pipe's buffer) to a worker that had died
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    make_clip(src / "a.mp4", frames=4, audio=False)
    make_clip(src / "b.mp4", frames=4, audio=False)
    out.mkdir()
    script = tmp_path / "grade.py"
    script.write_text(f"""import livefilter as lf
look = lf.fit_look({str(ROOT / "livefilter" / "data" / "sample_after.jpg")!r})  # a Look with its readings
results = lf.apply_folder(look, [{str(src)!r}], {str(out)!r}, workers=2)
print([r.status for r in results], results[0].message)
""")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "['failed', 'failed']" in r.stdout and 'apply_folder under `if __name__ == "__main__":`' in r.stdout
    assert "put the call under `if __name__" in r.stderr and "Traceback" not in r.stderr, r.stderr  # one line each
    # with the guard, the same script grades both
    script.write_text(script.read_text().replace("look = ", 'if __name__ == "__main__":\n    look = ', 1)
                      .replace("\nresults", "\n    results").replace("\nprint", "\n    print"))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env,
                       timeout=300)
    assert r.returncode == 0 and "['ok', 'ok']" in r.stdout, r.stderr


def test_a_folder_run_names_raw_files_and_sub_folders_it_leaves_out(tmp_path, look_file, capsys):
    """A RAW + JPEG shoot: the RAW files were listed with Thumbs.db as "not a still photo" and cut at "and 2 more"
    (-v showed no more); without -r a folder's sub-folders were left out without a word once its top held a photo.
    A .jfif / .jpe (a browser's or Windows' JPEG) was left out as not a photo."""
    shoot, out = tmp_path / "shoot", tmp_path / "out"
    out.mkdir()
    photos(shoot, n=2, sub=True)
    (shoot / "day 2").mkdir()
    for name in ("IMG_1.CR2", "IMG_2.NEF", "IMG_3.dng", "IMG_4.ARW"):
        (shoot / name).write_bytes(b"II*\0 raw")
    rng = np.random.default_rng(1)
    for name in ("web.jfif", "old.jpe"):
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(shoot / name, format="JPEG")
    (shoot / "Thumbs.db").write_bytes(b"\0")
    code, stdout, err = run(["apply", look_file, shoot, "--out-dir", out, "--no-face-protect"], capsys)
    assert code == 0, err
    line = next(x for x in stdout.splitlines() if x.startswith("left out"))
    assert line == (f"left out 1 file that is not a still photo or a video ({shoot / 'Thumbs.db'}); 4 camera RAW "
                    f"files, which livefilter does not read: export them as TIFF or JPEG ({shoot / 'IMG_1.CR2'}, "
                    f"{shoot / 'IMG_2.NEF'}, {shoot / 'IMG_3.dng'} and 1 more); 2 sub-folders: -r grades their photos "
                    f"too ({shoot / 'day 2'}, {shoot / 'sub'})"), line
    assert "4 graded, 0 failed of 4 files" in stdout
    for name in ("web.jfif", "old.jpe"):
        with Image.open(out / name) as img:
            assert img.format == "JPEG"
    from livefilter.batch.folders import plan_batch

    every = plan_batch(look_file, [shoot], out_dir=out).ignored_line(None)  # what apply -v prints (-v run here
    assert str(shoot / "IMG_4.ARW") in every and "more" not in every, every  # would leave FFmpeg's log level up)
    code, stdout, err = run(["apply", look_file, shoot, "--out-dir", out, "--no-face-protect", "-r"], capsys)
    assert code == 0 and "sub-folder" not in stdout and "5 graded" in stdout, (stdout, err)


def test_a_raw_or_an_empty_file_given_by_name_is_one_line(tmp_path, look_file, capsys):
    """A DNG is a TIFF inside: fit read its first image (a camera's small preview) as the photo; an empty file was
    "not an image, or an image format that cannot be read"."""
    dng = tmp_path / "IMG_0001.DNG"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(dng, format="TIFF")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    raw = "a camera RAW file: livefilter reads no RAW (export it from a RAW developer as TIFF or JPEG)"
    for argv, problem in ((["fit", dng, "-o", tmp_path / "l.cube"], raw),
                          (["apply", look_file, dng, "-o", tmp_path / "o.png"], raw),
                          (["apply", look_file, empty, "-o", tmp_path / "o.png"], "empty file (0 bytes)"),
                          (["fit", empty, "-o", tmp_path / "l.cube"], "empty file (0 bytes)")):
        code, stdout, err = run(argv, capsys)
        path = dng if problem == raw else empty
        assert code == 2 and err == f"livefilter: error: {path}: {problem}\n", (argv, err)
    assert not (tmp_path / "l.cube").exists() and not (tmp_path / "o.png").exists()


def test_an_error_naming_no_file_is_said_with_the_input_in_a_folder_run(tmp_path, monkeypatch):
    """A folder run's failed file must be named on its line: an error raised without a path (a renderer's check)
    printed "livefilter: error: degree map (2, 2) must be ...", and which of the folder's files failed was not said."""
    from livefilter.batch import jobs
    from livefilter.errors import InputError

    def fail(*a, **k):
        raise InputError("degree map (2, 2) must be the frame's size (1, 1) or smaller")

    monkeypatch.setattr(jobs, "grade_file", fail)
    job = jobs.Job(tmp_path / "tiny.png", tmp_path / "out.png", "image")
    result = jobs.grade_job(None, job, jobs.Options())
    assert result.message == f"{tmp_path / 'tiny.png'}: degree map (2, 2) must be the frame's size (1, 1) or smaller"
