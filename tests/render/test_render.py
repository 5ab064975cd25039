import numpy as np
import pytest

import livefilter as lf
from livefilter.luts.lut import Lut, identity_table
from livefilter.render import render, render_float

from ..conftest import warm_look


@pytest.fixture(scope="module")
def lut():
    return Lut(warm_look(identity_table(33)))


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:90, 0:160]
    base = np.stack([x * 1.5, y * 2.5, 255 - x], -1) + rng.normal(0, 20, (90, 160, 3))
    return np.clip(base, 0, 255).astype(np.uint8)


def degrees(shape):
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    full = (0.5 + 0.5 * np.sin(x / 17.0) * np.cos(y / 11.0)).astype(np.float32)
    return {
        "none": None,
        "float32": full,
        "float64": full.astype(np.float64),
        "uint8": (full * 255).astype(np.uint8),
        "small": full[::8, ::8].copy(),
        "small_uint8": (full[::6, ::6] * 255).astype(np.uint8),
    }


@pytest.mark.parametrize("interp", ["trilinear", "tetrahedral"])
@pytest.mark.parametrize("channels", ["rgb", "bgr"])
@pytest.mark.parametrize("deg", ["none", "float32", "float64", "uint8", "small", "small_uint8"])
@pytest.mark.parametrize("strength", [1.0, 0.7])
def test_render_matches_float_reference(lut, frame, interp, channels, deg, strength):
    d = degrees(frame.shape[:2])[deg]
    ours = render(frame, lut, degree=d, strength=strength, interp=interp, channels=channels)
    ref = render_float(frame, lut, degree=d, strength=strength, interp=interp, channels=channels)
    assert np.abs(ours.astype(int) - ref).max() <= 1


def test_strength_zero_is_identity(lut, frame):
    assert np.array_equal(render(frame, lut, strength=0.0), frame)


def test_bgr_is_rgb_mirrored(lut, frame):
    bgr = np.ascontiguousarray(frame[:, :, ::-1])
    assert np.array_equal(render(bgr, lut, channels="bgr")[:, :, ::-1], render(frame, lut))


def test_non_contiguous_frames(lut, frame):
    ref = render(frame, lut)
    big = np.zeros((200, 300, 3), np.uint8)
    big[10:100, 20:180] = frame
    assert np.array_equal(render(big[10:100, 20:180], lut), ref)
    view = np.ascontiguousarray(frame[:, :, ::-1])[:, :, ::-1]  # negative channel stride
    assert np.array_equal(render(view, lut), ref)
    assert np.array_equal(render(np.asfortranarray(frame), lut), ref)


def test_out_buffer_is_reused_and_may_alias_input(lut, frame):
    ref = render(frame, lut, degree=degrees(frame.shape[:2])["small"])
    out = np.empty_like(frame)
    res = render(frame, lut, degree=degrees(frame.shape[:2])["small"], out=out)
    assert res is out and np.array_equal(out, ref)
    inplace = frame.copy()
    render(inplace, lut, degree=degrees(frame.shape[:2])["small"], out=inplace)
    assert np.array_equal(inplace, ref)


def test_accepts_look_lut_and_array(lut, frame, photo):
    ref = render(frame, lut)
    assert np.array_equal(render(frame, np.asarray(lut.table)), ref)
    look = lf.Look(lut=lut)
    assert np.array_equal(render(frame, look), ref)


def test_identity_lut_is_lossless(frame):
    assert np.array_equal(render(frame, Lut.identity(33)), frame)
    assert np.array_equal(render(frame, Lut.identity(2), interp="tetrahedral"), frame)


