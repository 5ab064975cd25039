"""Defects found by probing the command line with odd inputs (two outputs on one path, an output over an input,
names with a newline, a transparent template, garbage look files, frames too small for H.264, animated images), each
held by a test: one line naming the file, exit 2, nothing written or overwritten."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import livefilter as lf
from livefilter.errors import OutputError
from livefilter.media.codec import say_if_odd_size

from .conftest import DATA
from .test_cli import assert_bad_input, run
from .test_cli_defects import cli


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("outputs, name", [
    (["-o", "{d}/s.png", "--save-defiltered", "{d}/s.png"], "s.png"),  # the look replaced by the guess
    (["-o", "{d}/h.png", "--preview", "{d}/./h.png"], "h.png"),  # the look replaced by the contact sheet
    (["-o", "{d}/l.cube", "--preview", "{d}/p.png", "--save-defiltered", "{d}/p.png"], "p.png"),
])
def test_one_path_for_two_outputs_is_refused_before_the_fit(tmp_path, sample_after, outputs, name, capsys):
    code, _, err = run(["fit", sample_after, *[a.format(d=tmp_path) for a in outputs]], capsys)
    assert_bad_input(code, err, name)
    assert "given for both" in err and list(tmp_path.iterdir()) == []


def test_outputs_never_overwrite_the_test_photo(tmp_path, sample_after, sample_test, capsys):
    test = shutil.copy(sample_test, tmp_path / "mine.jpg")
    before = _md5(test)
    for extra in (["--save-defiltered", test, "--preview", tmp_path / "sheet.png"], ["--preview", test]):
        code, _, err = run(["fit", sample_after, "-o", tmp_path / "l.cube", "--test-photo", test, *extra], capsys)
        assert_bad_input(code, err, "mine.jpg")
        assert "same as an input" in err
    assert _md5(test) == before and sorted(p.name for p in tmp_path.iterdir()) == ["mine.jpg"]


def test_a_bad_image_output_extension_writes_no_look(tmp_path, sample_after, capsys):
    for flag in ("--preview", "--save-defiltered"):
        code, _, err = run(["fit", sample_after, "-o", tmp_path / "l.cube", flag, tmp_path / "x.xyz"], capsys)
        assert_bad_input(code, err, "x.xyz")
    assert list(tmp_path.iterdir()) == []


def test_an_output_with_a_trailing_slash_is_a_folder_not_a_file(tmp_path, sample_after, sample_before, sample_test,
                                                                capsys):
    code, _, err = run(["fit", sample_after, "-o", f"{tmp_path}/look.cube/"], capsys)
    assert_bad_input(code, err, "look.cube/")
    assert list(tmp_path.iterdir()) == []
    code, _, err = run(["fit", sample_after, "--original", sample_before, "-o", tmp_path / "l.cube"], capsys)
    assert code == 0, err
    code, _, err = run(["apply", tmp_path / "l.cube", sample_test, "-o", f"{tmp_path}/graded.jpg/"], capsys)
    assert_bad_input(code, err, "graded.jpg/")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.cube"]


def test_a_newline_in_a_name_keeps_the_cube_readable(tmp_path, sample_after, sample_before, capsys):
    odd = tmp_path / "nl\nLUT_3D_SIZE 5.jpg"
    shutil.copy(sample_after, odd)
    for extra in (["--name", "evil\nLUT_3D_SIZE 2"], []):
        out = tmp_path / f"n{len(extra)}.cube"
        code, _, err = run(["fit", odd, "--original", sample_before, "-o", out, *extra], capsys)
        assert code == 0, err
        lut = lf.read_lut(out)  # a header line of its own would have made it unreadable
        assert lut.size == 33 and "\n" not in lut.title
        assert [line for line in out.read_text().splitlines() if line.startswith("LUT_")] == ["LUT_3D_SIZE 33"]


def test_a_transparent_template_is_named(tmp_path, capsys):
    Image.fromarray(np.zeros((40, 40, 4), np.uint8)).save(tmp_path / "clear.png")
    code, _, err = run(["fit", tmp_path / "clear.png", "-o", tmp_path / "l.cube"], capsys)
    assert_bad_input(code, err, "clear.png")
    assert "transparent" in err


def test_info_on_garbage_or_a_folder_says_what_it_is(tmp_path, capsys):
    (tmp_path / "x.look.npz").write_text("hello")
    code, _, err = run(["info", tmp_path / "x.look.npz"], capsys)
    assert_bad_input(code, err, "x.look.npz")
    assert "pickle" not in err and "not an .npz archive" in err  # never numpy's advice to load it unsafely
    (tmp_path / "adir").mkdir()
    code, _, err = run(["info", tmp_path / "adir"], capsys)
    assert_bad_input(code, err, "adir")
    assert "folder" in err


def test_frames_under_2x2_are_refused_for_h264():
    say_if_odd_size(3, 5, "x.mp4")  # odd: written a column and a row smaller, with a warning
    for w, h in ((1, 1), (400, 1), (1, 4)):
        with pytest.raises(OutputError, match=f"{w}x{h} frames cannot be written"):
            say_if_odd_size(w, h, "x.mp4")


def test_live_on_a_one_pixel_image_is_one_line_and_releases_the_detector(tmp_path, sample_after, sample_before,
                                                                       capsys):
    code, _, err = run(["fit", sample_after, "--original", sample_before, "-o", tmp_path / "l.cube"], capsys)
    assert code == 0, err
    Image.fromarray(np.full((1, 1, 3), 100, np.uint8)).save(tmp_path / "dot.png")
    r = cli("live", "--template", tmp_path / "l.cube", "--input", tmp_path / "dot.png", "--frames", 3,
            "--record", tmp_path / "out.mp4", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "1x1 frames cannot be written as H.264" in r.stderr
    # nothing after the error line: the face detector was closed, not collected at exit ("Exception ignored")
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_live_pick_beyond_the_readings_names_the_look(tmp_path, sample_after, capsys):
    code, _, err = run(["fit", sample_after, "-o", tmp_path / "l.look.npz"], capsys)
    assert code == 0, err
    code, _, err = run(["live", "--template", tmp_path / "l.look.npz", "--synthetic", "--frames", 2,
                        "--record", tmp_path / "o.mp4", "--pick", 99], capsys)
    err = "\n".join(line for line in err.splitlines() if "render backend" not in line)
    assert_bad_input(code, err, "l.look.npz")
    assert "--pick 99" in err


def _animation(path, frames: int = 4, size=(60, 40)) -> None:
    rng = np.random.default_rng(0)
    imgs = [Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)) for _ in range(frames)]
    imgs[0].save(path, save_all=True, append_images=imgs[1:], duration=100, loop=0)


@pytest.mark.parametrize("name", ["clip.webp", "clip.png"])
def test_apply_refuses_an_animated_image_instead_of_writing_its_first_frame(tmp_path, name, capsys):
    _animation(tmp_path / name)
    code, _, err = run(["apply", DATA / "tiny_2.cube", tmp_path / name,
                        "-o", tmp_path / f"out_{name}"], capsys)
    assert_bad_input(code, err, name)
    assert "animated image (4 frames)" in err and sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_fit_says_an_animated_template_is_read_from_its_first_frame(tmp_path, capsys):
    _animation(tmp_path / "clip.webp")
    code, out, _ = run(["fit", tmp_path / "clip.webp", "-o", tmp_path / "look.cube"], capsys)
    assert code == 0 and "an animated image (4 frames); the look is read from its first frame" in out


def test_a_multipage_tiff_is_still_a_photo(tmp_path, capsys):
    pages = [Image.fromarray(np.full((40, 60, 3), v, np.uint8)) for v in (90, 200)]  # e.g. a scanner's thumbnail
    pages[0].save(tmp_path / "scan.tif", save_all=True, append_images=pages[1:])
    code, out, err = run(["apply", DATA / "tiny_2.cube",
                          tmp_path / "scan.tif", "-o", tmp_path / "out.tif"], capsys)
    assert code == 0, err
    assert lf.read_image(tmp_path / "out.tif").shape == (40, 60, 3)


def test_an_unknown_option_points_to_its_commands_help(capsys):
    with pytest.raises(SystemExit) as exc:  # argparse's usage mistakes exit from the parser
        run(["info", "x.cube", "--wat"], capsys)
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.strip() == "livefilter: error: unrecognized arguments: --wat (see: livefilter info --help)"


def test_live_pick_a_fit_cannot_give_is_refused_before_the_fit(tmp_path, sample_after, sample_before, capsys,
                                                               monkeypatch):
    """A photo or a video is read live as at most 4 readings, a pair as one look: a --pick beyond is one line
    before anything is fitted (a video's stills take seconds to read) or opened; beyond what any look holds, no
    hint to fit more."""
    import livefilter.live.looks as looks

    def no_fit(*a, **k):
        raise AssertionError("fitted before refusing")

    monkeypatch.setattr(looks, "fit_look", no_fit)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")  # never read: the refusal is by its kind
    for template, extra, pick, said in (
            (sample_after, [], 5, "at most 4 readings (for more: livefilter fit"),
            (sample_after, [], 10, "a photo as at most 4 readings"),
            (clip, [], 5, "a video as at most 4 readings"),
            (sample_after, ["--original", sample_before], 2, "has one reading")):
        code, _, err = run(["live", "--template", template, *extra, "--synthetic", "--frames", 2,
                            "--record", tmp_path / "o.mp4", "--pick", pick], capsys)
        assert_bad_input(code, err, Path(template).name)
        assert f"--pick {pick}" in err and said in err, err
        assert pick <= 9 or "for more" not in err, err  # fit --candidates takes at most 9
    assert not (tmp_path / "o.mp4").exists()


def test_a_look_format_fit_cannot_write_is_refused_before_the_fit(tmp_path, sample_after, capsys, monkeypatch):
    import livefilter.look.fit as fit

    monkeypatch.setattr(fit, "fit_look", lambda *a, **k: (_ for _ in ()).throw(AssertionError("fitted")))
    for name in ("look.txt", "look"):
        code, _, err = run(["fit", sample_after, "-o", tmp_path / name], capsys)
        assert_bad_input(code, err, name)
        assert "unknown look format" in err
    assert list(tmp_path.iterdir()) == []


def test_readings_asked_of_a_pair_are_refused_before_the_fit(tmp_path, sample_after, sample_before, capsys,
                                                               monkeypatch):
    """A look learnt with its original is one look: --candidates above 1 with --original is one line, not ignored."""
    import livefilter.cli.fit as fit

    monkeypatch.setattr(fit, "fit_look", lambda *a, **k: (_ for _ in ()).throw(AssertionError("fitted")))
    code, _, err = run(["fit", sample_after, "--original", sample_before, "--candidates", 4, "-o",
                        tmp_path / "a.cube"], capsys)
    assert_bad_input(code, err, "--candidates 4: a look learnt with --original has one reading")
    assert not (tmp_path / "a.cube").exists()


def test_allow_large_reaches_the_looks_scene(tmp_path, sample_after, capsys, monkeypatch):
    """fit --allow-large on a photo over the size limit keeps its scene (it warned 'pass --allow-large' and saved
    the look without one)."""
    import livefilter.imageio as lio

    big = tmp_path / "big.jpg"
    Image.open(sample_after).resize((1200, 800)).save(big)
    monkeypatch.setattr(lio, "MAX_PIXELS", 900_000)  # that photo is then "large" (the bundled ones, 0.4 MP, not)
    code, _, err = run(["fit", big, "-o", tmp_path / "l.look.npz"], capsys)
    assert_bad_input(code, err, "allow-large")
    code, _, err = run(["fit", big, "-o", tmp_path / "l.look.npz", "--allow-large"], capsys)
    assert code == 0 and "keeps no scene" not in err, err
    assert "scene" in lf.load_look(tmp_path / "l.look.npz").meta


def test_a_hald_png_that_cannot_be_written_is_one_line_with_the_reason(tmp_path, monkeypatch):
    """A full disk while writing a HaldCLUT: one line naming the file and why (it was libpng's own 'Write Error'
    line, then 'could not write the PNG'), nothing left behind."""
    from pathlib import Path as P

    def full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(P, "write_bytes", full)
    with pytest.raises(OutputError, match="No space left on device"):
        lf.write_lut(tmp_path / "h.png", lf.Lut.identity(9))
    assert list(tmp_path.iterdir()) == []


def test_a_contact_sheet_that_cannot_be_written_after_the_look_is_a_failure_that_keeps_the_look(
        tmp_path, sample_after, capsys, monkeypatch):
    """The look is written first; a full disk on --preview then is one line saying the look was written, exit 1 (a
    failure part-way), not 2 (which says nothing was written)."""
    import livefilter.cli.fit as cli_fit

    def full(path, *a, **k):
        raise OutputError("cannot write the file (No space left on device)", path)

    monkeypatch.setattr(cli_fit, "write_image", full)
    code, out, err = run(["fit", sample_after, "-o", tmp_path / "l.cube", "--preview", tmp_path / "s.png"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert "s.png" in err and "No space left" in err and "l.cube was written" in err
    assert (tmp_path / "l.cube").is_file() and not (tmp_path / "s.png").exists()
