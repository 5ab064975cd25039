import warnings

import numpy as np
import pytest

import livefilter as lf
from livefilter.imageio import read_image
from livefilter.look import bake, fit_look

from .conftest import apply_float_look, warm_look


@pytest.fixture(scope="module")
def pair():
    from .conftest import SAMPLES

    before = read_image(SAMPLES / "sample_before.jpg")
    return apply_float_look(before), before


@pytest.mark.parametrize("mapping", ["seed", "residual"])
@pytest.mark.parametrize("sampling", ["uniform", "salient"])
def test_fit_from_a_pair_learns_the_look(pair, mapping, sampling, sample_test):
    tpl, orig = pair
    look = fit_look(tpl, orig, mapping=mapping, sampling=sampling)
    test = read_image(sample_test)
    err = np.abs(look.apply(test).astype(int) - apply_float_look(test)).mean()
    identity_err = np.abs(test.astype(int) - apply_float_look(test)).mean()
    assert err < 0.25 * identity_err
    assert look.meta["mapping"] == mapping and look.meta["samples"] == 8000
    assert look.lut.size == 33


@pytest.mark.parametrize("mapping", ["seed", "residual"])
def test_direct_and_lut_rendering_agree_within_one_code_value(pair, mapping, sample_test):
    look = fit_look(*pair, mapping=mapping)
    for img in (read_image(sample_test), pair[1]):
        direct = look.apply(img, mode="direct")
        via_lut = look.apply(img, mode="lut")
        assert np.abs(direct.astype(int) - via_lut).max() <= 1


def test_direct_and_lut_agree_on_a_real_film_look(shared_data):
    path = sorted((shared_data / "looks" / "film" / "color").rglob("*.png"))[5]
    film = lf.read_lut(path)
    orig = read_image(sorted((shared_data / "photos" / "cq100").glob("*.jpg"))[1])
    look = fit_look(lf.render(orig, film), orig)
    test = read_image(sorted((shared_data / "photos" / "cq100").glob("*.jpg"))[2])
    assert np.abs(look.apply(test, mode="direct").astype(int) - look.apply(test)).max() <= 1


def test_fit_is_reproducible(pair):
    a, b = fit_look(*pair), fit_look(*pair)
    assert np.array_equal(a.lut.table, b.lut.table)
    c = fit_look(*pair, seed=1)
    assert not np.array_equal(a.lut.table, c.lut.table)


def test_save_load_npz_is_lossless(pair, tmp_path):
    look = fit_look(*pair)
    look.save(tmp_path / "x.look.npz")
    back = lf.load_look(tmp_path / "x.look.npz")
    assert np.array_equal(back.lut.table, look.lut.table)
    x = np.random.default_rng(0).random((100, 3))
    assert np.array_equal(back.mapping(x), look.mapping(x))
    assert back.meta["template_sha256"] == look.meta["template_sha256"]
    assert back.name == look.name


def test_cube_and_hald_export(pair, tmp_path):
    look = fit_look(*pair, name="warm")
    look.save(tmp_path / "x.cube")
    cube = lf.load_look(tmp_path / "x.cube")
    assert cube.name == "warm" and cube.mapping is None
    assert np.abs(cube.lut.table - look.lut.table).max() < 1e-6
    look.save(tmp_path / "x.png")
    hald = lf.load_look(tmp_path / "x.png")
    assert hald.lut.size == 64
    with pytest.raises(lf.InputError, match="no mapping"):
        cube.apply(pair[1], mode="direct")
    with pytest.raises(lf.InputError, match="unknown look format"):
        look.save(tmp_path / "x.txt")