def test_bad_arguments(lut, frame):
    with pytest.raises(lf.InputError, match="uint8"):
        render(frame.astype(np.float32), lut)
    with pytest.raises(lf.InputError):
        render(frame[:, :, :2], lut)
    with pytest.raises(lf.InputError):
        render(frame, lut, strength=1.5)
    with pytest.raises(lf.InputError):
        render(frame, lut, interp="cubic")
    with pytest.raises(lf.InputError):
        render(frame, lut, channels="rgba")
    with pytest.raises(lf.InputError):
        render(frame, lut, degree=np.ones((200, 10), np.float32))
    with pytest.raises(lf.InputError):
        render(frame, lut, degree=np.ones((9, 16), np.int32))
    with pytest.raises(lf.InputError):
        render(frame, lut, out=np.empty((2, 2, 3), np.uint8))
    with pytest.raises(lf.InputError):
        render(frame, "look.cube")


# --- several LUTs and a soft label mask in one pass ---------------------------------------------------------

def _other_look():
    return Lut(np.clip(identity_table(17)[..., ::-1] * 0.9 + 0.05, 0, 1).astype(np.float32))


@pytest.mark.parametrize("channels", ["rgb", "bgr"])
@pytest.mark.parametrize("deg", ["none", "float32", "uint8", "small"])
@pytest.mark.parametrize("mask_size", ["small", "full"])
def test_render_segments_matches_the_float_reference(frame, lut, channels, deg, mask_size):
    from livefilter.render import render_segments, render_segments_float

    d = degrees(frame.shape[:2])[deg]
    y, x = np.mgrid[0:90, 0:160]
    person = np.clip((x - 50) / 60.0, 0, 1).astype(np.float32)  # a soft edge across the frame
    mask = person if mask_size == "full" else person[::5, ::5].copy()
    luts = [lut, _other_look()]
    out = render_segments(frame, luts, mask, degree=d, strength=0.85, channels=channels)
    ref = render_segments_float(frame, luts, mask, degree=d, strength=0.85, channels=channels)
    assert np.abs(out.astype(int) - ref).max() <= 1


def test_render_segments_is_each_lut_where_the_mask_is_0_or_1_and_mixes_between(frame, lut):
    from livefilter.render import render_segments

    other = _other_look()
    half = np.zeros((90, 160), np.float32)
    half[:, 80:] = 1.0
    out = render_segments(frame, [lut, other], half)
    assert np.array_equal(out[:, :80], render(frame, lut)[:, :80])
    assert np.array_equal(out[:, 80:], render(frame, other)[:, 80:])
    mid = render_segments(frame, [lut, other], np.full((4, 4), 0.5, np.float32)).astype(int)
    expect = (render_float(frame, lut).astype(int) + render_float(frame, other)) / 2
    assert np.abs(mid - expect).max() <= 1.5  # the halfway mix of the two looks: no halo, no dark seam


def test_render_segments_three_luts_strides_and_in_place(frame, lut):
    from livefilter.render import render_segments, render_segments_float

    luts = [lut, _other_look(), Lut(identity_table(9))]
    rng = np.random.default_rng(1)
    w = rng.random((2, 18, 32)).astype(np.float32)
    w /= np.maximum(1.0, w.sum(0))  # the maps sum to at most 1
    view = frame[:, ::-1]  # not C-contiguous
    ref = render_segments_float(np.ascontiguousarray(view), luts, w, strength=0.7)
    assert np.abs(render_segments(view, luts, w, strength=0.7).astype(int) - ref).max() <= 1
    buf = frame.copy()
    render_segments(buf, luts, w, strength=0.7, out=buf)
    assert np.abs(buf.astype(int) - render_segments_float(frame, luts, w, strength=0.7)).max() <= 1


def test_render_segments_checks_the_mask(frame, lut):
    from livefilter.render import render_segments

    luts = [lut, _other_look()]
    with pytest.raises(lf.InputError, match=r"shape \(1, h, w\)"):
        render_segments(frame, luts, np.zeros((2, 4, 4), np.float32))
    with pytest.raises(lf.InputError, match="float32 or float64"):
        render_segments(frame, luts, np.zeros((4, 4), np.uint8))
    with pytest.raises(lf.InputError, match="frame's size"):
        render_segments(frame, luts, np.zeros((200, 4), np.float32))
    assert np.array_equal(render_segments(frame, [lut], None), render(frame, lut))  # one LUT: the plain path
