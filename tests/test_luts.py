import subprocess

import numpy as np
import pytest

import livefilter as lf
from livefilter.errors import LutFormatError
from livefilter.imageio import read_image
from livefilter.luts import format_cube, read_cube, read_hald, read_lut, write_cube, write_hald
from livefilter.luts.lut import Lut, identity_table

from .conftest import DATA, apply_float_look


def test_golden_swap_cube():
    lut = read_cube(DATA / "tiny_2.cube")
    assert lut.title == "swap red blue" and lut.size == 2
    x = np.array([[0.1, 0.5, 0.9], [1.0, 0.0, 0.25]])
    assert np.allclose(lut.apply_float(x), x[:, ::-1], atol=1e-6)


def test_golden_1d_cube_becomes_3d():
    lut = read_cube(DATA / "tiny_1d.cube")
    x = np.array([[0.0, 0.5, 1.0], [0.25, 0.75, 0.1]])
    assert np.allclose(lut.apply_float(x), 1 - x, atol=1e-6)


def test_golden_domain_cube():
    lut = read_cube(DATA / "tiny_domain.cube")
    assert lut.domain_max == (2.0, 2.0, 2.0)
    x = np.array([[0.2, 0.4, 0.6]])
    assert np.allclose(lut.apply_float(x), x, atol=1e-6)


def test_resolve_input_range_keyword():
    lut = read_cube(DATA / "resolve_range.cube")
    assert lut.domain_min == (0.0, 0.0, 0.0) and lut.domain_max == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("size", [2, 17, 33])
def test_cube_round_trip(tmp_path, size):
    rng = np.random.default_rng(size)
    lut = Lut(np.clip(identity_table(size) + rng.normal(0, 0.05, (size, size, size, 3)), -0.1, 1.1),
              title="round trip", domain_min=(0, 0, 0), domain_max=(1, 1, 1))
    write_cube(tmp_path / "a.cube", lut, comments=["hello"])
    back = read_cube(tmp_path / "a.cube")
    assert back.title == "round trip"
    assert np.abs(back.table - lut.table).max() < 1e-6
    text = (tmp_path / "a.cube").read_text()
    assert text.startswith("# hello\nTITLE") and f"LUT_3D_SIZE {size}" in text
    assert not list(tmp_path.glob(".*"))  # no temporary files left


def test_cube_red_is_fastest():
    t = identity_table(2)
    rows = format_cube(Lut(t)).strip().splitlines()[-8:]
    assert rows[1] == "1.000000 0.000000 0.000000"
    assert rows[2] == "0.000000 1.000000 0.000000"


BAD_CUBES = {
    "wrong row count": ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 7, "needs 8 data rows, found 7"),
    "size too small": ("LUT_3D_SIZE 1\n0 0 0\n", "LUT_3D_SIZE must be 2..256"),
    "size too big": ("LUT_3D_SIZE 257\n", "LUT_3D_SIZE must be 2..256"),
    "text in data": ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 3 + "0 zero 0\n" + "0 0 0\n" * 4, "text where numbers"),
    "text line in data": ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 3 + "hello\n" + "0 0 0\n" * 4, "text in the data"),
    "nan": ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 3 + "nan 0 0\n" + "0 0 0\n" * 4, "NaN or infinite"),
    "inf": ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 3 + "0 inf 0\n" + "0 0 0\n" * 4, "NaN or infinite"),
    "domain reversed": ("LUT_3D_SIZE 2\nDOMAIN_MIN 1 0 0\nDOMAIN_MAX 1 1 1\n" + "0 0 0\n" * 8, "DOMAIN_MIN"),
    "1d and 3d, rows for 3D only": ("LUT_1D_SIZE 2\nLUT_3D_SIZE 2\n" + "0 0 0\n" * 8, "needs 10 data rows, found 8"),
    "no size": ("0 0 0\n" * 8, "no LUT_3D_SIZE"),
    "two numbers": ("LUT_3D_SIZE 2\n" + "0 0\n" + "0 0 0\n" * 7, "needs 3 numbers"),
    "unknown keyword": ("LUT_3D_SIZE 2\nFOO 1\n" + "0 0 0\n" * 8, "unknown keyword"),
    # a spreadsheet's decimal comma: it was "unknown keyword '0,000000'"
    "decimal comma": ("LUT_3D_SIZE 2\n" + "0,000000 0,000000 0,000000\n" * 8, "a decimal comma in '0,000000'"),
    # a spreadsheet writes zero as 0: the first comma comes later (a review)
    "decimal comma later": ("LUT_3D_SIZE 2\n0 0 0\n0,5 0 0\n" + "0 0 0\n" * 6, "a decimal comma in '0,5'"),
    "decimal comma mid-row": ("LUT_3D_SIZE 2\n0 0 0\n0 0,5 0\n" + "0 0 0\n" * 6, "a decimal comma in '0,5'"),
}