def test_per_segment_mappings(pair):
    tpl, orig = pair
    h, w = orig.shape[:2]
    labels = np.zeros((h, w), np.int32)
    labels[:, w // 2:] = 1
    # the right half gets a different look: the per-segment mapping must learn it
    tpl2 = tpl.copy()
    tpl2[:, w // 2:] = apply_float_look(orig[:, w // 2:], lambda x: 1 - warm_look(x))
    look = fit_look(tpl2, orig, sampling="segments", labels=labels)
    assert sorted(look.label_luts) == [0, 1]
    out = look.apply(orig, labels=labels)
    assert np.abs(out[:, w // 2:].astype(int) - tpl2[:, w // 2:]).mean() < 6
    assert np.abs(out[:, : w // 2].astype(int) - tpl2[:, : w // 2]).mean() < 6
    direct = look.apply(orig, labels=labels, mode="direct")
    assert np.abs(direct.astype(int) - out).max() <= 1
    with pytest.raises(lf.InputError):
        fit_look(tpl, orig, sampling="segments")


def test_flat_template_gives_sane_look_with_warning():
    flat = np.full((64, 64, 3), 120, np.uint8)
    orig = np.full((64, 64, 3), 100, np.uint8)
    with pytest.warns(UserWarning, match="ill-defined"):
        look = fit_look(flat, orig)
    t = look.lut.table
    assert np.isfinite(t).all()
    assert np.abs(np.clip(t, 0, 1) - lf.identity_table(33)).mean() < 0.1


def test_monochrome_template(pair):
    tpl, orig = pair
    gray = np.repeat(tpl.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    look = fit_look(gray, orig)
    out = look.apply(orig).astype(int)
    assert np.abs(out[..., 0] - out[..., 2]).mean() < 3  # a B&W look stays B&W


def test_size_mismatch(pair):
    tpl, orig = pair
    import cv2

    half = cv2.resize(orig, (orig.shape[1] // 2, orig.shape[0] // 2), interpolation=cv2.INTER_AREA)
    with pytest.warns(UserWarning, match="resized"):
        fit_look(tpl, half)
    with pytest.raises(lf.InputError, match="aspect"):
        fit_look(tpl, orig[:, :300])


def test_without_original_needs_the_model(pair, no_defilter_model):
    with pytest.raises(lf.ModelError, match="original"):
        fit_look(pair[0])


def test_bad_arguments(pair):
    with pytest.raises(lf.InputError):
        fit_look(*pair, samples=100)
    with pytest.raises(lf.InputError):
        fit_look(*pair, sampling="random")
    with pytest.raises(lf.InputError):
        fit_look(pair[0].astype(float), pair[1])
    with pytest.raises(lf.InputError):
        fit_look(pair[0][:1, :1], pair[1][:1, :1])


def test_bake_grid_matches_mapping(pair):
    look = fit_look(*pair)
    lut = bake(look.mapping, 9)
    grid = lf.identity_table(9).reshape(-1, 3)
    assert np.allclose(lut.table.reshape(-1, 3), look.mapping(grid), atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_look(*pair)


def test_as_look_takes_a_look_a_lut_a_table_or_a_look_file(tmp_path):
    """livefilter.look.as_look: the one way from a caller's look argument to a Look (batch grading and the live
    pipeline's look files go through it)."""
    from livefilter.look import as_look
    from livefilter.luts.lut import Lut, identity_table

    table = np.clip(identity_table(9) * 0.8 + 0.1, 0, 1).astype(np.float32)
    look = lf.Look(lut=Lut(table, title="warm"))
    assert as_look(look) is look
    from_lut = as_look(Lut(table, title="warm"))
    assert from_lut.name == "warm" and np.array_equal(from_lut.lut.table, table)
    assert as_look(Lut(table)).name == "lut"
    from_array = as_look(table)
    frame = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    assert from_array.name == "lut" and np.array_equal(from_array.apply(frame), lf.render(frame, table))
    look.save(tmp_path / "warm.cube")
    assert np.allclose(as_look(tmp_path / "warm.cube").lut.table, table, atol=1e-5)
    with pytest.raises(lf.InputError, match="no such file"):
        as_look(tmp_path / "missing.cube")
