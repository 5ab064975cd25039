"""One render test body, every backend (conventions item 15, kornia's device fixture): the CPU renderer, the CUDA
backend through the numpy stand-in for CuPy (tests/cuda/fake_cupy.py: the kernel's arithmetic on what was
uploaded) and the real CUDA backend when a GPU is present, over every LUT kind, each within 1 code value of the
float reference."""

import numpy as np
import pytest

from livefilter.luts import read_lut
from livefilter.luts.lut import Lut, identity_table
from livefilter.render import available, create_backend, render_float, render_segments_float

from ..conftest import DATA, warm_look

# a steep gamma: adjacent shadow codes land far apart, so a table exact only at its nodes is visibly off there
GAMMA = np.linspace(0.0, 1.0, 1024)[:, None] ** np.array([[1 / 2.4, 1 / 2.2, 1 / 2.0]])


def _luts() -> dict:
    one_d = Lut.from_curves(GAMMA, title="gamma 1D")
    shaper = Lut(warm_look(identity_table(17)), shaper=GAMMA[::4], title="gamma shaper + 3D")
    wide = identity_table(9) * 1.35 - 0.1  # a DOMAIN of -0.1 .. 1.25
    domain = Lut(warm_look(np.clip(wide, 0, 1)), domain_min=(-0.1,) * 3, domain_max=(1.25,) * 3, title="domain")
    return {
        "3D 2": [Lut(warm_look(identity_table(2)))],
        "3D 17": [Lut(warm_look(identity_table(17)))],
        "3D 33": [Lut(warm_look(identity_table(33)))],
        "3D 65": [Lut(warm_look(identity_table(65)))],
        "1D": [one_d],
        "1D .cube": [read_lut(DATA / "tiny_1d.cube")],
        "shaper + 3D": [shaper],
        "DOMAIN": [domain],
        "DOMAIN .cube": [read_lut(DATA / "tiny_domain.cube")],
        "several, a mask": [Lut(warm_look(identity_table(33))), one_d, shaper],
        "several sizes, a mask": [Lut(warm_look(identity_table(9))), domain],
    }


LUTS = _luts()


def frame_and_maps(h=48, w=96):
    """Every code value on each channel (a ramp per row, shadows included), noise, a degree map and a mask."""
    rng = np.random.default_rng(7)
    ramp = np.tile(np.arange(256, dtype=np.int64)[None, :], (h, 1))
    x = np.stack([ramp[:, :w], np.roll(ramp, 97, axis=1)[:, :w], np.roll(ramp, 181, axis=1)[:, :w]], -1)
    x = x + (np.arange(h)[:, None, None] * 5)
    frame = np.where(rng.random((h, w, 3)) < 0.3, rng.integers(0, 256, (h, w, 3)), x % 256).astype(np.uint8)
    deg = (0.5 + 0.5 * np.sin(np.mgrid[0:6, 0:12][1] / 2.0)).astype(np.float32)
    y, xx = np.mgrid[0:12, 0:24]
    a = np.clip(xx / 23.0, 0, 1) * 0.6
    b = np.clip(y / 11.0, 0, 1) * 0.4
    return frame, deg, np.stack([a, b]).astype(np.float32)


@pytest.fixture(params=["cpu", "cuda stand-in", "cuda"])
def backend(request):
    if request.param == "cuda" and available()["cuda"] is not None:
        pytest.skip(f"no GPU: {available()['cuda']}")
    if request.param == "cuda stand-in":
        request.getfixturevalue("fake_cupy")
        b = create_backend("cuda")
        assert "Fake GPU" in b.name
        return b
    return create_backend(request.param)


@pytest.mark.parametrize("interp", ["trilinear", "tetrahedral"])
@pytest.mark.parametrize("kind", list(LUTS))
@pytest.mark.parametrize("with_degree", [False, True])
def test_every_backend_within_one_code_value_of_the_float_reference(backend, kind, interp, with_degree):
    luts = LUTS[kind]
    frame, deg, mask = frame_and_maps()
    deg = deg if with_degree else None
    backend.interp = interp
    backend.set_luts(luts)
    kw = dict(degree=deg, strength=0.8, interp=interp)
    if len(luts) == 1:
        out = backend.render(frame, deg, 0.8)
        ref = render_float(frame, luts[0], **kw)
    else:
        mask = mask[: len(luts) - 1]
        out = backend.render(frame, deg, 0.8, mask=mask)
        ref = render_segments_float(frame, luts, mask, **kw)
    diff = np.abs(out.astype(int) - ref)
    assert diff.max() <= 1, f"{backend.name} {kind} {interp}: {diff.max()} code values off"


def test_the_steep_1d_lut_is_not_exact_at_its_nodes_alone():
    """The check above can fail: the same 1D LUT as a 33^3 table exact only at its nodes (what the CUDA backend
    uploaded before) is several code values off in the shadows."""
    lut = LUTS["1D"][0]
    frame, _, _ = frame_and_maps()
    nodes_only = Lut(lut.unit_table(33))
    off = np.abs(render_float(frame, nodes_only).astype(int) - render_float(frame, lut)).max()
    assert off > 5
