"""Property tests (hypothesis): .cube write -> read round trips, and the fast renderer against the float
reference on random LUTs, frames, strides, degree maps and settings. Examples are derandomised (the same every
run, so CI cannot flake) and few (each random LUT costs a 256^3 table bake, ~0.1-0.5 s)."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from livefilter.luts import read_cube, write_cube
from livefilter.luts.lut import Lut
from livefilter.render import render, render_float

SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

_floats = st.floats(-0.5, 1.5, allow_nan=False, width=32)
# titles: any printable text on one line; a double quote is written as ' (the format has no escape)
_titles = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30)


@st.composite
def luts(draw, max_size=9, values=_floats):
    n = draw(st.integers(2, max_size))
    table = draw(arrays(np.float32, (n, n, n, 3), elements=values))
    return table


@st.composite
def domains(draw):
    lo = [draw(st.integers(-64, 64)) / 64 for _ in range(3)]
    hi = [x + draw(st.integers(1, 256)) / 64 for x in lo]  # exact in %.6f, and always above DOMAIN_MIN
    return tuple(lo), tuple(hi)


@settings(max_examples=40, **SETTINGS)
@given(table=luts(), title=_titles, domain=domains())
def test_cube_write_read_round_trips(tmp_path, table, title, domain):
    lut = Lut(table, title=title, domain_min=domain[0], domain_max=domain[1])
    p = tmp_path / "rt.cube"
    write_cube(p, lut)
    back = read_cube(p)
    assert back.size == lut.size
    assert np.abs(back.table - lut.table).max() <= 5e-7 + 1e-7  # %.6f rounding, then float32
    assert back.domain_min == domain[0] and back.domain_max == domain[1]
    assert back.title == (title.replace('"', "'").strip() or "livefilter look")


@st.composite
def frames(draw):
    """A uint8 (H, W, 3) frame, possibly a strided view of a bigger array (row/column steps, offsets, reversed
    channels), so render's non-contiguous paths are exercised."""
    h, w = draw(st.integers(1, 24)), draw(st.integers(1, 40))
    sy, sx = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    oy, ox = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    seed = draw(st.integers(0, 2**32 - 1))
    big = np.random.default_rng(seed).integers(0, 256, (oy + h * sy, ox + w * sx, 3), dtype=np.uint8)
    view = big[oy::sy, ox::sx][:h, :w]
    if draw(st.booleans()):
        view = view[:, :, ::-1]
    return view


@st.composite
def degree_maps(draw, h, w):
    kind = draw(st.sampled_from(["none", "float32", "float64", "uint8", "small"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "none":
        return None
    if kind == "small":
        dh, dw = draw(st.integers(1, h)), draw(st.integers(1, w))
        return rng.random((dh, dw)).astype(np.float32)
    if kind == "uint8":
        return rng.integers(0, 256, (h, w), dtype=np.uint8)
    return rng.random((h, w)).astype(kind)


@settings(max_examples=25, **SETTINGS)
@given(data=st.data(), table=luts(max_size=17, values=st.floats(-0.25, 1.25, allow_nan=False, width=32)),
       frame=frames(), interp=st.sampled_from(["trilinear", "tetrahedral"]),
       channels=st.sampled_from(["rgb", "bgr"]), strength=st.floats(0.0, 1.0))
def test_render_matches_float_reference_on_random_luts_frames_and_strides(data, table, frame, interp, channels,
                                                                           strength):
    h, w = frame.shape[:2]
    degree = data.draw(degree_maps(h, w))
    lut = Lut(table)
    ours = render(frame, lut, degree=degree, strength=strength, interp=interp, channels=channels)
    ref = render_float(frame, lut, degree=degree, strength=strength, interp=interp, channels=channels)
    assert ours.shape == frame.shape
    assert np.abs(ours.astype(int) - ref).max() <= 1
