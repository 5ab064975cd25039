"""Phone photos: HEIC (the heic extra, pillow-heif) and AVIF are read and written like JPEG; without the extra a HEIC
file is one clear error, never skipped; a folder's files that are neither photos nor videos are named, not passed
over in silence."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest
from PIL import Image, features

import livefilter.imageio as lio
from livefilter.errors import ImageReadError, OutputError
from livefilter.imageio import read_image, write_image
from livefilter.luts import write_lut
from livefilter.luts.lut import Lut, identity_table

from .conftest import DATA
from .test_cli import assert_bad_input, run

# find_spec, not heif_support(): collecting the tests must not register pillow-heif for the whole session
needs_heif = pytest.mark.skipif(importlib.util.find_spec("pillow_heif") is None,
                                reason="pillow-heif (the heic extra) is not installed")
needs_avif = pytest.mark.skipif(not features.check("avif"), reason="this Pillow has no AVIF codec")


def _photo(h=96, w=128):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 2, y * 2, 255 - x - y // 2], -1).clip(0, 255).astype(np.uint8)


def _save_heic(img, path, **kw):
    lio.heif_support()  # pillow-heif's Pillow plugin, registered as livefilter registers it
    (img if isinstance(img, Image.Image) else Image.fromarray(img)).save(path, **kw)


def _camera_exif():
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Acme", "Phone 12", 6  # maker, model, orientation: rotate 90
    return exif.tobytes()


@needs_heif
def test_heic_is_read_upright_in_srgb(tmp_path):
    img = _photo()
    _save_heic(img, tmp_path / "IMG_0001.HEIC", quality=95, exif=_camera_exif())
    got = read_image(tmp_path / "IMG_0001.HEIC")
    assert got.shape == (128, 96, 3)  # the orientation applied, as for a JPEG
    assert np.abs(got.astype(int) - np.rot90(img, -1)).mean() < 3  # lossy HEVC, the same picture


@needs_heif
def test_a_heic_saved_as_jpg_is_read_by_its_contents(tmp_path):
    _save_heic(_photo(), tmp_path / "x.heic", quality=90)
    (tmp_path / "x.heic").rename(tmp_path / "looks_like.jpg")
    assert read_image(tmp_path / "looks_like.jpg").shape == (96, 128, 3)


@needs_avif
def test_avif_round_trip(tmp_path):
    img = _photo()
    write_image(tmp_path / "a.avif", img, quality=95)
    assert np.abs(read_image(tmp_path / "a.avif").astype(int) - img).mean() < 3


def _brand(path, major: bytes):
    data = bytearray(path.read_bytes())
    data[8:12] = major
    path.write_bytes(bytes(data))


@needs_avif
@pytest.mark.parametrize("extra", [False, pytest.param(True, marks=needs_heif)])
def test_an_avif_with_a_generic_brand_is_read_by_pillow(tmp_path, monkeypatch, extra):
    # "mif1" is HEIF's generic brand, which AVIF files may carry: it was taken for HEIC (refused without the extra;
    # with it, pillow-heif took the file and failed with a bare RuntimeError)
    monkeypatch.setattr(lio, "heif_support", lio.heif_support if extra else (lambda: False))
    if extra:
        lio.heif_support()
    write_image(tmp_path / "a.avif", _photo(), quality=95)
    _brand(tmp_path / "a.avif", b"mif1")
    assert read_image(tmp_path / "a.avif").shape == (96, 128, 3)


# sRGB's red as Display P3 code values (the same colour): a photo tagged P3 in its nclx box, read as sRGB, was 21
# code values less red
P3_OF_SRGB_RED, SRGB_RED = (234, 51, 35), (255, 0, 0)


def _patch_nclx_primaries(path, primaries: int):
    data = bytearray(path.read_bytes())
    at = data.find(b"colrnclx")
    assert at > 0
    data[at + 8:at + 10] = primaries.to_bytes(2, "big")
    path.write_bytes(bytes(data))


@needs_heif
def test_a_heic_tagged_display_p3_is_read_in_srgb(tmp_path):
    patch = np.full((16, 16, 3), P3_OF_SRGB_RED, np.uint8)
    patch[8:] = 128  # grey stays grey
    for primaries, want in ((12, SRGB_RED), (1, P3_OF_SRGB_RED)):  # tagged P3; tagged BT.709 (sRGB's): as it is
        _save_heic(patch, tmp_path / "p3.heic", quality=-1, matrix_coefficients=0, color_primaries=primaries)
        got = read_image(tmp_path / "p3.heic").astype(int)
        assert np.abs(got[4, 4] - want).max() <= 2, (primaries, got[4, 4])
        assert np.abs(got[12, 12] - 128).max() <= 1


@needs_avif
def test_an_avif_tagged_display_p3_is_read_in_srgb(tmp_path):
    write_image(tmp_path / "p3.avif", np.full((16, 16, 3), P3_OF_SRGB_RED, np.uint8), quality=100)
    assert np.abs(read_image(tmp_path / "p3.avif").astype(int)[4, 4] - P3_OF_SRGB_RED).max() <= 3  # BT.709
    _patch_nclx_primaries(tmp_path / "p3.avif", 12)
    assert np.abs(read_image(tmp_path / "p3.avif").astype(int)[4, 4] - SRGB_RED).max() <= 3
    # an unusable ICC profile beside the tags: the profile is said and ignored, the tags still count
    Image.fromarray(np.full((16, 16, 3), P3_OF_SRGB_RED, np.uint8)).save(tmp_path / "bad.avif", quality=100,
                                                                          icc_profile=b"not a profile" * 20)
    _patch_nclx_primaries(tmp_path / "bad.avif", 12)
    with pytest.warns(UserWarning, match="ignoring its ICC colour profile"):
        assert np.abs(read_image(tmp_path / "bad.avif").astype(int)[4, 4] - SRGB_RED).max() <= 3


@needs_heif
def test_an_hdr_heic_is_brought_to_sdr_and_said(tmp_path, capsys):
    # PQ's code value for HDR reference white (203 nits, BT.2408) is 0.58 (148 of 255); read as SDR it was a dull
    # grey. Brought to SDR as an HDR video's frames are (BT.2390's curve from 1,000 nits), it is 229, as in a video
    grey = np.full((16, 16, 3), 148, np.uint8)
    _save_heic(grey, tmp_path / "hdr.heic", quality=-1, matrix_coefficients=0, color_primaries=9,
               transfer_characteristics=16)
    with pytest.warns(UserWarning, match=r"hdr\.heic: an HDR photo \(PQ\): brought to SDR"):
        got = read_image(tmp_path / "hdr.heic")
    assert np.abs(got.astype(int) - 229).max() <= 1
    with warnings.catch_warnings(record=True) as again:  # said once a photo (a looping sequence, a fit reading it
        warnings.simplefilter("always")                  # twice)
        read_image(tmp_path / "hdr.heic")
    assert not again
    # a grey one too (its primaries change no grey; its transfer does)
    _save_heic(Image.fromarray(grey[..., 0]), tmp_path / "grey.heic", quality=-1, transfer_characteristics=16)
    with pytest.warns(UserWarning, match="an HDR photo"):
        assert np.abs(read_image(tmp_path / "grey.heic").astype(int) - 229).max() <= 1
    write_lut(tmp_path / "id.cube", Lut(identity_table(2)))
    (tmp_path / "other.heic").write_bytes((tmp_path / "hdr.heic").read_bytes())
    code, _, err = run(["apply", tmp_path / "id.cube", tmp_path / "other.heic", "-o", tmp_path / "out.jpg"], capsys)
    assert code == 0 and err.count("other.heic: an HDR photo (PQ): brought to SDR") == 1
    assert np.abs(read_image(tmp_path / "out.jpg").astype(int) - 229).max() <= 2


@needs_heif
def test_a_heic_with_another_hevc_brand_is_read(tmp_path):
    _save_heic(_photo(), tmp_path / "x.heic", quality=90)
    _brand(tmp_path / "x.heic", b"hevm")  # a multi-view HEVC brand, read by pillow-heif
    assert lio._container(tmp_path / "x.heic") == "heif"  # known by its contents (it registers pillow-heif)
    assert read_image(tmp_path / "x.heic").shape == (96, 128, 3)


@needs_heif
@needs_avif
def test_apply_grades_a_phone_folder_and_names_what_it_left_out(tmp_path, capsys):
    photos, out = tmp_path / "phone", tmp_path / "graded"
    photos.mkdir()
    out.mkdir()
    _save_heic(_photo(), photos / "IMG_0001.HEIC", quality=95, exif=_camera_exif())
    Image.fromarray(_photo()).save(photos / "IMG_0002.avif", quality=95)
    Image.fromarray(_photo()).save(photos / "IMG_0003.jpg", quality=95)
    (photos / "IMG_0001.AAE").write_text("<plist/>")  # the phone's edit sidecar
    (photos / ".DS_Store").write_bytes(b"\0")  # hidden: not worth a word
    code, stdout, err = run(["apply", DATA / "tiny_2.cube", photos, "--out-dir", out, "--no-face-protect"], capsys)
    assert code == 0, err
    assert "left out 1 file that is not a still photo or a video" in stdout and "IMG_0001.AAE" in stdout
    assert ".DS_Store" not in stdout and "3 graded, 0 failed of 3 files" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["IMG_0001.HEIC", "IMG_0002.avif", "IMG_0003.jpg"]
    with Image.open(out / "IMG_0001.HEIC") as img:
        assert img.format == "HEIF" and img.size == (96, 128)  # upright
        exif = img.getexif()
        assert (exif[0x010F], exif[0x0110], exif.get(0x0112, 1)) == ("Acme", "Phone 12", 1)
    graded = {p.suffix: read_image(p).astype(int) for p in out.iterdir()}
    assert np.abs(graded[".avif"] - graded[".jpg"]).mean() < 3  # the same grade whatever the container
    assert np.abs(np.rot90(graded[".HEIC"]) - graded[".jpg"]).mean() < 4


@needs_heif
def test_fit_reads_a_heic_template(tmp_path, sample_after, capsys):
    _save_heic(Image.open(sample_after), tmp_path / "template.heic", quality=90)
    code, stdout, err = run(["fit", tmp_path / "template.heic", "-o", tmp_path / "look.cube"], capsys)
    assert code == 0, err
    assert (tmp_path / "look.cube").exists()


def _heif_header(path):
    # the first bytes of a HEIC file: enough for livefilter to know what it is
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64))
    return path


@pytest.mark.parametrize("name", ["IMG_0001.HEIC", "photo.jpg"])
def test_without_the_extra_a_heic_photo_is_one_clear_error(tmp_path, name, monkeypatch, capsys):
    monkeypatch.setattr(lio, "heif_support", lambda: False)
    src = _heif_header(tmp_path / name)
    with pytest.raises(ImageReadError, match=r"HEIC / HEIF photo: .*pip install 'livefilter\[heic\]'"):
        read_image(src)
    code, _, err = run(["apply", DATA / "tiny_2.cube", src, "-o", tmp_path / "out.jpg"], capsys)
    assert_bad_input(code, err, name)
    assert "pip install 'livefilter[heic]'" in err and not (tmp_path / "out.jpg").exists()


def test_without_the_extra_a_heic_output_is_refused_before_any_work(tmp_path, sample_test, monkeypatch, capsys):
    monkeypatch.setattr(lio, "heif_support", lambda: False)
    with pytest.raises(OutputError, match="heic extra"):
        lio.image_format(tmp_path / "out.heic")
    code, _, err = run(["apply", DATA / "tiny_2.cube", sample_test, "-o", tmp_path / "out.heic"], capsys)
    assert_bad_input(code, err, "out.heic")
    assert list(tmp_path.iterdir()) == []
