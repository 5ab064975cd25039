import numpy as np
import pytest

import livefilter as lf
from livefilter.luts.lut import Lut, identity_table, interpolate, resample


def test_identity_table_shape_and_values():
    t = identity_table(5)
    assert t.shape == (5, 5, 5, 3) and t.dtype == np.float32
    assert np.allclose(t[1, 2, 3], [0.25, 0.5, 0.75])


@pytest.mark.parametrize("interp", ["trilinear", "tetrahedral"])
def test_interpolation_is_exact_for_affine_luts(interp):
    # Both schemes reproduce affine functions exactly, whatever the grid size.
    m = np.array([[0.8, 0.1, 0.05], [0.0, 0.9, 0.1], [0.2, 0.0, 0.7]])
    t = identity_table(7) @ m.T + 0.03
    x = np.random.default_rng(1).random((500, 3))
    assert np.allclose(interpolate(t, x, interp), x @ m.T + 0.03, atol=1e-5)


def test_tetrahedral_differs_from_trilinear_on_a_nonlinear_lut():
    t = identity_table(2) ** 2
    t[1, 1, 1] = [0.0, 0.0, 0.0]
    x = np.array([[0.3, 0.6, 0.9], [0.9, 0.2, 0.5]])
    assert not np.allclose(interpolate(t, x, "trilinear"), interpolate(t, x, "tetrahedral"))


def _tetra_by_sorting(t, x):
    """Tetrahedral interpolation written independently: walk from the cell's low corner to its high corner one
    axis at a time, largest fraction first (the standard vertex-weight form)."""
    n = t.shape[0]
    out = np.empty((len(x), 3))
    for k, p in enumerate(x):
        pos = p * (n - 1)
        i = np.minimum(pos.astype(int), n - 2)
        f = pos - i
        order = sorted(range(3), key=lambda a: -f[a])  # ties: any order gives the same value
        corner = i.copy()
        val = t[tuple(corner)] * (1 - f[order[0]])
        fs = [f[a] for a in order] + [0.0]
        for j, a in enumerate(order):
            corner[a] += 1
            val = val + t[tuple(corner)] * (fs[j] - fs[j + 1])
        out[k] = val
    return out


def test_tetrahedral_matches_the_vertex_weight_formula_in_all_six_orderings_and_ties():
    rng = np.random.default_rng(2)
    t = rng.random((3, 3, 3, 3)).astype(np.float32)
    # the six strict orderings of (fr, fg, fb) inside a cell, the ties between them, and points in other cells
    x = np.array([[0.2, 0.2, 0.2], [0.3, 0.3, 0.1], [0.1, 0.3, 0.3], [0.3, 0.1, 0.3], [0.25, 0.5, 0.75],
                  [0.75, 0.5, 0.25], [0.5, 0.75, 0.25], [0.5, 0.25, 0.75], [0.75, 0.25, 0.5], [0.25, 0.75, 0.5],
                  [0.1, 0.2, 0.4], [0.4, 0.2, 0.1], [0.2, 0.4, 0.1], [0.2, 0.1, 0.4], [0.4, 0.1, 0.2],
                  [0.1, 0.4, 0.2], [0.9, 0.6, 0.7], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    assert np.abs(interpolate(t, x, "tetrahedral") - _tetra_by_sorting(t, x)).max() < 1e-6
    # and it is not trilinear on this random table (the comparison above would not notice a swap)
    assert np.abs(interpolate(t, x, "trilinear") - _tetra_by_sorting(t, x)).max() > 1e-2
    # at the nodes it returns the node value
    assert np.allclose(interpolate(t, np.array([[0.5, 0.5, 1.0]]), "tetrahedral"), t[1, 1, 2])


def test_lut_validation():
    with pytest.raises(lf.InputError):
        Lut(np.zeros((3, 3, 4, 3)))
    with pytest.raises(lf.InputError):
        Lut(np.zeros((1, 1, 1, 3)))
    bad = identity_table(3)
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(lf.InputError):
        Lut(bad)
    with pytest.raises(lf.InputError):
        Lut(identity_table(3), domain_min=(1, 0, 0), domain_max=(1, 1, 1))


def test_domain_and_normalized():
    lut = Lut(identity_table(5) * 2, domain_min=(0, 0, 0), domain_max=(2, 2, 2))
    x = np.array([[0.5, 0.25, 1.0]])
    # input 0.5 on a 0..2 domain is the 1/4 point; the table doubles, so output = input
    assert np.allclose(lut.apply_float(x), x, atol=1e-6)
    assert np.allclose(lut.normalized().apply_float(x), x, atol=1e-6)


def test_resample_keeps_smooth_lut():
    t = identity_table(17) ** 1.5
    small = resample(Lut(t), 9)
    assert small.size == 9
    x = np.random.default_rng(0).random((200, 3))
    assert np.abs(small.apply_float(x) - x**1.5).max() < 0.02


def _bw(size=17, tone=(0.0, 0.0, 0.0)):
    """A black-and-white table (Rec. 601 weights, a contrast curve), toned by ``tone`` x its mid-tones."""
    x = identity_table(size)
    g = np.clip((x @ np.array([0.299, 0.587, 0.114]) - 0.5) * 1.2 + 0.5, 0, 1)
    return np.clip(g[..., None] + np.asarray(tone) * 4 * g[..., None] * (1 - g[..., None]), 0, 1)


def test_a_black_and_white_or_toned_lut_is_monochrome():
    """Lut.monochrome: every output colour follows from its brightness (black-and-white, toned); a colour look, half
    a black-and-white look (its colour half kept) and a 1D curve per channel are not."""
    x = identity_table(17)
    assert Lut(_bw()).monochrome and Lut(_bw(tone=(0.04, 0.0, -0.05))).monochrome  # sepia-like
    assert not Lut(x).monochrome and not Lut(0.5 * x + 0.5 * _bw()).monochrome
    assert not Lut(np.clip(x * [1.1, 1.0, 0.9], 0, 1)).monochrome
    assert not Lut.from_curves(np.linspace(0, 1, 16)[:, None] ** [1.0, 1.2, 0.8]).monochrome
    assert Lut.from_curves(np.repeat(np.linspace(0, 1, 16)[:, None], 3, 1)).monochrome is False  # identity curves
    grey_1d = Lut(resample(Lut(_bw(33)), 9).table, domain_min=(0, 0, 0), domain_max=(1, 1, 1))
    assert grey_1d.monochrome
    from livefilter.resources import DATA_DIR

    assert not lf.fit_look(DATA_DIR / "sample_after.jpg", DATA_DIR / "sample_before.jpg").monochrome
