import warnings

import numpy as np
import pytest

from livefilter.errors import InputError
from livefilter.look.mapping import (
    QuarticMapping,
    ResidualMapping,
    fit_mapping,
    mapping_from_dict,
    quartic_features,
)
from livefilter.look.sampling import ill_defined

from .conftest import warm_look

RNG = np.random.default_rng(0)
X = RNG.random((8000, 3))


def test_features_follow_the_seed_formula():
    x = np.array([[0.2, 0.5, 0.7]])
    f = quartic_features(x, 0)[0]
    r, g, b = 0.2, 0.5, 0.7
    expected = [1, r, r**2, r**3, r**4, (g + b) / 2, (g**2 + b**2) / 2, (g**3 + b**3) / 2, (g**4 + b**4) / 2]
    assert np.allclose(f, expected)
    assert np.allclose(quartic_features(x, 2)[0][5], (r + g) / 2)


def test_quartic_recovers_an_exact_quartic():
    coefs = RNG.normal(0, 0.3, (3, 9))
    truth = QuarticMapping(coefs)
    fitted = QuarticMapping.fit(X, truth(X), ridge=1e-10)
    assert np.allclose(fitted.coefs, coefs, atol=1e-4)


def test_lbfgs_agrees_with_lstsq():
    y = warm_look(X)
    a = QuarticMapping.fit(X, y, solver="lstsq")
    b = QuarticMapping.fit(X, y, solver="lbfgs")
    assert np.abs(a(X) - b(X)).max() < 2e-3


def test_flat_samples_stay_finite_and_near_identity():
    src = np.tile([[0.4, 0.5, 0.6]], (5000, 1))
    dst = np.tile([[0.5, 0.5, 0.5]], (5000, 1))
    for kind in ("seed", "residual"):
        m = fit_mapping(src, dst, kind)
        out = m(X)
        assert np.isfinite(out).all()
        assert np.abs(m(src[:1]) - dst[:1]).max() < 0.02  # hits the one colour it saw
        assert np.abs(out - X).mean() < 0.15  # and stays sane elsewhere
    assert ill_defined(src) is not None
    assert ill_defined(X) is None


def test_residual_beats_quartic_on_a_lut_like_look():
    # a look no quartic can express: a hue-dependent twist
    def look(x):
        h = np.arctan2(x[:, 1] - x[:, 2], x[:, 0] - x[:, 1])
        return np.clip(x + 0.08 * np.stack([np.sin(2 * h), np.cos(3 * h), np.sin(h)], 1), 0, 1)

    y = look(X)
    test = RNG.random((4000, 3))
    err_q = np.abs(fit_mapping(X, y, "seed")(test) - look(test)).mean()
    err_r = np.abs(fit_mapping(X, y, "residual")(test) - look(test)).mean()
    assert err_r < 0.6 * err_q


def test_fit_is_reproducible_and_serialises():
    y = warm_look(X)
    for kind in ("seed", "residual"):
        a = fit_mapping(X, y, kind)
        b = fit_mapping(X, y, kind)
        assert np.array_equal(a(X[:100]), b(X[:100]))
        c = mapping_from_dict(a.to_dict())
        assert np.array_equal(a(X[:100]), c(X[:100]))
        assert isinstance(c, ResidualMapping if kind == "residual" else QuarticMapping)


def test_bad_samples():
    with pytest.raises(InputError):
        fit_mapping(X[:5], X[:5])
    with pytest.raises(InputError):
        fit_mapping(X, X[:100])
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InputError):
        fit_mapping(bad, X)
    with pytest.raises(InputError):
        fit_mapping(X, X, "cubic")
    with pytest.raises(InputError):
        QuarticMapping.fit(X, X, solver="adam")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_mapping(X, X)  # a well-defined fit raises no warning
