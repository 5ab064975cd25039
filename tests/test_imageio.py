import numpy as np
import pytest
from PIL import Image

import livefilter.imageio as lio
from livefilter.errors import ImageReadError, OutputError
from livefilter.imageio import read_image, write_image


def rgb_image(h=20, w=30):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 8, y * 12, (x + y) * 4], -1).astype(np.uint8)


def test_rgb_round_trip_png(tmp_path):
    img = rgb_image()
    write_image(tmp_path / "a.png", img)
    assert np.array_equal(read_image(tmp_path / "a.png"), img)


def test_grayscale(tmp_path):
    Image.fromarray(np.arange(200, dtype=np.uint8).reshape(10, 20), "L").save(tmp_path / "g.png")
    out = read_image(tmp_path / "g.png")
    assert out.shape == (10, 20, 3) and (out[..., 0] == out[..., 2]).all() and out[0, 5, 1] == 5


def test_rgba_keeps_alpha(tmp_path):
    rgba = np.dstack([rgb_image(), np.full((20, 30), 128, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    rgb, alpha = read_image(tmp_path / "a.png", with_alpha=True)
    assert np.array_equal(rgb, rgba[..., :3]) and (alpha == 128).all()


def test_16bit_png(tmp_path):
    import cv2

    a16 = (rgb_image().astype(np.uint16) * 257)
    cv2.imwrite(str(tmp_path / "c16.png"), a16[..., ::-1])
    assert np.array_equal(read_image(tmp_path / "c16.png"), rgb_image())
    g16 = (np.arange(200, dtype=np.uint16).reshape(10, 20) * 257)
    cv2.imwrite(str(tmp_path / "g16.png"), g16)
    assert read_image(tmp_path / "g16.png")[0, 7, 0] == 7


def test_palette(tmp_path):
    Image.fromarray(rgb_image()).convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(tmp_path / "p.png")
    out = read_image(tmp_path / "p.png")
    assert out.shape == (20, 30, 3) and np.abs(out.astype(int) - rgb_image()).mean() < 20


def test_cmyk_jpeg(tmp_path):
    Image.fromarray(rgb_image()).convert("CMYK").save(tmp_path / "c.jpg", quality=95)
    out = read_image(tmp_path / "c.jpg")
    assert out.shape == (20, 30, 3) and np.abs(out.astype(int) - rgb_image()).mean() < 12


def test_exif_rotation_is_applied(tmp_path):
    img = Image.fromarray(rgb_image(20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    img.save(tmp_path / "r.jpg", exif=exif.tobytes(), quality=95)
    assert read_image(tmp_path / "r.jpg").shape == (30, 20, 3)


def test_unreadable_inputs(tmp_path):
    (tmp_path / "t.jpg").write_text("hello, not an image")
    with pytest.raises(ImageReadError, match="not an image"):
        read_image(tmp_path / "t.jpg")
    write_image(tmp_path / "full.png", rgb_image(200, 200))
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError) as exc:
        read_image(tmp_path / "cut.png")
    assert "cut.png" in str(exc.value)
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ImageReadError, match="folder"):
        read_image(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageReadError):
        read_image(tmp_path / "empty.png")


@pytest.mark.parametrize("order", ["little", "big"])
def test_a_floating_point_colour_tiff_is_named_as_such(tmp_path, order):
    """A 32-bit float RGB TIFF (an HDR or linear export) said "not an image, or an image format that cannot be
    read". A grey one Pillow reads (0..1 as black..white), a 16-bit one too."""
    import cv2

    cv2.imwrite(str(tmp_path / "f32.tif"), np.random.default_rng(0).random((8, 12, 3), np.float32))
    if order == "big":  # the same file written big-endian (Motorola order), as some Mac tools write it
        Image.fromarray(np.zeros((4, 4), np.float32)).save(tmp_path / "grey.tif")  # (a grey one: read)
        assert read_image(tmp_path / "grey.tif").shape == (4, 4, 3)
        (tmp_path / "f32.tif").write_bytes(_big_endian_float_tiff(8, 12))
    with pytest.raises(ImageReadError, match=r"f32\.tif: a TIFF of 32-bit floating-point samples \(HDR or linear"):
        read_image(tmp_path / "f32.tif")
    cv2.imwrite(str(tmp_path / "u16.tif"), np.full((8, 12, 3), 65535, np.uint16))
    assert read_image(tmp_path / "u16.tif").min() == 255


def _big_endian_float_tiff(h: int, w: int) -> bytes:
    """An uncompressed big-endian RGB TIFF of 32-bit float samples (BitsPerSample and SampleFormat at offsets)."""
    import struct

    entries = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 3, "bits"), (259, 3, 1, 1), (262, 3, 1, 2),
               (273, 4, 1, "data"), (277, 3, 1, 3), (278, 3, 1, h), (279, 4, 1, h * w * 12), (339, 3, 3, "fmt")]
    ifd_at = 8
    extra_at = ifd_at + 2 + 12 * len(entries) + 4
    offsets = {"bits": extra_at, "fmt": extra_at + 6, "data": extra_at + 12}
    out = b"MM" + struct.pack(">HI", 42, ifd_at) + struct.pack(">H", len(entries))
    for tag, kind, count, value in entries:
        v = offsets[value] if isinstance(value, str) else value
        out += struct.pack(">HHI", tag, kind, count) + (struct.pack(">HH", v, 0) if kind == 3 and count == 1
                                                         else struct.pack(">I", v))
    return out + b"\0" * 4 + struct.pack(">3H", 32, 32, 32) + struct.pack(">3H", 3, 3, 3) + b"\0" * (h * w * 12)


def test_tiny_and_huge(tmp_path, monkeypatch):
    write_image(tmp_path / "one.png", rgb_image(1, 1))
    assert read_image(tmp_path / "one.png").shape == (1, 1, 3)
    with pytest.raises(ImageReadError, match="at least 2x2"):
        read_image(tmp_path / "one.png", min_size=2)
    write_image(tmp_path / "big.png", rgb_image(100, 100))
    monkeypatch.setattr(lio, "MAX_PIXELS", 5000)
    with pytest.raises(ImageReadError, match="megapixels"):
        read_image(tmp_path / "big.png")
    assert read_image(tmp_path / "big.png", allow_large=True).shape == (100, 100, 3)


def test_write_is_atomic_and_checked(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        write_image(tmp_path / "nope" / "a.png", rgb_image())
    with pytest.raises(OutputError, match="extension"):
        write_image(tmp_path / "a.xyz", rgb_image())
    write_image(tmp_path / "a.jpg", rgb_image())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg"]
    with pytest.raises(OutputError, match="same as an input"):
        write_image(tmp_path / "a.jpg", rgb_image(), inputs=(tmp_path / "a.jpg",))


def _s15(v):
    import struct

    return struct.pack(">i", int(round(v * 65536)))


def swapped_primaries_profile() -> bytes:
    """A minimal ICC v2 matrix/TRC RGB profile, written out by hand: linear tone curves and sRGB's red and blue
    primaries (D50-adapted) swapped. A file value (r, g, b) in it is the colour sRGB calls linear (b, g, r)."""
    import struct

    def xyz(v):
        return b"XYZ " + b"\0" * 4 + b"".join(_s15(c) for c in v)

    curv = b"curv" + b"\0" * 4 + struct.pack(">I", 0)  # no entries: the identity (linear) curve
    text = b"livefilter test: swapped primaries\0"  # must not say sRGB (such profiles are left alone)
    desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(text)) + text + b"\0" * 78
    d50 = (0.9642, 1.0, 0.8249)
    tags = [(b"desc", desc), (b"wtpt", xyz(d50)), (b"rXYZ", xyz((0.1431, 0.0606, 0.7141))),
            (b"gXYZ", xyz((0.3851, 0.7169, 0.0971))), (b"bXYZ", xyz((0.4361, 0.2225, 0.0139))),
            (b"rTRC", curv), (b"gTRC", curv), (b"bTRC", curv)]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = (struct.pack(">I", offset + len(data)) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + b"\0" * 12 + b"acsp" + b"\0" * 28 + b"".join(_s15(c) for c in d50))
    return header + b"\0" * (128 - len(header)) + struct.pack(">I", len(tags)) + table + data


def test_icc_tagged_image_is_converted_to_srgb(tmp_path):
    img = rgb_image(16, 16)
    img[0, 0] = (255, 0, 0)
    Image.fromarray(img).save(tmp_path / "icc.png", icc_profile=swapped_primaries_profile())
    out = read_image(tmp_path / "icc.png")
    assert tuple(out[0, 0]) == (0, 0, 255)  # the profile's "red" is sRGB's blue
    lin = img[..., ::-1] / 255.0
    expected = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055) * 255  # sRGB encoding
    assert np.abs(out - expected).max() <= 1.5  # LittleCMS's 8-bit transform rounds (0.52 measured)
    # the same pixels without the profile are read as they are
    Image.fromarray(img).save(tmp_path / "plain.png")
    assert np.array_equal(read_image(tmp_path / "plain.png"), img)


