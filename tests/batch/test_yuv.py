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


# --- YUV -> RGB (decoding) -----------------------------------------------------------------------------------

def _frame(fmt, planes, color_range=1):
    """An av.VideoFrame of ``fmt`` holding ``planes`` (arrays of its planes' sizes)."""
    h, w = planes[0].shape
    f = av.VideoFrame(w, h, fmt)
    for plane, a in zip(f.planes, planes):
        rows = np.zeros((a.shape[0], plane.line_size // a.itemsize), a.dtype)
        rows[:, :a.shape[1]] = a
        plane.update(rows.tobytes())
    f.color_range = color_range
    return f


def _i420_planes(i420, h, w):
    chroma, q = i420[h:].ravel(), (h // 2) * (w // 2)
    return [i420[:h], chroma[:q].reshape(h // 2, w // 2), chroma[q:].reshape(h // 2, w // 2)]


@pytest.mark.parametrize("colorspace", [1, 5, 9])
@pytest.mark.parametrize("fmt", ["yuv420p", "yuvj420p", "yuv422p", "yuv444p", "yuv420p10le", "yuv444p10le"])
def test_decoding_is_the_formula_rounded(fmt, colorspace):
    """Each pixel is the formula's RGB of its Y and of the chroma sample covering it, rounded (float reference)."""
    from livefilter.media.yuv import yuv_to_rgb

    rng = np.random.default_rng(7)
    h, w = 10, 14
    bits = 10 if "10" in fmt else 8
    full = fmt.startswith("yuvj")
    sx, sy = {"420": (2, 2), "422": (2, 1), "444": (1, 1)}[fmt[3 + full:6 + full]]
    m = 1 << (bits - 8)
    lo, hi = (0, 255 * m) if full else (16 * m, 235 * m)
    y = rng.integers(lo, hi + 1, (h, w)).astype(np.uint8 if bits == 8 else np.uint16)
    u, v = (rng.integers(lo, (255 if full else 240) * m + 1, (h // sy, w // sx)).astype(y.dtype) for _ in range(2))
    got = yuv_to_rgb(_frame(fmt, [y, u, v], 2 if full else 1), colorspace)
    kr, kb = {1: (0.2126, 0.0722), 5: (0.299, 0.114), 9: (0.2627, 0.0593)}[colorspace]
    ys, cs, y0 = (1.0, 1.0, 0.0) if full else (255 / 219, 255 / 224, 16.0)
    yy = (y.astype(float) / m - y0) * ys
    cb = (np.repeat(np.repeat(u, sy, 0), sx, 1).astype(float) / m - 128) * cs
    cr = (np.repeat(np.repeat(v, sy, 0), sx, 1).astype(float) / m - 128) * cs
    kg = 1 - kr - kb
    want = np.stack([yy + 2 * (1 - kr) * cr, yy - 2 * kb * (1 - kb) / kg * cb - 2 * kr * (1 - kr) / kg * cr,
                     yy + 2 * (1 - kb) * cb], -1)
    assert got.dtype == np.uint8 and got.shape == (h, w, 3)
    # rounded, not biased: within half a code value but for the 16-bit fixed point's coefficients (each within 2^-17
    # of its value, times a sample of up to 255 m, three of them)
    assert np.abs(got - np.clip(want, 0, 255)).max() <= 0.5 + 3 * 255 * m / 2**17


@pytest.mark.parametrize("h", [96, 98, 6, 10])
def test_decoding_an_interlaced_frame_gives_each_field_its_own_chroma(h):
    """The inverse of rgb_to_i420(fields=True): each field's lines take its own chroma rows (red and blue fields
    stay red and blue), and the frame's planes come back as they were. A height of 4k + 2: the last pair of lines
    has a chroma row of its own, as the encoder writes it (its last line read a row past the plane's end)."""
    from livefilter.media.yuv import yuv_to_rgb

    rgb = np.zeros((h, 64, 3), np.uint8)
    rgb[0::2], rgb[1::2] = (200, 30, 30), (30, 30, 200)  # the top field red, the bottom one blue
    last = h - h % 4  # a last pair of lines that makes no group of 4: one flat colour (its chroma row is theirs)
    rgb[last:] = (90, 140, 200)
    i420 = rgb_to_i420(rgb, 1, fields=True)
    back = yuv_to_rgb(_frame("yuv420p", _i420_planes(i420, h, 64)), 1, fields=True)
    assert np.abs(back.astype(int) - rgb).max() <= 1
    assert np.array_equal(rgb_to_i420(back, 1, fields=True), i420)


@pytest.mark.parametrize("fmt", ["yuv420p", "yuv422p", "yuv444p", "yuv420p10le"])
@pytest.mark.parametrize("size", [(7, 5), (1, 1), (3, 2), (33, 17)])
def test_decoding_odd_sizes_reads_only_the_planes(fmt, size):
    """An odd width or height: the chroma planes round up, and each pixel reads the sample covering it (not the
    padding at the end of a plane's lines)."""
    from livefilter.media.yuv import yuv_to_rgb

    w, h = size
    f = av.VideoFrame(w, h, fmt)
    for plane in f.planes:
        itemsize = 2 if "10" in fmt else 1
        rows = np.full((plane.height, plane.line_size // itemsize), 1000 if itemsize == 2 else 255,
                       np.uint16 if itemsize == 2 else np.uint8)  # the padding: a far-off value
        rows[:, :plane.width] = (512 if itemsize == 2 else 128)  # grey
        plane.update(rows.tobytes())
    f.color_range = 2  # full: 128 is 128
    got = yuv_to_rgb(f, 1)
    assert got.shape == (h, w, 3) and (got == 128).all(), got


def test_an_identity_look_writes_back_the_planes_it_read(tmp_path):
    """A lossless 8-bit 4:2:0 clip graded with an identity look at --crf 0: every Y and chroma sample as it was
    (swscale's fast path, corrected by whole code values, changed 27-36 % of the Y samples by one: a grey ramp +0.36
    on average, a photo -0.30). A grey ramp exactly; a photo but for colours outside RGB (clipped)."""
    import cv2

    import livefilter as lf
    from livefilter.batch.video import apply_video
    from livefilter.resources import DATA_DIR

    ramp = cv2.resize(np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, 2), (512, 32),
                      interpolation=cv2.INTER_NEAREST)
    photo = cv2.resize(lf.read_image(DATA_DIR / "sample_test.jpg"), (320, 212))
    for name, rgb in (("ramp", ramp), ("photo", photo)):
        h, w = rgb.shape[:2]
        src, dst = tmp_path / f"{name}.mkv", tmp_path / f"{name}_graded.mkv"
        with av.open(str(src), "w") as out:
            vs = out.add_stream("ffv1", rate=25)
            vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
            cc = vs.codec_context
            cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = 1, 1, 1, 1
            for i in range(2):
                f = _frame("yuv420p", _i420_planes(rgb_to_i420(rgb, 1), h, w))
                f.pts = i
                for p in vs.encode(f):
                    out.mux(p)
            for p in vs.encode(None):
                out.mux(p)
        apply_video(lf.Lut.identity(17), src, dst, crf=0, face_protect=False)
        planes = []
        for path in (src, dst):
            with av.open(str(path)) as c:
                planes.append([f.to_ndarray().astype(int) for f in c.decode(video=0)])
        d = np.concatenate([(b - a).ravel() for a, b in zip(*planes)])
        assert len(planes[1]) == 2 and abs(d.mean()) < 0.01, (name, d.mean())
        assert (d != 0).mean() < (1e-9 if name == "ramp" else 0.005), (name, (d != 0).mean())