@pytest.mark.parametrize("case", sorted(BAD_CUBES))
def test_bad_cube_files(tmp_path, case):
    text, expected = BAD_CUBES[case]
    p = tmp_path / "bad.cube"
    p.write_text(text)
    with pytest.raises(LutFormatError) as exc:
        read_cube(p)
    assert expected in str(exc.value) and str(p) in str(exc.value)
    assert "\n" not in str(exc.value)


# README: a bad .cube gives "an error naming the file and line". Where the fault sits on one line, that line:
BAD_CUBE_LINES = {"size too small": 1, "size too big": 1, "text in data": 5, "text line in data": 5, "nan": 5,
                  "inf": 5, "two numbers": 2, "unknown keyword": 2, "decimal comma": 2,
                  "decimal comma later": 3, "decimal comma mid-row": 3}
# Faults of the whole file name a line too (README's table lists them among the errors naming the line): a wrong
# row count the line where the rows ran out (or the first row too many), a reversed domain its DOMAIN line
BAD_CUBE_LINES.update({"wrong row count": 8, "domain reversed": 3, "1d and 3d, rows for 3D only": 10})


@pytest.mark.parametrize("case", sorted(BAD_CUBE_LINES))
def test_bad_cube_errors_name_the_line(tmp_path, case):
    text, _ = BAD_CUBES[case]
    p = tmp_path / "bad.cube"
    p.write_text(text)
    with pytest.raises(LutFormatError) as exc:
        read_cube(p)
    line = BAD_CUBE_LINES.get(case)
    assert exc.value.line is not None and (line is None or exc.value.line == line)
    assert f"line {exc.value.line}:" in str(exc.value) and str(p) in str(exc.value)


def test_binary_file_is_not_a_cube(tmp_path):
    p = tmp_path / "bin.cube"
    p.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(LutFormatError, match="not a text"):
        read_cube(p)


@pytest.mark.parametrize("level,bits", [(2, 8), (4, 16), (8, 16)])
def test_hald_round_trip(tmp_path, level, bits):
    n = level * level
    rng = np.random.default_rng(level)
    # a colour map a Hald can hold (noise of twice the node step at level 8 is no smooth map: refused as a photo)
    lut = Lut(np.clip(identity_table(n) ** 1.2 + rng.normal(0, 0.25 / (n - 1), (n, n, n, 3)), 0, 1))
    write_hald(tmp_path / "h.png", lut, level=level, bits=bits)
    back = read_hald(tmp_path / "h.png")
    assert back.size == n
    assert np.abs(back.table - lut.table).max() <= (0.5 / 255 if bits == 8 else 0.5 / 65535) + 1e-6


def test_hald_identity_and_layout(tmp_path):
    write_hald(tmp_path / "id.png", Lut.identity(16), level=4, bits=8)
    img = read_image(tmp_path / "id.png")
    assert img.shape == (64, 64, 3)
    # pixel i = r + 16 g + 256 b, red fastest
    assert tuple(img[0, 1]) == (17, 0, 0) and tuple(img[1, 0]) == (0, 68, 0)


def test_hald_rejects_non_hald(tmp_path):
    from livefilter.imageio import write_image

    write_image(tmp_path / "x.png", np.zeros((10, 12, 3), np.uint8))
    with pytest.raises(LutFormatError, match="square image"):
        read_hald(tmp_path / "x.png")


@pytest.mark.parametrize("mix", [(1, 0, 0), (0.8, 0, 0.2), (0, 1, 0), (0, 0, 1)])
def test_a_hald_of_a_look_that_ignores_channels_is_a_hald(tmp_path, mix):
    """A black-and-white red-filter look (every channel from red alone) was refused as "a photo?": its image's
    columns, a green step of L apart, do not change. Each lattice axis is now measured on its own."""
    import cv2

    from livefilter.imageio import write_image
    from livefilter.luts import looks_like_hald
    from livefilter.resources import sample_path

    ident = identity_table(64)
    grey = (ident @ np.asarray(mix, np.float32)) ** 0.8
    write_hald(tmp_path / "bw.png", Lut(np.repeat(grey[..., None], 3, axis=3)), level=8)
    assert looks_like_hald(tmp_path / "bw.png")
    x = np.random.default_rng(0).integers(0, 256, (4, 4, 3)).astype(np.uint8)
    expect = (x.astype(np.float32) / 255 @ np.asarray(mix, np.float32)) ** 0.8
    assert np.abs(lf.render(x, read_lut(tmp_path / "bw.png")).astype(np.float32)[..., 0] - expect * 255).max() < 2
    # a photo of a Hald's size is still no Hald, nor a flat image
    photo = read_image(sample_path("sample_before.jpg"))
    write_image(tmp_path / "photo.png", cv2.resize(photo, (512, 512), interpolation=cv2.INTER_AREA))
    write_image(tmp_path / "flat.png", np.full((512, 512, 3), 90, np.uint8))
    assert not looks_like_hald(tmp_path / "photo.png") and not looks_like_hald(tmp_path / "flat.png")