def png_header_only(w: int, h: int) -> bytes:
    """A PNG whose header says w x h but holds (almost) no pixel data: tests the size limit without 300 MB."""
    import struct
    import zlib

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)))


def test_the_real_100_megapixel_limit(tmp_path):
    """Exactly 100 MP is allowed, one row more is refused before decoding (the file itself is tiny)."""
    (tmp_path / "over.png").write_bytes(png_header_only(10_000, 10_001))
    with pytest.raises(ImageReadError, match=r"10000x10001 = 100,010,000 pixels, over the limit of 100,000,000 "
                                             r"\(100 megapixels; "):
        read_image(tmp_path / "over.png")
    # allowed: it gets as far as decoding (and the tiny file is then truncated)
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(tmp_path / "over.png", allow_large=True)
    (tmp_path / "at.png").write_bytes(png_header_only(10_000, 10_000))
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(tmp_path / "at.png")


@pytest.mark.parametrize("ext", [".jpg", ".avif"])
def test_jpeg_and_avif_keep_full_resolution_colour_at_high_quality(tmp_path, ext):
    """At --quality 90 and above a graded photo's colour is written at full resolution (4:4:4): one-pixel red and
    blue columns come back apart; below, 4:2:0 (smaller files) merges them."""
    from PIL import features

    if ext == ".avif" and not features.check("avif"):
        pytest.skip("this Pillow has no AVIF")
    stripes = np.zeros((32, 32, 3), np.uint8)
    stripes[:, 0::2] = (200, 40, 40)
    stripes[:, 1::2] = (40, 40, 200)

    def red_blue_gap(quality):
        write_image(tmp_path / f"q{quality}{ext}", stripes, quality=quality)
        got = read_image(tmp_path / f"q{quality}{ext}").astype(int)
        return float(np.mean(got[:, 0::2, 0] - got[:, 1::2, 0]))  # red of the red columns above the blue ones'

    assert red_blue_gap(95) > 120 and red_blue_gap(lio.FULL_CHROMA_QUALITY) > 120
    assert red_blue_gap(lio.FULL_CHROMA_QUALITY - 1) < 80
    if ext == ".jpg":
        from PIL import JpegImagePlugin

        with Image.open(tmp_path / f"q95{ext}") as img:
            assert JpegImagePlugin.get_sampling(img) == 0  # 4:4:4


