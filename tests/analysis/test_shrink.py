import cv2
import numpy as np

from livefilter.analysis.shrink import shrink, shrink_to


def _smooth(h, w):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.dstack([x / w * 255, y / h * 255, (x + y) / (w + h) * 255]).astype(np.uint8)


def test_shrink_matches_area_averaging_on_smooth_content():
    img = _smooth(1080, 1920)
    ours = shrink(img, (256, 144)).astype(int)
    ref = cv2.resize(img, (256, 144), interpolation=cv2.INTER_AREA).astype(int)
    assert ours.shape == (144, 256, 3)
    assert np.abs(ours - ref).max() <= 4


def test_shrink_to_keeps_the_aspect_and_leaves_small_images_alone():
    img = _smooth(1080, 1920)
    assert shrink_to(img, 256).shape == (144, 256, 3)
    small = _smooth(100, 60)
    assert shrink_to(small, 256) is not None and shrink_to(small, 256).shape == (100, 60, 3)
    assert shrink(small, (60, 100)).shape == (100, 60, 3)
    grey = _smooth(1080, 1920)[..., 0]
    assert shrink(grey, (192, 192)).shape == (192, 192)
