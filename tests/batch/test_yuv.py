"""RGB -> I420 for the encoder: the BT.709 / BT.601 limited-range formulas with 2 x 2 box-averaged chroma, and the
same conversion as libswscale (PyAV's reformat) within 1 code value on smooth content (on pixel noise the two
subsample chroma differently: swscale does not average the 2 x 2 block)."""

import av
import numpy as np
import pytest

from livefilter.media.yuv import FIXED_POINT_ERROR, rgb_to_i420

K = {1: (0.2126, 0.0722), 5: (0.299, 0.114)}


def reference(rgb, kr, kb):
    x = rgb.astype(np.float64)
    h, w = rgb.shape[:2]
    luma = lambda p: kr * p[..., 0] + (1 - kr - kb) * p[..., 1] + kb * p[..., 2]  # noqa: E731
    y = 16 + 219 / 255 * luma(x)
    m = x.reshape(h // 2, 2, w // 2, 2, 3).mean((1, 3))
    cb = 128 + 224 / 255 * (m[..., 2] - luma(m)) / (2 * (1 - kb))
    cr = 128 + 224 / 255 * (m[..., 0] - luma(m)) / (2 * (1 - kr))
    return np.concatenate([y.ravel(), cb.ravel(), cr.ravel()]).reshape(h * 3 // 2, w)


@pytest.mark.parametrize("colorspace", [1, 5])  # BT.709, BT.601
def test_the_formula_and_libswscale(colorspace):
    rng = np.random.default_rng(colorspace)
    noisy = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    ours = rgb_to_i420(noisy, colorspace)
    assert ours.shape == (144, 128)
    # rounded, nothing else: fixed-point arithmetic may round a value within FIXED_POINT_ERROR of a tie either way
    assert FIXED_POINT_ERROR < 0.03
    assert np.abs(ours - reference(noisy, *K[colorspace])).max() <= 0.5 + FIXED_POINT_ERROR
    yy, xx = np.mgrid[0:96, 0:128]
    smooth = np.stack([xx * 2, yy * 2.5, 255 - xx - yy], -1).clip(0, 255).astype(np.uint8)
    ref = av.VideoFrame.from_ndarray(smooth, format="rgb24").reformat(format="yuv420p", dst_colorspace=colorspace)
    assert np.abs(rgb_to_i420(smooth, colorspace).astype(int) - ref.to_ndarray()).max() <= 1
    other = rgb_to_i420(noisy, 1 if colorspace == 5 else 5)  # the colorspace is honoured
    assert np.abs(other.astype(int) - ours)[96:].max() > 5


def test_odd_sizes_are_refused():
    with pytest.raises(ValueError, match="even"):
        rgb_to_i420(np.zeros((5, 4, 3), np.uint8))


def test_an_interlaced_frame_takes_each_chroma_row_from_its_own_field():
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (98, 64, 3), dtype=np.uint8)  # 98: a last pair of lines that makes no block of 4
    rgb[0:96:2], rgb[1:96:2] = (200, 30, 30), (30, 30, 200)  # the top field red, the bottom one blue
    ours = rgb_to_i420(rgb, 1, fields=True)
    order = np.r_[np.arange(96).reshape(-1, 4)[:, [0, 2, 1, 3]].ravel(), 96, 97]  # each field's lines side by side
    ref = reference(rgb[order], *K[1])
    assert np.array_equal(ours[:98], rgb_to_i420(rgb, 1)[:98])  # luma as a frame's
    assert np.abs(ours[98:] - ref[98:]).max() <= 0.5 + FIXED_POINT_ERROR
    cb, cr = ours[98:].reshape(2, 49, 32).astype(int)  # the chroma planes, 49 rows of 32
    assert (cr[0:48:2] > 180).all() and (cb[1:48:2] > 180).all()  # red rows stay red, blue rows blue
    mixed = rgb_to_i420(rgb, 1)[98:].reshape(2, 49, 32).astype(int)  # a frame's 2 x 2 blocks mix them: purple
    assert np.abs(mixed[:, :48] - 128).max() < 60