def test_a_lossless_webp_stays_lossless(tmp_path):
    # graded with an identity look, a lossless WebP came back up to 44 code values off (written lossy at quality 95)
    import livefilter as lf
    from livefilter.batch.images import apply_image

    img = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "lossless.webp", lossless=True)
    Image.fromarray(img).save(tmp_path / "lossy.webp", quality=90)
    assert lio.webp_is_lossless(tmp_path / "lossless.webp") and not lio.webp_is_lossless(tmp_path / "lossy.webp")
    for name in ("lossless", "lossy"):
        apply_image(lf.Lut.identity(2), tmp_path / f"{name}.webp", tmp_path / f"{name}_out.webp", face_protect=False)
    assert lio.webp_is_lossless(tmp_path / "lossless_out.webp")
    assert np.array_equal(read_image(tmp_path / "lossless_out.webp"), img)
    assert not lio.webp_is_lossless(tmp_path / "lossy_out.webp")  # a lossy one stays lossy (smaller)
    # an ICC profile (or EXIF) before the image: past the first 64 KiB the check read
    Image.fromarray(img).save(tmp_path / "icc.webp", lossless=True, icc_profile=bytes(70_000))
    assert lio.webp_is_lossless(tmp_path / "icc.webp")
    (tmp_path / "cut.webp").write_bytes((tmp_path / "icc.webp").read_bytes()[:40_000])  # cut short: not lossless
    assert not lio.webp_is_lossless(tmp_path / "cut.webp")


