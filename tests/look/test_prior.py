"""The look prior (livefilter.look.prior): a look predicted from the template's global features, averaged with the
de-filter network's look on the one-photo path (FitSettings.prior_share)."""

import numpy as np
import pytest

import livefilter as lf
from livefilter.errors import ModelError
from livefilter.look import fit, fit_look, prior
from livefilter.luts.lut import identity_table

from ..conftest import warm_look


def _constant_prior(path, fn=warm_look):
    """A prior that predicts the same look for every template: no weights, its mean offsets those of ``fn``."""
    g = prior.lattice()
    offsets = (fn(g) - g).ravel()
    n = 305
    prior.save_prior(path, np.zeros((n, offsets.size)), np.zeros(n), np.ones(n), offsets, {"grid": prior.GRID})
    return path


@pytest.fixture
def constant_prior(tmp_path, monkeypatch):
    path = _constant_prior(tmp_path / "prior.npz")
    monkeypatch.setattr(prior, "PRIOR_PATH", path)
    return path


def test_features_of_any_template_size(photo):
    f = prior.template_features(photo)
    assert f.shape == (305,) and f.dtype == np.float32 and np.isfinite(f).all()
    tiny = prior.template_features(photo[:3, :2].copy())  # upsampled to the network's input, still finite
    assert tiny.shape == (305,) and np.isfinite(tiny).all()
    assert not np.allclose(prior.template_features(255 - photo), f)


def test_the_predicted_look_and_its_file(constant_prior, photo):
    lp = prior.LookPrior(constant_prior)
    lut = lp.predict(photo)
    assert lut.size == prior.GRID
    x = np.random.default_rng(0).random((500, 3))
    # trilinear between the 7^3 nodes of a smooth look: close to it everywhere
    assert np.abs(lut.apply_float(x) - warm_look(x)).max() < 0.02
    again = _constant_prior(constant_prior.with_name("again.npz"))
    assert again.read_bytes() == constant_prior.read_bytes()  # the same contents, the same bytes


def test_a_missing_or_broken_prior_says_how_to_recreate_it(tmp_path):
    with pytest.raises(ModelError, match="reinstall"):
        prior.LookPrior(tmp_path / "none.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="reinstall"):
        prior.LookPrior(tmp_path / "bad.npz")


def test_one_photo_look_is_the_mean_of_the_network_and_the_prior(constant_prior, photo, monkeypatch, tmp_path):
    tpl = np.clip(warm_look(photo / 255.0) * 255 + 0.5, 0, 255).astype(np.uint8)
    no_library = fit.FitSettings(library_share=0.0)  # the network's look and the prior's only
    look = fit_look(tpl, settings=no_library)
    meta = look.meta
    share = fit.DEFAULT.prior_share
    assert meta["look_prior"]["share"] == share and meta["confidence"]["prior_change"] > 1
    w = meta["guess_weight"]
    net_change, prior_change = meta["confidence"]["guess_change"], meta["look_prior"]["change"]
    assert w == pytest.approx(fit.guess_weight_for(net_change, prior_change), abs=1e-3)
    # the network's look alone, kept as much
    alone = fit_look(tpl, guess_weight=w, settings=fit.FitSettings(prior_share=0.0, library_share=0.0))
    assert alone.meta["look_prior"] is None
    g = identity_table(33)
    prior_part = g + w * (prior.LookPrior(constant_prior).predict(tpl).apply_float(g.reshape(-1, 3)).reshape(g.shape)
                          - g)
    expect = (1 - share) * alone.lut.table + share * prior_part
    assert np.abs(look.lut.table - expect).max() < 1e-4
    # saved and loaded, the mixed mapping is the same function
    look.save(tmp_path / "m.look.npz")
    back = lf.load_look(tmp_path / "m.look.npz")
    x = np.random.default_rng(1).random((300, 3))
    assert np.abs(back.mapping(x) - look.mapping(x)).max() < 1e-6
    assert np.array_equal(back.lut.table, look.lut.table)


def test_the_prior_never_touches_a_flat_template_or_a_before_after_fit(constant_prior, photo):
    flat = np.full((64, 64, 3), 120, np.uint8)
    with pytest.warns(UserWarning):
        look = fit_look(flat)
    g = identity_table(33)
    assert np.abs(look.lut.table - g).max() < 1e-6  # kept weight 0: identity, the prior's look too
    tpl = np.clip(warm_look(photo / 255.0) * 255 + 0.5, 0, 255).astype(np.uint8)
    assert fit_look(tpl, photo).meta["look_prior"] is None  # with the original: what the pair shows
