"""The template path as a chain of stages (livefilter.look): each takes the previous stage's result; fit_look is
their composition, so calling the stages by hand gives the same look."""

import warnings

import numpy as np
import pytest

import livefilter as lf
from livefilter.look import (
    Coverage,
    bake,
    confidence,
    coverage_of,
    describe_confidence,
    fit_look,
    fit_mappings,
    load_template,
    pairing_for,
    pixel_pairs,
)
from livefilter.look.coverage import covered
from livefilter.look.settings import DEFAULT

from ..conftest import apply_float_look


def test_stages_by_hand_equal_fit_look_with_an_original(photo):
    tpl_img = apply_float_look(photo)
    tpl = load_template(tpl_img)
    p = pairing_for(tpl, photo)
    # both at the fit's working size, pixel-aligned
    assert p.path == "original" and p.original.shape == p.template.shape == tpl.work.shape
    pairs = pixel_pairs(p, samples=6000, seed=3)
    glob, per = fit_mappings(pairs, "residual")
    assert per == {}
    cov = coverage_of(p, pairs)
    lut = bake(covered(glob, cov, DEFAULT.coverage_p0["original"]), 33)
    look = fit_look(tpl_img, photo, samples=6000, seed=3)
    assert np.array_equal(lut.table, look.lut.table)


def test_monochrome_template_is_routed_to_the_monochrome_path(photo, no_defilter_model):
    grey = np.repeat(photo.mean(2, keepdims=True).astype(np.uint8), 3, 2)
    p = pairing_for(load_template(grey))
    assert p.path == "monochrome" and p.original is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = pixel_pairs(p, samples=4000)
    assert pairs.src.shape == (4000, 3) and np.allclose(pairs.dst[:, 0], pairs.dst[:, 2], atol=0.02)


def test_one_photo_path_uses_the_shipped_model(photo):
    from livefilter.look import defilter

    if not defilter.MODEL_PATH.is_file():
        pytest.skip("models/defilter.onnx is not in this checkout")
    p = pairing_for(load_template(photo))
    assert p.path == "network" and p.change is not None and p.change >= 0
    assert p.original.shape == p.template.shape and p.template.shape[1] == 128


def test_confidence_flags_a_narrow_template_and_says_why():
    rng = np.random.default_rng(0)
    night = np.clip(np.array([10, 14, 40]) + rng.normal(0, 1, (4000, 1)) * np.array([4, 5, 14]), 0, 255) / 255.0
    wide = rng.random((4000, 3))
    from livefilter.look.fit import Pairing

    orig = Pairing(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2, 3), np.uint8), "original")
    narrow = confidence(orig, Coverage.of(night), 1.0, None)
    full = confidence(orig, Coverage.of(wide), 1.0, None)
    assert narrow["level"] == "low" and any("narrow" in w for w in narrow["why"]) and narrow["coverage"] < 0.08
    assert full["level"] == "high" and full["why"] == [] and full["coverage"] > 0.9
    assert "low" in describe_confidence(narrow) and "narrow" in describe_confidence(narrow)


def test_narrow_template_fit_warns_and_carries_confidence(tmp_path):
    rng = np.random.default_rng(0)
    orig = np.clip(np.array([10, 14, 40]) + rng.normal(0, 1, (64, 64, 1)) * np.array([4, 5, 14]), 0, 255)
    orig = orig.astype(np.uint8)
    tpl = np.clip(orig.astype(int) * np.array([0.8, 1.0, 1.3]), 0, 255).astype(np.uint8)
    with pytest.warns(UserWarning, match="narrow"):
        look = fit_look(tpl, orig)
    assert look.meta["confidence"]["level"] == "low"
    look.save(tmp_path / "n.look.npz")
    assert lf.load_look(tmp_path / "n.look.npz").meta["confidence"] == look.meta["confidence"]


def test_info_prints_the_confidence(tmp_path, photo, capsys):
    from livefilter.cli import main

    look = fit_look(apply_float_look(photo), photo)
    look.save(tmp_path / "x.look.npz")
    assert main(["info", str(tmp_path / "x.look.npz")]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("confidence:"))
    assert look.meta["confidence"]["level"] in line and "of the cube" in line