def test_transparency_a_format_cannot_hold_is_laid_on_white(tmp_path):
    # a .jpg of a transparent PNG showed what was stored under its transparent parts (magenta here), without a word
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = (40, 120, 200), 255
    rgba[:, :10] = (255, 0, 255, 0)
    rgba[:, 10:12, 3] = 128  # a soft edge: half on white
    with pytest.warns(UserWarning, match=r"in.png: a .jpg file holds no transparency: its transparent parts are laid"):
        write_image(tmp_path / "out.jpg", rgba[..., :3], rgba[..., 3], inputs=(tmp_path / "in.png",))
    out = read_image(tmp_path / "out.jpg").astype(int)
    assert np.abs(out[:, :8] - 255).max() <= 3 and np.abs(out[:, 14:] - (40, 120, 200)).max() <= 4
    assert np.abs(out[:, 10] - (148, 188, 228)).max() <= 6  # half of each
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_image(tmp_path / "opaque.jpg", rgba[:, 12:, :3], rgba[:, 12:, 3])  # opaque: nothing to say
    write_image(tmp_path / "one.png", rgba[..., :3], rgba[..., 3:])  # (H, W, 1) taken as (H, W)
    assert read_image(tmp_path / "one.png", with_alpha=True)[1].shape == (20, 30)
    for bad in (rgba[..., 3] / 255.0, rgba[:10, :, 3]):  # a float alpha, another size: one error naming it
        with pytest.raises(lio.InputError, match="alpha must be uint8 of the image's size"):
            write_image(tmp_path / "bad.jpg", rgba[..., :3], bad)


# a graded copy keeps what a photographer put in the file: EXIF, XMP (captions, rights, ratings), the resolution --

XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
       b'tiff:Orientation="6"><dc:creator>Jane Roe</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>')


def _grade(src, dst):
    from livefilter.batch.images import apply_image
    from livefilter.luts.lut import Lut, identity_table

    apply_image(Lut(identity_table(5)), src, dst, face_protect=False)
    return Image.open(dst)


@pytest.mark.parametrize("ext", [".jpg", ".png", ".tif", ".webp"])
def test_a_graded_copy_keeps_xmp_and_resolution_with_the_orientation_reset(tmp_path, ext):
    # XMP and the resolution were dropped (EXIF alone was copied; a TIFF had none); a camera's EXIF (its Exif and
    # GPS sub-IFDs) in a TIFF: kept (libtiff's compressed writer failed on them, from a review)
    exif = Image.Exif()
    exif[0x010F], exif[0x0112] = "Acme", 6
    exif.get_ifd(0x8769)[0x9003] = "2026:05:01 10:11:12"  # DateTimeOriginal
    exif.get_ifd(0x8825)[1] = "N"  # GPSLatitudeRef
    Image.fromarray(rgb_image(20, 30)).save(tmp_path / "in.jpg", exif=exif.tobytes(), xmp=XMP, dpi=(300, 300))
    with _grade(tmp_path / "in.jpg", tmp_path / f"out{ext}") as img:
        xmp = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
        xmp = xmp.encode() if isinstance(xmp, str) else xmp
        assert img.size == (20, 30) and b"Jane Roe" in xmp and b'tiff:Orientation="1"' in xmp  # upright now
        got = img.getexif()
        assert got[0x010F] == "Acme" and got.get(0x0112, 1) == 1
        assert got.get_ifd(0x8769)[0x9003] == "2026:05:01 10:11:12" and got.get_ifd(0x8825)[1] == "N"
        if ext != ".webp":  # (WebP has no resolution)
            assert tuple(round(d) for d in img.info["dpi"]) == (300, 300)


