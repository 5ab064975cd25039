"""A uniform border (letterbox bars, a frame) is found and left out of a one-photo fit; a picture's own uniform
regions (a sky, a studio backdrop) are not taken for one (livefilter.analysis.border)."""

import warnings

import cv2
import numpy as np
import pytest

import livefilter as lf
from livefilter.analysis.border import border_of
from livefilter.imageio import read_image
from livefilter.look.sampling import WORK_SIDE, downscale

from ..test_cli import run


@pytest.fixture
def picture(sample_after):
    """The sample photo without its own thin grey frame (3 px left, 2 right): no border of its own."""
    return np.ascontiguousarray(read_image(sample_after)[:, 3:-2])


def found(image):
    return border_of(downscale(image, WORK_SIDE), image)


def bars(image, n, value=0):
    z = np.empty((n, image.shape[1], 3), np.uint8)
    z[:] = value
    return np.concatenate([z, image, z])


def jpeg(image, quality=75):
    ok, enc = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(enc, cv2.IMREAD_COLOR)[..., ::-1].copy()


def test_letterbox_bars_and_frames_are_found(picture, sample_after):
    assert found(picture) is None
    assert found(bars(picture, 96)) == (96, 96, 0, 0)
    assert found(np.pad(picture, ((24, 24), (30, 30), (0, 0)), constant_values=255)) == (24, 24, 30, 30)
    # pillarbox bars of a dark grey, on a photo twice the working size (found on the small copy, given in pixels)
    big = cv2.resize(picture, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    t, b, left, r = found(np.pad(big, ((0, 0), (200, 200), (0, 0)), constant_values=20))
    assert (t, b) == (0, 0) and 200 <= left <= 202 and 200 <= r <= 202
    # JPEG's ringing at the bars' edge: the bars still end there, within a line
    t, b, left, r = found(jpeg(bars(picture, 100, value=8)))
    assert 99 <= t <= 101 and 99 <= b <= 101 and left == r == 0
    # the sample photo's own 3 px grey frame (left and right) is one
    assert found(read_image(sample_after)) == (0, 0, 3, 2)


def test_bars_with_an_outline_at_the_very_edge(picture):
    """A 1 px light outline around thin bars on a large photo (a scan's edge): the bars are still cut, and a border
    is never reported as all zeros."""
    big = cv2.resize(picture, None, fx=3, fy=3, interpolation=cv2.INTER_LINEAR)
    img = bars(big, 6)
    img[0] = img[-1] = 255
    box = found(img)
    assert box is not None and any(box) and 3 <= box[0] <= 6 and 3 <= box[1] <= 6


def test_a_pictures_own_uniform_regions_are_not_a_border(picture):
    h, w = picture.shape[:2]
    flat = np.full((h, w, 3), 128, np.uint8)
    assert found(flat) is None  # one colour: the flat-template guard's case, not a border
    sky = picture.copy()
    sky[: h // 4] = (70, 120, 200)  # a clear blue sky along the top alone
    assert found(sky) is None
    grey_top = picture.copy()
    grey_top[: h // 5] = 0  # black at the top only: no matching bar at the bottom
    assert found(grey_top) is None
    # a product shot: a subject on a white backdrop that goes on around it (no straight edge)
    shot = np.full((h, w, 3), 250, np.uint8)
    cv2.circle(shot, (w // 2, h // 2), h // 3, (200, 40, 40), -1)
    assert found(shot) is None
    # coloured bars (not neutral) are part of the picture
    assert found(bars(picture, 96, value=(20, 30, 90))) is None
    # bars leaving under a quarter of the picture are not cut
    thin = cv2.resize(picture, (w, h // 6))
    assert found(bars(thin, h // 2)) is None


def test_a_one_photo_fit_leaves_the_border_out(picture):
    """The look learnt from a letterboxed or framed template is the one learnt from the picture inside; the fit says
    what it cut. With an original the pixels pair up as given: nothing is cut."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inside = lf.fit_look(picture, candidates=1)
        barred = lf.fit_look(bars(picture, 96), candidates=1)
        framed = lf.fit_look(np.pad(picture, ((24, 24), (24, 24), (0, 0)), constant_values=255), candidates=1)
        labels = np.zeros((picture.shape[0] + 192, picture.shape[1]), np.int32)
        labelled = lf.fit_look(bars(picture, 96), sampling="segments", labels=labels, candidates=1)
        paired = lf.fit_look(bars(picture, 96), bars(picture, 96))
    assert "border" not in inside.meta
    assert barred.meta["border"] == {"top": 96, "bottom": 96, "left": 0, "right": 0}
    assert framed.meta["border"] == {"top": 24, "bottom": 24, "left": 24, "right": 24}
    assert np.array_equal(barred.lut.table, inside.lut.table)
    assert np.array_equal(framed.lut.table, inside.lut.table)
    assert labelled.meta["border"] == barred.meta["border"]  # the labels were cut along with the template
    assert "border" not in paired.meta
    # a saliency mask at another size than the template is cut in its own pixels
    big = cv2.resize(bars(picture, 96), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    mask = np.zeros((big.shape[0] // 2, big.shape[1] // 2), bool)
    mask[150:300, 200:500] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small_mask = lf.fit_look(big, sampling="salient", saliency_mask=mask, candidates=1)
        full = cv2.resize(mask.astype(np.uint8), big.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0
        full_mask = lf.fit_look(big, sampling="salient", saliency_mask=full, candidates=1)
    assert small_mask.meta["border"]["top"] == 192
    assert np.array_equal(small_mask.lut.table, full_mask.lut.table)
    assert barred.meta["template_sha256"] != inside.meta["template_sha256"]  # the photo as given


def test_cli_fit_says_what_it_cut(picture, tmp_path, capsys):
    src = tmp_path / "still.png"
    cv2.imwrite(str(src), bars(picture, 96)[..., ::-1])
    code, out, err = run(["fit", src, "--candidates", "1", "-o", tmp_path / "still.cube"], capsys)
    assert code == 0
    assert "border: a uniform border left out (top 96, bottom 96 px)" in out