@pytest.mark.parametrize("kind", ["one colour", "mostly black", "mostly white", "tiny"])
def test_weak_templates_give_a_finite_look_that_changes_little_with_a_warning(kind):
    from livefilter.look import defilter

    if not defilter.MODEL_PATH.is_file():
        pytest.skip("models/defilter.onnx is not in this checkout")
    rng = np.random.default_rng(0)
    if kind == "one colour":
        img = np.clip(np.array([200, 120, 60]) + rng.normal(0, 1, (120, 160, 3)), 0, 255)
    elif kind == "mostly black":
        img = rng.normal(6, 3, (120, 160, 3)).clip(0, 255)
        img[50:60, 70:90] = [200, 180, 150]
    elif kind == "mostly white":
        img = rng.normal(250, 3, (120, 160, 3)).clip(0, 255)
        img[50:60, 70:90] = [60, 80, 40]
    else:
        img = rng.integers(0, 256, (3, 3, 3))
    with pytest.warns(UserWarning) as rec:
        look = fit_look(img.astype(np.uint8))
    assert np.isfinite(look.lut.table).all()
    msgs = [str(w.message) for w in rec]
    assert any(w in m for m in msgs for w in ("narrow", "ill-defined", "little to undo", "pixels")), msgs
    # colours far from the template's stay close to themselves
    far = np.array([[0.2, 0.6, 0.2], [0.5, 0.5, 0.9], [0.9, 0.75, 0.6]])
    assert np.abs(look.lut.apply_float(far) - far).max() * 255 < 12


def test_a_loaded_shaper_cube_saved_as_a_look_keeps_its_shaper(tmp_path):
    curve = np.linspace(0, 1, 64) ** 0.5
    lut = lf.Lut(lf.identity_table(2), title="gamma", shaper=np.stack([curve] * 3, 1))
    lf.write_lut(tmp_path / "g.cube", lut)
    look = lf.load_look(tmp_path / "g.cube")
    look.save(tmp_path / "g.look.npz")
    look.save(tmp_path / "g2.cube")
    x = np.array([[0.04, 0.25, 0.81]])
    want = np.sqrt(x)
    for p in ("g.look.npz", "g2.cube"):
        assert np.abs(lf.load_look(tmp_path / p).lut.apply_float(x) - want).max() < 2e-3, p


def test_info_prints_the_confidence_of_a_cube_made_by_fit(tmp_path, photo, capsys):
    from livefilter.cli import main

    look = fit_look(apply_float_look(photo), photo)
    look.save(tmp_path / "x.cube")
    assert main(["info", str(tmp_path / "x.cube")]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("confidence:"))
    assert line == f"confidence: {describe_confidence(look.meta['confidence'])}"


@pytest.mark.parametrize("kind", ["grey", "blue", "mostly black", "mostly white"])
def test_flat_template_from_one_photo_changes_nothing(kind):
    """A template that is one colour, or mostly black or white with a small patch, cannot show a look: it gives
    identity with a warning. It is not taken for black-and-white (the monochrome path would turn every frame
    grey: a flat blue template changed random colours by 73 code values on average before this was fixed)."""
    rng = np.random.default_rng(0)
    img = {"grey": np.full((120, 160, 3), 90), "blue": np.full((120, 160, 3), (40, 120, 200)),
           "mostly black": np.zeros((120, 160, 3)), "mostly white": np.full((120, 160, 3), 250)}[kind]
    img = img.astype(np.uint8)
    if kind.startswith("mostly"):
        img[50:60, 70:80] = (200, 120, 60)
    with pytest.warns(UserWarning, match="ill-defined"):
        look = fit_look(img)
    assert look.meta["guess_weight"] == 0.0 and look.meta["original"] != "monochrome path"
    assert np.abs(look.lut.table - lf.Lut.identity(33).table).max() < 1e-4
    frame = rng.integers(0, 256, (32, 32, 3)).astype(np.uint8)
    assert np.array_equal(look.apply(frame), frame)
    # nor do its readings: its library neighbours share its want of colours, not a look (a black template's nearly
    # blacked a photo out, rated medium)
    assert [c.kind for c in look.candidates] == ["automatic"]
    with pytest.warns(UserWarning, match="1 distinct reading of 4 asked \\(a flat template has no library readings"):
        fit_look(img)