def test_metadata_a_copy_cannot_hold_is_left_out_not_a_failure(tmp_path):
    # (from a review) an XMP packet over what a JPEG holds failed the file with a ValueError; a TIFF without
    # resolution tags gave its copies 1 dpi
    big = XMP.replace(b"Jane Roe", b"x" * 70_000)
    Image.fromarray(rgb_image()).save(tmp_path / "in.png", pnginfo=_png_xmp(big))
    with pytest.warns(UserWarning, match=r"in.png: its XMP metadata \(70,\d+ bytes\) is over the 65,504"):
        _grade(tmp_path / "in.png", tmp_path / "out.jpg").close()
    with _grade(tmp_path / "in.png", tmp_path / "out.tif") as img:  # where it fits, it is kept
        assert b"x" * 70_000 in img.info["xmp"]
    Image.fromarray(rgb_image()).save(tmp_path / "plain.tif")
    with _grade(tmp_path / "plain.tif", tmp_path / "plain.jpg") as img:
        assert img.info.get("dpi") in (None, (72, 72))  # Pillow's reading of "none stated"
    with pytest.raises(OutputError, match="out.jpg: cannot write the image"):  # an encoder's refusal, named
        write_image(tmp_path / "out.jpg", rgb_image(), exif=b"Exif\x00\x00" + b"\x00" * 70_000)


def _png_xmp(xmp: bytes):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp.decode())
    return info


def test_a_tiff_s_layout_is_not_copied_as_metadata(tmp_path):
    # its EXIF block copied into a JPEG said the TIFF's own size (before turning upright) and 16 bits per sample
    exif = Image.Exif()
    exif[0x010F], exif[0x0112] = "Acme", 6
    Image.fromarray(rgb_image(20, 30)).save(tmp_path / "in.tif", exif=exif.tobytes())
    with _grade(tmp_path / "in.tif", tmp_path / "out.jpg") as img:
        got = img.getexif()
        assert got[0x010F] == "Acme" and not {256, 257, 258, 259, 273, 279} & set(got), dict(got)
    with _grade(tmp_path / "in.tif", tmp_path / "out.tif") as img:  # a TIFF's own EXIF kept in a TIFF
        assert img.getexif()[0x010F] == "Acme" and img.size == (20, 30)


def test_what_a_graded_copy_cannot_keep_is_said_naming_the_file(tmp_path):
    import cv2

    cv2.imwrite(str(tmp_path / "deep.png"), (rgb_image().astype(np.uint16) * 257)[..., ::-1])  # 48-bit RGB
    pages = [Image.fromarray(rgb_image()), Image.fromarray(rgb_image()[::-1].copy())]
    pages[0].save(tmp_path / "pages.tif", save_all=True, append_images=pages[1:])
    Image.fromarray(rgb_image()).save(tmp_path / "odd.jpg", exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00")
    said = {}
    for name in ("deep.png", "pages.tif", "odd.jpg"):
        with pytest.warns(UserWarning) as record:
            _grade(tmp_path / name, tmp_path / f"out_{name}").close()
        said[name] = [str(w.message) for w in record]
    assert said["deep.png"] == [f"{tmp_path / 'deep.png'}: a 16-bit image is graded and written in 8 bits per channel"]
    assert said["pages.tif"] == [f"{tmp_path / 'pages.tif'}: a TIFF of 2 pages: only the first is graded and written"]
    # Pillow's "Corrupt EXIF data", twice and naming no file: once, naming it
    assert len(said["odd.jpg"]) == 1 and said["odd.jpg"][0].startswith(f"{tmp_path / 'odd.jpg'}: its EXIF metadata is "
                                                                      "damaged (Corrupt EXIF data"), said["odd.jpg"]
