"""The coverage fall-back: a narrow template cannot repaint colours it never showed; full coverage is untouched."""

import warnings

import numpy as np
import pytest

import livefilter as lf
from livefilter.look import Coverage, CoveredMapping, fit_look
from livefilter.look.coverage import blend_table
from livefilter.look.mapping import QuarticMapping

from ..conftest import apply_float_look


def _night_sky(seed=0, h=96, w=128):
    """A narrow template: dark blues and near-black only (a night-sky photo)."""
    rng = np.random.default_rng(seed)
    base = np.array([10, 14, 40]) + rng.normal(0, 1, (h, w, 1)) * np.array([4, 5, 14])
    return np.clip(base, 0, 255).astype(np.uint8)


def _strong_look(x):
    """A cool, darkening grade whose quartic extrapolates far from dark blues."""
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    return np.clip(np.stack([0.6 * r + 0.9 * r**2, 0.8 * g + 0.05, 1.3 * b**0.7], -1), 0, 1)


FAR = np.array([[0.9, 0.75, 0.6], [0.95, 0.9, 0.2], [0.3, 0.8, 0.3], [0.85, 0.2, 0.2], [0.9, 0.9, 0.9]])


def test_narrow_template_changes_far_colours_by_at_most_two_code_values():
    orig = _night_sky()
    tpl = apply_float_look(orig, _strong_look)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        guarded = fit_look(tpl, orig, mapping="seed")
        bare = fit_look(tpl, orig, mapping="seed", coverage=0.0)
    far_guarded = np.abs(guarded.lut.apply_float(FAR) - FAR).max() * 255
    far_bare = np.abs(bare.lut.apply_float(FAR) - FAR).max() * 255
    assert far_bare > 20  # without the fall-back the quartic repaints skin, yellow, green, red and white
    assert far_guarded <= 2.0
    # and the template's own colours still get the look
    near = orig.reshape(-1, 3)[:500] / 255.0
    want = _strong_look(near)
    assert np.abs(guarded.lut.apply_float(near) - want).mean() < 0.25 * np.abs(near - want).mean()


def test_full_coverage_template_is_unaffected():
    rng = np.random.default_rng(1)
    orig = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)  # every region of the cube shown
    tpl = apply_float_look(orig, _strong_look)
    guarded = fit_look(tpl, orig, mapping="seed")
    bare = fit_look(tpl, orig, mapping="seed", coverage=0.0)
    assert guarded.meta["coverage_p0"] > 0
    assert np.abs(guarded.lut.table - bare.lut.table).max() * 255 < 1.0


def test_blend_has_no_seams():
    """The trust map is smooth: neighbouring LUT nodes never differ in trust by more than a small step."""
    orig = _night_sky()
    cov = Coverage.of(orig.reshape(-1, 3) / 255.0)
    c = cov.trust_at(lf.identity_table(33), 0.3)
    assert c.max() > 0.99 and c.min() < 0.01  # both regimes present
    steps = max(np.abs(np.diff(c, axis=a)).max() for a in range(3))
    assert steps < 0.2


def test_covered_mapping_equals_blended_table_and_round_trips(tmp_path):
    orig = _night_sky()
    cov = Coverage.of(orig.reshape(-1, 3) / 255.0)
    inner = QuarticMapping.fit(orig.reshape(-1, 3) / 255.0, _strong_look(orig.reshape(-1, 3) / 255.0))
    m = CoveredMapping(inner, cov, 0.3, 0.6)
    grid = lf.identity_table(17)
    direct = m(grid.reshape(-1, 3)).reshape(grid.shape)
    inside = (np.abs(inner(grid.reshape(-1, 3)) - 0.5) < 1.5).all(1).reshape(grid.shape[:3])  # bake's clip range
    blended = blend_table(lf.look.bake(inner, 17).table, cov, 0.3, 0.6)
    assert inside.mean() > 0.5 and np.allclose(direct[inside], blended[inside], atol=1e-5)
    look = lf.Look(lut=lf.look.bake(m, 17), mapping=m)
    look.save(tmp_path / "x.look.npz")
    back = lf.load_look(tmp_path / "x.look.npz")
    assert back.mapping.kind == "covered" and np.allclose(back.mapping(grid.reshape(-1, 3)), direct.reshape(-1, 3))


def test_negative_coverage_is_refused(photo):
    with pytest.raises(lf.InputError, match="coverage"):
        fit_look(photo, photo[:, ::-1].copy(), coverage=-1)