@pytest.mark.parametrize("level", [8, 12])
def test_a_hald_of_a_steep_tone_curve_is_a_hald(tmp_path, level):
    """Linear to PQ (a technical LUT): its one-node steps near black are far larger than the rest, and a check of
    one-node against L-node steps took it for a photo (from a review)."""
    m1, m2, c1, c2, c3 = 0.1593017578125, 78.84375, 0.8359375, 18.8515625, 18.6875
    y = identity_table(level * level) ** m1
    write_hald(tmp_path / "pq.png", Lut(((c1 + c2 * y) / (1 + c3 * y)) ** m2), level=level)
    assert read_hald(tmp_path / "pq.png").size == level * level


def test_read_lut_dispatch(tmp_path):
    with pytest.raises(LutFormatError, match="not a look file"):
        read_lut(tmp_path / "x.csp")  # .3dl is read now; Cinespace .csp is not


def test_real_film_hald_reads(shared_data):
    path = sorted((shared_data / "looks" / "film" / "color").rglob("*.png"))[0]
    lut = read_hald(path)
    assert lut.size == 64 and 0 <= lut.table.min() and lut.table.max() <= 1


def test_ffmpeg_lut3d_matches_our_render(tmp_path, ffmpeg, photo):
    """Our .cube applied by ffmpeg's lut3d equals our own render within 1 code value."""
    tpl = apply_float_look(photo)
    look = lf.fit_look(tpl, photo)
    look.save(tmp_path / "look.cube")
    h, w = photo.shape[:2]
    for interp in ("trilinear", "tetrahedral"):
        cmd = [ffmpeg, "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-i", "-",
               "-vf", f"lut3d=file={tmp_path / 'look.cube'}:interp={interp}", "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-"]
        res = subprocess.run(cmd, input=photo.tobytes(), capture_output=True, check=True)
        theirs = np.frombuffer(res.stdout, np.uint8).reshape(h, w, 3)
        ours = lf.render(photo, lf.load_look(tmp_path / "look.cube"), interp=interp)
        assert np.abs(theirs.astype(int) - ours).max() <= 1, interp


@pytest.mark.parametrize("line, title", [
    ('TITLE "Teal Orange" # exported by X', "Teal Orange"),  # the comment was part of the name
    ('TITLE "My "Teal" look"', 'My "Teal" look'),
    ('TITLE "Has # inside"', "Has # inside"),
    ("TITLE Look #2", "Look #2"),  # unquoted: as written, as before
    ('TITLE "Unclosed # quote', "Unclosed # quote"),
])
def test_a_cube_title_is_its_quoted_name(tmp_path, line, title):
    body = "LUT_3D_SIZE 2\n" + "".join(f"{r} {g} {b}\n" for b in (0, 1) for g in (0, 1) for r in (0, 1))
    (tmp_path / "t.cube").write_text(line + "\n" + body)
    assert read_cube(tmp_path / "t.cube").title == title


def test_a_damaged_hald_is_one_line(tmp_path, capfd):
    # OpenCV's libpng printed 'libpng error: Read Error' on the terminal before livefilter's own line
    from livefilter.cli import main

    write_hald(tmp_path / "h.png", Lut.identity(8), level=4)
    (tmp_path / "cut.png").write_bytes((tmp_path / "h.png").read_bytes()[:2000])
    assert main(["info", str(tmp_path / "cut.png")]) == 2
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "cut.png: a damaged image, or one OpenCV cannot read" in err, err


@pytest.mark.parametrize("name", ["look.cube", "look.look.npz", "look.png", "photo.jpg"])
def test_a_file_the_user_may_not_read_is_said_as_such(tmp_path, monkeypatch, capsys, name):
    # a .cube said a raw PermissionError (exit 1), a .look.npz "corrupt", a photo "cannot decode image"
    import builtins
    import io

    from livefilter.cli import main
    from livefilter.resources import DATA_DIR

    look = lf.fit_look(DATA_DIR / "sample_before.jpg", original=DATA_DIR / "sample_after.jpg")
    look.save(tmp_path / "look.look.npz")
    write_cube(tmp_path / "look.cube", look.lut)
    write_hald(tmp_path / "look.png", look.lut, level=4)
    (tmp_path / "photo.jpg").write_bytes((DATA_DIR / "sample_test.jpg").read_bytes())
    real = builtins.open

    def denied(file, *a, **kw):  # as chmod 000 does to anyone but root (the tests may run as root)
        if str(file).endswith(name):
            raise PermissionError(13, "Permission denied", str(file))
        return real(file, *a, **kw)

    monkeypatch.setattr(builtins, "open", denied)
    monkeypatch.setattr(io, "open", denied)
    look_arg, photo = (name, "photo.jpg") if name != "photo.jpg" else ("look.cube", name)
    code = main(["apply", str(tmp_path / look_arg), str(tmp_path / photo), "-o", str(tmp_path / "out.jpg")])
    err = capsys.readouterr().err
    assert code == 2 and err == f"livefilter: error: {tmp_path / name}: cannot read (Permission denied)\n", err
    if name.endswith((".cube", ".png")):  # the readers' own message (the Python API's read_lut)
        with pytest.raises(LutFormatError, match=r"cannot read \(Permission denied\)"):
            read_lut(tmp_path / name)
