"""Foreign LUT files render as colour-science renders them, within 1 code value.

Files written by colour-science (Iridas DOMAIN_MIN/MAX, Resolve INPUT_RANGE, 1D curves of 1024 and 4096 entries,
a 1D shaper + 3D LUT, 2^3 and 65^3 cubes) and colour-science's own bundled .cube test files are read by
livefilter and rendered by the CPU renderer (the baked 256^3 table) and the float reference; colour-science
applies the same file to the same pixels (trilinear, inputs clamped to the domain as the Resolve and Adobe
specifications say, and as OpenColorIO does)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import livefilter as lf
from livefilter.luts import read_lut, write_lut
from livefilter.luts.lut import Lut

colour = pytest.importorskip("colour", reason="colour-science is not installed (pip install -e '.[dev]')")
from colour.io.luts import (  # noqa: E402
    LUT3D,
    LUT3x1D,
    LUTSequence,
    read_LUT_IridasCube,
    read_LUT_ResolveCube,
    write_LUT_IridasCube,
    write_LUT_ResolveCube,
)

RESOURCES = Path(colour.__file__).parent / "io" / "luts" / "tests" / "resources"


def _pixels() -> np.ndarray:
    """Every grey level, every pure primary ramp and 4096 random colours: (96, 128, 3) uint8."""
    rng = np.random.default_rng(0)
    v = np.arange(256, dtype=np.uint8)
    z = np.zeros(256, np.uint8)
    ramps = [np.stack([v, v, v], 1), np.stack([v, z, z], 1), np.stack([z, v, z], 1), np.stack([z, z, v], 1),
             np.stack([v, 255 - v, v // 2], 1)]
    rand = rng.integers(0, 256, (96 * 128 - 256 * len(ramps), 3), dtype=np.uint8)
    return np.concatenate(ramps + [rand]).reshape(96, 128, 3)


PIXELS = _pixels()


def _colour_render(lut, pixels=PIXELS) -> np.ndarray:
    x = pixels.astype(np.float64) / 255.0
    if isinstance(lut, LUTSequence):
        y = x
        for step in lut:
            y = _apply(step, y)
    else:
        y = _apply(lut, x)
    return np.clip(np.floor(np.clip(y, 0, 1) * 255 + 0.5), 0, 255).astype(np.uint8)


def _apply(step, x):
    if isinstance(step, LUT3x1D) or step.dimensions == 1:
        # clamp outside the domain (Resolve/Adobe spec, OCIO); colour-science extrapolates 1D LUTs by default
        return step.apply(x, extrapolator_kwargs={"method": "Constant"})
    return step.apply(x)


def _max_diff(ours: np.ndarray, theirs: np.ndarray) -> int:
    return int(np.abs(ours.astype(int) - theirs.astype(int)).max())


def _check(path: Path, reference) -> dict:
    lut = read_lut(path)
    want = _colour_render(reference)
    fast = lf.render(PIXELS, lut)
    ref = np.clip(np.floor(np.clip(lut.apply_float(PIXELS / 255.0), 0, 1) * 255 + 0.5), 0, 255).astype(np.uint8)
    diffs = {"render": _max_diff(fast, want), "apply_float": _max_diff(ref, want)}
    assert diffs["render"] <= 1 and diffs["apply_float"] <= 1, (path.name, diffs)
    return diffs


def _srgb_eotf(x):
    x = np.asarray(x, dtype=np.float64)
    return np.where(x <= 0.04045, x / 12.92, np.sign(x) * ((np.abs(x) + 0.055) / 1.055) ** 2.4)


def _look(x):
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([0.9 * np.abs(r) ** 0.8 + 0.1 * g, 0.05 + 0.85 * np.abs(g) ** 1.1, 0.15 + 0.6 * b + 0.1 * r], -1)


def _cube3d(size, domain, fn) -> LUT3D:
    lut = LUT3D(size=size, domain=np.asarray(domain, dtype=np.float64))
    lut.table = fn(lut.table)
    return lut


DOMAINS = {
    "-0.1..1.5 sRGB EOTF": ([[-0.1] * 3, [1.5] * 3], _srgb_eotf),
    "0..0.1 gamma over the domain": ([[0.0] * 3, [0.1] * 3], lambda t: np.sqrt(np.clip(t, 0, None) / 0.1)),
    "per-channel sRGB EOTF": ([[-0.1, -0.15, -0.2], [1.5, 2.0, 3.0]], _srgb_eotf),
}


@pytest.mark.parametrize("case", sorted(DOMAINS))
def test_domain_cube_written_by_colour_renders_like_colour(tmp_path, case):
    domain, fn = DOMAINS[case]
    ref = _cube3d(9, domain, fn)
    write_LUT_IridasCube(ref, tmp_path / "dom.cube")
    _check(tmp_path / "dom.cube", ref)
    if len({*domain[0]}) == 1 and len({*domain[1]}) == 1:  # Resolve writes one range for all channels
        write_LUT_ResolveCube(ref, tmp_path / "dom_resolve.cube")
        assert "LUT_3D_INPUT_RANGE" in (tmp_path / "dom_resolve.cube").read_text()
        _check(tmp_path / "dom_resolve.cube", ref)


@pytest.mark.parametrize("size", [1024, 4096])
def test_long_1d_curve_written_by_colour_renders_like_colour(tmp_path, size):
    ref = LUT3x1D(size=size)
    ref.table = ref.table ** (1 / 2.2) * np.array([1.0, 0.95, 0.9])  # steepest near black, where a squeeze hurts
    write_LUT_IridasCube(ref, tmp_path / "curve.cube")
    assert f"LUT_1D_SIZE {size}" in (tmp_path / "curve.cube").read_text()
    _check(tmp_path / "curve.cube", ref)
    lut = read_lut(tmp_path / "curve.cube")
    assert lut.is_1d and lut.shaper.shape == (size, 3)


def test_shaper_plus_3d_written_by_colour_renders_like_colour(tmp_path):
    shaper = LUT3x1D(size=4096, domain=np.array([[-0.05] * 3, [1.2] * 3]))
    shaper.table = np.log2(1 + 7 * np.clip(shaper.table, 0, None)) / 3  # a log shaper, 0 .. 1.05
    cube = _cube3d(17, [[0.0] * 3, [1.05] * 3], lambda t: _look(np.clip(2 ** (3 * t) - 1, 0, None) / 7))
    ref = LUTSequence(shaper, cube)
    write_LUT_ResolveCube(ref, tmp_path / "shaper.cube")
    text = (tmp_path / "shaper.cube").read_text()
    assert "LUT_1D_SIZE 4096" in text and "LUT_3D_SIZE 17" in text and "LUT_1D_INPUT_RANGE" in text
    _check(tmp_path / "shaper.cube", ref)
    assert read_lut(tmp_path / "shaper.cube").kind == "1D shaper + 3D"


@pytest.mark.parametrize("size", [2, 65])
def test_3d_cube_sizes_written_by_colour_render_like_colour(tmp_path, size):
    ref = _cube3d(size, [[0.0] * 3, [1.0] * 3], _look)
    write_LUT_IridasCube(ref, tmp_path / "c.cube")
    _check(tmp_path / "c.cube", ref)


BUNDLED = sorted((RESOURCES / "iridas_cube").glob("*.cube")) + sorted((RESOURCES / "resolve_cube").glob("*.cube"))


@pytest.mark.parametrize("path", BUNDLED, ids=[f"{p.parent.name}/{p.name}" for p in BUNDLED])
def test_colour_bundled_cube_files_render_like_colour(path):
    reader = read_LUT_ResolveCube if path.parent.name == "resolve_cube" else read_LUT_IridasCube
    with warnings.catch_warnings():
        # eotf_sRGB_3D.cube (Resolve) has a LUT_1D_INPUT_RANGE and only a 3D LUT: we warn and ignore it, as
        # colour-science ignores it
        warnings.simplefilter("ignore")
        _check(path, reader(str(path)))


def test_our_shaper_and_1d_cubes_are_read_back_by_colour(tmp_path):
    shaper = np.linspace(0, 1, 1024)[:, None] ** np.array([0.5, 0.6, 0.7])
    grid = lf.Lut.identity(9).table
    lut = Lut(_look(grid), title="ours", shaper=shaper, shaper_min=(-0.1,) * 3, shaper_max=(1.1,) * 3)
    write_lut(tmp_path / "s.cube", lut)
    seq = read_LUT_ResolveCube(str(tmp_path / "s.cube"))
    assert isinstance(seq, LUTSequence)
    assert _max_diff(lf.render(PIXELS, lut), _colour_render(seq)) <= 1
    curves = Lut.from_curves(shaper, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), title="curve")
    write_lut(tmp_path / "c.cube", curves)
    assert "LUT_3D_SIZE" not in (tmp_path / "c.cube").read_text()
    assert _max_diff(lf.render(PIXELS, curves), _colour_render(read_LUT_IridasCube(str(tmp_path / "c.cube")))) <= 1


IDENTITY_2 = "".join(f"{r} {g} {b}\n" for b in (0, 1) for g in (0, 1) for r in (0, 1))


VIDEO = {
    "in": ("LUT_IN_VIDEO_RANGE\n", lambda v: 16 + v * 219 / 255),
    "out": ("LUT_OUT_VIDEO_RANGE\n", lambda v: (v - 16) * 255 / 219),
    "in and out": ("LUT_IN_VIDEO_RANGE\nLUT_OUT_VIDEO_RANGE\n", lambda v: v),
}


@pytest.mark.parametrize("case", sorted(VIDEO))
def test_resolve_video_range_keywords_scale_input_and_output(tmp_path, case):
    # an identity LUT that expects video-range input maps full-range 0..255 to 16..235; one whose output is video
    # range expands 16..235 to 0..255; both: identity again
    keywords, fn = VIDEO[case]
    p = tmp_path / "video.cube"
    p.write_text("LUT_3D_SIZE 2\n" + keywords + IDENTITY_2)
    v = np.arange(256, dtype=np.float64)
    want = np.clip(np.floor(fn(v) + 0.5), 0, 255)
    grey = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
    got = lf.render(grey, read_lut(p))[0, :, 0].astype(int)
    assert np.abs(got - want).max() <= 1


def test_3dl_reads_like_the_same_cube(tmp_path):
    n = 5
    grid = lf.Lut.identity(n).table.astype(np.float64)
    vals = np.clip(np.round(_look(grid) * 4095), 0, 4095).astype(int)  # [r, g, b]: blue fastest as written
    mesh = "0 256 512 767 1023"
    (tmp_path / "l.3dl").write_text("3DMESH\n" + mesh + "\n" + "".join(f"{r} {g} {b}\n" for r, g, b in
                                                                      vals.reshape(-1, 3)))
    lut = read_lut(tmp_path / "l.3dl")
    assert lut.size == n and np.allclose(lut.table, vals / 4095, atol=1e-6)
    want = np.clip(np.floor(np.clip(Lut(vals / 4095).apply_float(PIXELS / 255.0), 0, 1) * 255 + 0.5), 0, 255)
    assert _max_diff(lf.render(PIXELS, lut), want.astype(np.uint8)) <= 1


def test_a_lustre_3dl_s_mesh_line_is_its_grid_and_output_depth(tmp_path):
    # Lustre / Color Finesse write "Mesh 4 12": a grid of 2^4 + 1 points and 12-bit output. The 4 was taken for the
    # input's bits (a 0..15 scale against the mesh line's 0..1023): an identity file graded nearly black
    grid = np.round(lf.Lut.identity(17).table * 4095).astype(int)
    mesh = " ".join(str(v) for v in [*range(0, 1024, 64)][:16] + [1023])
    rows = "".join(f"{r} {g} {b}\n" for r, g, b in grid.reshape(-1, 3))
    header = "#Tokens required by applications - do not edit\n3DMESH\nMesh 4 12\n"
    (tmp_path / "id.3dl").write_text(header + mesh + "\n\n" + rows + "\nLUT8\ngamma 1.0\n")
    lut = read_lut(tmp_path / "id.3dl")
    assert lut.size == 17 and np.allclose(lut.domain_min, 0) and np.allclose(lut.domain_max, 1)
    assert _max_diff(lf.render(PIXELS, lut), PIXELS) <= 1
    dark = "".join("1000 1000 1000\n" for _ in range(17**3))  # never near its top: the Mesh line says 12 bits
    (tmp_path / "dark.3dl").write_text(header + mesh + "\n" + dark)
    assert np.allclose(read_lut(tmp_path / "dark.3dl").table, 1000 / 4095)


@pytest.mark.parametrize(("scale", "top", "read_as", "said"), [
    (4095, 4095, 4095, False),  # a 12-bit look: no doubt
    (1074, 1074, 1023, True),  # a 10-bit look overshooting white by 5 %: read so (OpenColorIO's limits), said
    (4095 * 0.45, 1843, 1023, True),  # a 12-bit look that darkens: the format cannot tell it from the one above
])
def test_a_3dl_without_a_mesh_line_says_a_depth_it_cannot_be_sure_of(tmp_path, scale, top, read_as, said):
    # a 12-bit look whose white is under 2048 (Nuke's layout: a 10-bit input mesh, no Mesh line) graded 4 times too
    # bright without a word; taking the least depth that holds the values instead read a 10-bit file's overshoot 4
    # times too dark (a review)
    grid = np.round(lf.Lut.identity(5).table * scale).astype(int)
    assert grid.max() == top
    p = tmp_path / "look.3dl"
    p.write_text("0 256 512 767 1023\n" + "".join(f"{r} {g} {b}\n" for r, g, b in grid.reshape(-1, 3)))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        lut = read_lut(p)
    assert np.allclose(lut.table, grid / read_as)
    lines = [str(w.message) for w in seen]
    assert lines == ([f"{p}: values up to {top} read as 10-bit (an overshoot over its 1023); a 12-bit file without "
                      "a Mesh line would grade 4 times too bright"] if said else []), lines


def test_a_3dl_written_as_decimals_is_read_as_0_to_1_values(tmp_path):
    # rows of 0..1 decimals (some tools write them) were read as 8-bit codes: a near-black picture, exit 0
    grid = lf.Lut.identity(5).table[..., ::-1]  # swap red and blue
    rows = "".join(f"{r:.6f} {g:.6f} {b:.6f}\n" for r, g, b in grid.reshape(-1, 3))
    p = tmp_path / "float.3dl"
    p.write_text("0 256 512 767 1023\n" + rows)
    assert _max_diff(lf.render(PIXELS, read_lut(p)), PIXELS[..., ::-1]) <= 1
    p.write_text("0.0 0.25 0.5 0.75 1.0\n" + rows)  # the mesh in decimals too
    assert _max_diff(lf.render(PIXELS, read_lut(p)), PIXELS[..., ::-1]) <= 1
    ints = np.round(lf.Lut.identity(5).table[..., ::-1] * 1023).astype(int)
    rows = "".join(f"{r} {g} {b}\n" for r, g, b in ints.reshape(-1, 3)).replace("1023 ", "1023. ", 1)
    p.write_text("0 256 512 767 1023\n" + rows)  # one "1023." in an integer file: still 10-bit codes (a review)
    assert _max_diff(lf.render(PIXELS, read_lut(p)), PIXELS[..., ::-1]) <= 1


def test_hald_written_from_a_domain_lut_is_sampled_from_it_directly(tmp_path):
    # A Hald's 64^3 grid over [0, 1] cannot hold a domain: it is sampled from the LUT itself (measured 2 code
    # values off colour-science here; 4 when it was resampled twice, through a 9^3 grid over [0, 1] first)
    ref = _cube3d(9, [[-0.1] * 3, [1.5] * 3], _srgb_eotf)
    write_LUT_IridasCube(ref, tmp_path / "dom.cube")
    lut = read_lut(tmp_path / "dom.cube")
    write_lut(tmp_path / "dom.png", lut)
    back = read_lut(tmp_path / "dom.png")
    assert _max_diff(lf.render(PIXELS, back), _colour_render(ref)) <= 2


def test_info_describes_1d_and_shaper_cubes(tmp_path, capsys):
    from livefilter.cli import main

    curves = Lut.from_curves(np.linspace(0, 1, 1024)[:, None] ** np.array([0.5, 0.6, 0.7]), title="gamma")
    write_lut(tmp_path / "c.cube", curves)
    assert main(["info", str(tmp_path / "c.cube")]) == 0
    out = capsys.readouterr().out
    assert "1D, 1024 entries per channel" in out and "^3" not in out
    shaper = Lut(lf.Lut.identity(17).table, shaper=curves.shaper)
    write_lut(tmp_path / "s.cube", shaper)
    assert main(["info", str(tmp_path / "s.cube")]) == 0
    assert "1D shaper (1024 entries" in capsys.readouterr().out
