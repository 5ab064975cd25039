"""README's promises about what a fit accepts: transparent pixels are not sampled, and an original of another
size is resized only when its aspect ratio is within 1 % of the template's."""

import cv2
import numpy as np
import pytest
from PIL import Image

import livefilter as lf

from .conftest import SAMPLES, apply_float_look


@pytest.fixture(scope="module")
def images():
    return lf.read_image(SAMPLES / "sample_before.jpg"), lf.read_image(SAMPLES / "sample_test.jpg")


@pytest.mark.parametrize("mapping", ["residual", "seed"])
def test_transparent_template_pixels_are_excluded_from_the_fit(tmp_path, images, mapping):
    orig, test = images
    tpl = apply_float_look(orig)
    h, w = tpl.shape[:2]
    tpl[:, w // 2:] = 255 - orig[:, w // 2:]  # garbage colours under the transparent half
    alpha = np.full((h, w), 255, np.uint8)
    alpha[:, w // 2:] = 0
    Image.fromarray(np.dstack([tpl, alpha]), "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(tpl).save(tmp_path / "opaque.png")  # the same colours, all opaque
    truth = apply_float_look(test)
    identity_err = np.abs(test.astype(int) - truth).mean()  # 17 code values

    def err(path):
        return np.abs(lf.fit_look(path, SAMPLES / "sample_before.jpg", mapping=mapping).apply(test).astype(int)
                      - truth).mean()

    # measured: 0.3 (residual) and 1.7 (seed) code values with alpha; 48 and 67 when the garbage is sampled
    assert err(tmp_path / "rgba.png") < 0.25 * identity_err
    assert err(tmp_path / "opaque.png") > identity_err


def _resized(img, w, h):
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("ow", [605, 595])  # 1.5125 and 1.4875 against 1.5: 0.83 % off
def test_original_within_one_percent_aspect_is_resized_with_a_warning(images, ow):
    orig, test = images
    tpl = apply_float_look(orig)  # 768 x 512: aspect 1.5
    with pytest.warns(UserWarning, match=f"{ow}x400 resized to the template's 768x512"):
        look = lf.fit_look(tpl, _resized(orig, ow, 400))
    # the look learnt from the resized original reproduces the template from the full-size one (the template's
    # own colours: another photo's colours the template never showed are left near identity by design)
    assert np.abs(look.apply(orig).astype(int) - tpl).mean() < 0.25 * np.abs(orig.astype(int) - tpl).mean()


@pytest.mark.parametrize("ow", [607, 593])  # 1.5175 and 1.4825 against 1.5: 1.17 % off
def test_original_beyond_one_percent_aspect_is_refused(images, ow):
    orig, _ = images
    with pytest.raises(lf.InputError, match="different aspect ratios"):
        lf.fit_look(apply_float_look(orig), _resized(orig, ow, 400))


def test_what_a_transparent_part_stores_does_not_change_a_one_photo_look(tmp_path, images):
    """Two files that look the same (a photo whose top third is transparent, magenta or green stored under it) give
    the same look from one photo: the hidden rows are left out like a border, hidden pixels inside the picture
    take their nearest visible pixel's colour (before: look strengths 6.2 and 12.3)."""
    orig, _ = images
    h, w = orig.shape[:2]
    alpha = np.full((h, w), 255, np.uint8)
    alpha[: h // 3] = 0  # transparent rows at the top: cut off
    alpha[h // 2: h // 2 + 40, w // 3: w // 3 + 60] = 0  # a transparent hole inside: filled
    tables = []
    for name, colour in (("magenta", (255, 0, 255)), ("green", (0, 255, 0))):
        rgb = orig.copy()
        rgb[alpha == 0] = colour
        Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(tmp_path / f"{name}.png")
        look = lf.fit_look(tmp_path / f"{name}.png", candidates=1)
        assert look.meta["border"]["top"] == h // 3  # (the photo's own 2-3 px frame is cut at the sides)
        tables.append(look.lut.table)
    assert np.array_equal(tables[0], tables[1])


def test_a_flat_original_is_named_as_the_original():
    # the warnings blamed the template ("the template has only 1 distinct colour(s)", "the template's colours
    # cover 0%") for a flat --original
    import warnings

    after = lf.read_image(SAMPLES / "sample_after.jpg")
    grey = np.full_like(after, 128)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        look = lf.fit_look(after, original=grey)
    lines = [str(w.message) for w in said]
    assert any("the original has only 1 distinct colour(s)" in s for s in lines), lines  # an array: no name
    assert any("the original's colours cover 0%" in s for s in lines), lines
    assert not any("the template" in s for s in lines), lines
    assert look.meta["confidence"]["level"] == "low"
