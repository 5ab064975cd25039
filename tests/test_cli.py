"""The CLI end to end, in-process (main(argv)) and once as a real subprocess."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import livefilter as lf
import livefilter.imageio as lio
from livefilter.cli import main

from .conftest import DATA


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_bad_input(code, err, name):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("livefilter: error:") and name in lines[0]
    assert "Traceback" not in err


@pytest.fixture
def look_cube(tmp_path, sample_after, sample_before, capsys):
    code, out, err = run(["fit", sample_after, "--original", sample_before, "-o", tmp_path / "look.cube"], capsys)
    assert code == 0, err
    return tmp_path / "look.cube"


def test_fit_apply_info(tmp_path, sample_after, sample_before, sample_test, capsys):
    code, out, _ = run(["fit", sample_after, "--original", sample_before, "-o", tmp_path / "l.look.npz",
                        "--preview", tmp_path / "sheet.png", "--samples", 6000, "--sampling", "salient"], capsys)
    assert code == 0 and "wrote" in out
    sheet = lf.read_image(tmp_path / "sheet.png")
    assert sheet.shape[1] > 3 * sheet.shape[0]
    code, out, _ = run(["apply", tmp_path / "l.look.npz", sample_test, "-o", tmp_path / "g.png",
                        "--strength", 0.8, "--interp", "tetrahedral"], capsys)
    assert code == 0
    graded, test = lf.read_image(tmp_path / "g.png"), lf.read_image(sample_test)
    # PNG is lossless: the file holds exactly the look at 0.8, tetrahedral (not trilinear, not full strength), with
    # the degree a video frame gets (the .look.npz keeps its template's scene: the scene similarity scales it)
    from livefilter.batch.degree import photo_degree

    look = lf.load_look(tmp_path / "l.look.npz")
    est = photo_degree(look)
    degree = est.update(test)
    est.close()
    assert np.array_equal(graded, look.apply(test, strength=0.8, interp="tetrahedral", degree=degree))
    assert not np.array_equal(graded, look.apply(test, strength=0.8, interp="trilinear", degree=degree))
    assert np.abs(graded.astype(int) - test).mean() > 3  # and the look is visible
    code, out, _ = run(["info", tmp_path / "l.look.npz"], capsys)
    assert code == 0 and "33^3" in out and "residual" in out and "salient" in out


def test_apply_many_to_out_dir_keeps_alpha(tmp_path, look_cube, capsys):
    rgba = np.dstack([np.full((8, 8, 3), 100, np.uint8), np.full((8, 8), 77, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    Image.fromarray(rgba[..., :3]).save(tmp_path / "b.jpg")
    (tmp_path / "out").mkdir()
    code, _, err = run(["apply", look_cube, tmp_path / "a.png", tmp_path / "b.jpg", "--out-dir", tmp_path / "out"],
                       capsys)
    assert code == 0, err
    rgb, alpha = lf.read_image(tmp_path / "out" / "a.png", with_alpha=True)
    assert (alpha == 77).all()
    assert (tmp_path / "out" / "b.jpg").is_file()


def test_help(capsys):
    for cmd in ([], ["fit"], ["apply"], ["info"]):
        with pytest.raises(SystemExit) as exc:
            main(cmd + ["--help"])
        assert exc.value.code == 0
        assert "usage" in capsys.readouterr().out


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def bad_images(tmp_path):
    """Files that cannot be a template, each with a word expected in the error."""
    (tmp_path / "text.jpg").write_text("not an image at all")
    Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 90).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    full_jpg = tmp_path / "full.jpg"
    Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)).save(full_jpg)
    jd = full_jpg.read_bytes()
    (tmp_path / "trunc.jpg").write_bytes(jd[: len(jd) // 3])
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(tmp_path / "one.png")
    (tmp_path / "zero.png").write_bytes(b"")
    return {"text.jpg": "not an image", "trunc.png": "image file is truncated", "trunc.jpg": "image file is truncated",
            "one.png": "at least 2x2", "zero.png": "empty file (0 bytes)", "missing.png": "no such file"}


def test_bad_template_files(tmp_path, sample_before, capsys):
    for name, word in bad_images(tmp_path).items():
        out = tmp_path / f"out_{name}.cube"
        code, _, err = run(["fit", tmp_path / name, "--original", sample_before, "-o", out], capsys)
        assert_bad_input(code, err, name)
        assert word in err
        assert not out.exists()
        code, _, err = run(["fit", sample_before, "--original", tmp_path / name, "-o", out], capsys)
        assert_bad_input(code, err, name)
        assert word in err


def test_bad_apply_inputs(tmp_path, look_cube, capsys):
    bad_images(tmp_path)
    for name in ("text.jpg", "trunc.png", "zero.png", "missing.png"):
        code, _, err = run(["apply", look_cube, tmp_path / name, "-o", tmp_path / "o.png"], capsys)
        assert_bad_input(code, err, name)
        assert not (tmp_path / "o.png").exists()
    # a 1x1 image is a valid (if tiny) photo to grade: its one (black) pixel gets the look
    code, _, err = run(["apply", look_cube, tmp_path / "one.png", "-o", tmp_path / "o.png"], capsys)
    assert code == 0, err
    expected = lf.render(lf.read_image(tmp_path / "one.png"), lf.load_look(look_cube))
    assert np.array_equal(lf.read_image(tmp_path / "o.png"), expected)


def test_converted_formats_are_accepted(tmp_path, sample_before, sample_after, capsys):
    import cv2

    before = lf.read_image(sample_before)
    after = lf.read_image(sample_after)
    # grayscale template (a B&W look), RGBA, 16-bit, palette, CMYK, EXIF-rotated originals
    Image.fromarray(after).convert("L").save(tmp_path / "gray.png")
    Image.fromarray(np.dstack([after, np.full(after.shape[:2], 255, np.uint8)]), "RGBA").save(tmp_path / "rgba.png")
    cv2.imwrite(str(tmp_path / "c16.png"), after[..., ::-1].astype(np.uint16) * 257)
    Image.fromarray(after).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "pal.png")
    Image.fromarray(after).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    for name in ("gray.png", "rgba.png", "c16.png", "pal.png", "cmyk.jpg"):
        code, _, err = run(["fit", tmp_path / name, "--original", sample_before, "-o", tmp_path / f"{name}.cube"],
                           capsys)
        assert code == 0, (name, err)
    rotated = np.ascontiguousarray(np.rot90(before, 1))  # stored rotated, EXIF says rotate back
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rotated).save(tmp_path / "rot.jpg", exif=exif.tobytes(), quality=95)
    code, _, err = run(["fit", sample_after, "--original", tmp_path / "rot.jpg", "-o", tmp_path / "rot.cube"], capsys)
    assert code == 0, err
    assert "warning" not in err  # upright after EXIF: same size as the template, no resize


def test_huge_image_refused_unless_allowed(tmp_path, sample_after, sample_before, capsys, monkeypatch):
    monkeypatch.setattr(lio, "MAX_PIXELS", 100_000)
    code, _, err = run(["fit", sample_after, "--original", sample_before, "-o", tmp_path / "x.cube"], capsys)
    assert_bad_input(code, err, "sample_after.jpg")
    assert "megapixels" in err
    code, _, err = run(["fit", sample_after, "--original", sample_before, "-o", tmp_path / "x.cube", "--allow-large"],
                       capsys)
    assert code == 0, err


def test_size_mismatch(tmp_path, sample_after, sample_before, capsys):
    small = lf.read_image(sample_before)[::2, ::2]
    Image.fromarray(small).save(tmp_path / "half.png")
    code, _, err = run(["fit", sample_after, "--original", tmp_path / "half.png", "-o", tmp_path / "x.cube"], capsys)
    assert code == 0 and "warning" in err and "resized" in err
    Image.fromarray(small[:, :100]).save(tmp_path / "crop.png")
    code, _, err = run(["fit", sample_after, "--original", tmp_path / "crop.png", "-o", tmp_path / "y.cube"], capsys)
    assert_bad_input(code, err, "crop.png")
    assert "aspect" in err and not (tmp_path / "y.cube").exists()


def test_bad_cube_files_in_apply_and_info(tmp_path, sample_test, capsys):
    cases = {
        "rows.cube": "LUT_3D_SIZE 2\n" + "0 0 0\n" * 5,
        "small.cube": "LUT_3D_SIZE 1\n0 0 0\n",
        "big.cube": "LUT_3D_SIZE 300\n",
        "text.cube": "LUT_3D_SIZE 2\n" + "0 0 0\n" * 4 + "a b c\n" + "0 0 0\n" * 3,
        "nan.cube": "LUT_3D_SIZE 2\n" + "nan 0 0\n" + "0 0 0\n" * 7,
        "inf.cube": "LUT_3D_SIZE 2\n" + "0 0 -inf\n" + "0 0 0\n" * 7,
        "domain.cube": "LUT_3D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 0 1\n" + "0 0 0\n" * 8,
        "mixed.cube": "LUT_1D_SIZE 2\nLUT_3D_SIZE 2\n" + "0 0 0\n" * 8,
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        code, _, err = run(["apply", tmp_path / name, sample_test, "-o", tmp_path / "o.jpg"], capsys)
        assert_bad_input(code, err, name)
        code, _, err = run(["info", tmp_path / name], capsys)
        assert_bad_input(code, err, name)
    assert not (tmp_path / "o.jpg").exists()
    (tmp_path / "junk.look.npz").write_bytes(b"PK\x03\x04junk")
    code, _, err = run(["info", tmp_path / "junk.look.npz"], capsys)
    assert_bad_input(code, err, "junk.look.npz")


def test_bad_outputs(tmp_path, look_cube, sample_after, sample_before, sample_test, capsys, monkeypatch):
    code, _, err = run(["fit", sample_after, "--original", sample_before, "-o", tmp_path / "nope" / "x.cube"], capsys)
    assert_bad_input(code, err, "nope")
    code, _, err = run(["apply", look_cube, sample_test, "--out-dir", tmp_path / "nope"], capsys)
    assert_bad_input(code, err, "nope")
    code, _, err = run(["apply", look_cube, sample_test, "-o", tmp_path / "x.gif"], capsys)
    assert_bad_input(code, err, "x.gif")
    # output equal to an input
    img = tmp_path / "in.jpg"
    img.write_bytes(sample_test.read_bytes())
    before = img.read_bytes()
    code, _, err = run(["apply", look_cube, img, "-o", img], capsys)
    assert_bad_input(code, err, "in.jpg")
    code, _, err = run(["apply", look_cube, img, "--out-dir", tmp_path], capsys)
    assert_bad_input(code, err, "in.jpg")
    assert img.read_bytes() == before
    code, _, err = run(["fit", img, "--original", sample_before, "-o", img], capsys)
    assert_bad_input(code, err, "in.jpg")
    # unwritable folder (we run as root in CI, where permissions do not apply: simulate it)
    import livefilter.fileio as fio

    monkeypatch.setattr(fio.os, "access", lambda *a, **k: False)
    code, _, err = run(["apply", look_cube, sample_test, "-o", tmp_path / "w.jpg"], capsys)
    assert_bad_input(code, err, "not writable")


def test_failed_write_leaves_nothing(tmp_path, look_cube, sample_test, capsys, monkeypatch):
    from PIL import Image as PILImage

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(PILImage.Image, "save", boom)
    code, _, err = run(["apply", look_cube, sample_test, "-o", tmp_path / "o.jpg"], capsys)
    assert_bad_input(code, err, "o.jpg")  # a write that fails names the file, exit 2, as for videos
    assert "disk full" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["look.cube"]


def test_bad_options(tmp_path, look_cube, sample_test, sample_after, sample_before, capsys, no_defilter_model):
    code, _, err = run(["apply", look_cube, sample_test, sample_test, "-o", tmp_path / "o.jpg"], capsys)
    assert_bad_input(code, err, "-o takes one input")
    code, _, err = run(["apply", look_cube, sample_test, "-o", tmp_path / "o.jpg", "--strength", 3], capsys)
    assert_bad_input(code, err, "strength")
    code, _, err = run(["fit", sample_after, "--original", sample_before, "-o", tmp_path / "x.cube",
                        "--samples", 10], capsys)
    assert_bad_input(code, err, "samples")
    code, _, err = run(["fit", sample_after, "--original", sample_before, "-o", tmp_path / "x.cube", "--size", 1],
                       capsys)
    assert_bad_input(code, err, "size")
    code, _, err = run(["fit", sample_after, "-o", tmp_path / "x.cube"], capsys)
    assert_bad_input(code, err, "defilter.onnx")


def test_golden_cube_via_cli(tmp_path, capsys):
    img = np.zeros((4, 4, 3), np.uint8)
    img[..., 0] = 200
    Image.fromarray(img).save(tmp_path / "red.png")
    code, _, err = run(["apply", DATA / "tiny_2.cube", tmp_path / "red.png", "-o", tmp_path / "blue.png"], capsys)
    assert code == 0, err
    assert tuple(lf.read_image(tmp_path / "blue.png")[0, 0]) == (0, 0, 200)


def test_console_script_subprocess_grades_and_reports_a_bad_cube_line(tmp_path):
    """python -m livefilter as a real process: a good .cube grades the image, a bad one exits 2 with one line
    naming the file and the line."""
    img = np.zeros((4, 4, 3), np.uint8)
    img[..., 0] = 200
    Image.fromarray(img).save(tmp_path / "red.png")
    res = subprocess.run([sys.executable, "-m", "livefilter", "apply", str(DATA / "tiny_2.cube"),
                          str(tmp_path / "red.png"), "-o", str(tmp_path / "o.png")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert tuple(lf.read_image(tmp_path / "o.png")[0, 0]) == (0, 0, 200)
    bad = tmp_path / "bad.cube"
    bad.write_text("LUT_3D_SIZE 2\n" + "0 0 0\n" * 3 + "0 zero 0\n" + "0 0 0\n" * 4)
    res = subprocess.run([sys.executable, "-m", "livefilter", "apply", str(bad), str(tmp_path / "red.png"),
                          "-o", str(tmp_path / "o2.png")], capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "bad.cube" in res.stderr and "line 5" in res.stderr
    assert not (tmp_path / "o2.png").exists()


def test_fit_segments_from_one_photo_says_it_gives_the_global_look(tmp_path, sample_after, capsys):
    code, out, err = run(["fit", sample_after, "--segments", "-o", tmp_path / "l.cube"], capsys)
    assert code == 0, err
    assert "every segment gets the global look" in err and "--original" in err
    assert "segments: the global look for every segment" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.cube"]  # no per-segment .cube files


def test_a_transparent_template_is_shown_on_white_in_the_preview(tmp_path, capsys):
    # its transparent part showed the colour stored under it (magenta here) on the sheet
    from .conftest import SAMPLES

    img = lio.read_image(SAMPLES / "sample_after.jpg")
    rgba = np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
    rgba[:, : img.shape[1] // 3] = (255, 0, 255, 0)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cut.png")
    code, _, err = run(["fit", tmp_path / "cut.png", "-o", tmp_path / "cut.cube", "--candidates", 1, "--preview",
                        tmp_path / "sheet.png"], capsys)
    assert code == 0, err
    sheet = lio.read_image(tmp_path / "sheet.png").astype(int)
    magenta = (np.abs(sheet - (255, 0, 255)).max(-1) < 30).mean()
    white = (sheet.min(-1) > 245).mean()
    assert magenta < 0.001 and white > 0.02, (magenta, white)


def test_a_hald_output_says_its_own_size(tmp_path, capsys):
    # fit -o look.png --lut-size 17 printed "17^3 LUT" and wrote a level-8 Hald (64^3) without a word
    from .conftest import SAMPLES

    code, out, err = run(["fit", SAMPLES / "sample_after.jpg", "-o", tmp_path / "h.png", "--lut-size", 17,
                          "--candidates", 1], capsys)
    assert code == 0, err
    assert "64^3 LUT" in out and "17^3" not in out
    assert "--lut-size 17: a HaldCLUT .png holds a 64^3 look (level 8)" in err
    assert lf.read_lut(tmp_path / "h.png").size == 64
    code, out, err = run(["fit", SAMPLES / "sample_after.jpg", "-o", tmp_path / "h33.png", "--lut-size", 33,
                          "--candidates", 1], capsys)
    assert code == 0 and "--lut-size 33: a HaldCLUT .png holds a 64^3 look" in err  # asked for: said too
    code, out, err = run(["fit", SAMPLES / "sample_after.jpg", "-o", tmp_path / "d.png", "--candidates", 1], capsys)
    assert code == 0 and "--lut-size" not in err and "64^3 LUT" in out


def test_a_crf_under_1_says_its_video_is_lossless_once(tmp_path, capsys, caplog):
    import av

    from .batch.conftest import make_clip

    cube = tmp_path / "l.cube"
    lf.write_lut(cube, lf.Lut(np.asarray(lf.Lut.identity(5).table)))
    for name in ("a.mp4", "b.mp4"):
        make_clip(tmp_path / name, frames=3, audio=False)
    for crf, profile in (("0.5", "High 4:4:4 Predictive"), ("1", "High")):
        (tmp_path / crf).mkdir()
        caplog.clear()
        assert main(["apply", str(cube), str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4"), "--out-dir",
                     str(tmp_path / crf), "--crf", crf, "-j", "1"]) == 0, capsys.readouterr().err
        said = [r.getMessage() for r in caplog.records if "lossless" in r.getMessage()]
        assert len(said) == (1 if crf == "0.5" else 0), said  # once for the run, not per file
        with av.open(str(tmp_path / crf / "a.mp4")) as c:
            assert c.streams.video[0].codec_context.profile == profile  # what the line warns of
