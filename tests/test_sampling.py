import numpy as np
import pytest

from livefilter.errors import InputError
from livefilter.look.sampling import saliency_mask, sample_salient, sample_segments, sample_uniform


def test_uniform_is_reproducible_and_unique():
    a = sample_uniform((100, 120), 8000, seed=3)
    assert np.array_equal(a, sample_uniform((100, 120), 8000, seed=3))
    assert len(np.unique(a)) == 8000 and a.max() < 12000
    assert not np.array_equal(a, sample_uniform((100, 120), 8000, seed=4))


def test_uniform_small_image_samples_with_replacement():
    a = sample_uniform((10, 10), 4000)
    assert a.size == 4000 and a.max() < 100


def test_uniform_respects_valid_mask():
    valid = np.zeros((50, 50), bool)
    valid[:10] = True
    a = sample_uniform((50, 50), 4000, valid=valid)
    assert (a < 500).all()
    with pytest.raises(InputError):
        sample_uniform((50, 50), 10, valid=np.zeros((50, 50), bool))


def test_salient_puts_n_t_samples_inside():
    mask = np.zeros((100, 100), bool)
    mask[20:40, 20:40] = True  # t = 0.04
    img = np.zeros((100, 100, 3), np.uint8)
    idx = sample_salient(img, 8000, mask=mask)
    inside = mask.ravel()[idx].sum()
    assert inside == round(8000 * (0.5 + 0.5 * 0.04))
    assert idx.size == 8000


def test_salient_without_region_is_uniform():
    img = np.zeros((40, 40, 3), np.uint8)
    idx = sample_salient(img, 4000, mask=np.zeros((40, 40), bool))
    assert idx.size == 4000


def test_spectral_residual_finds_an_object(photo):
    mask = saliency_mask(photo)
    assert mask.shape == photo.shape[:2] and 0.02 < mask.mean() < 0.9


def test_segments_get_n_r_samples_and_skip_small_ones():
    labels = np.zeros((100, 100), np.int32)
    labels[:, 60:] = 1  # r = 0.4
    labels[:5, :] = 2  # r = 0.05 -> skipped
    per = sample_segments(labels, 8000)
    assert set(per) == {0, 1}
    assert abs(per[1].size - 8000 * (labels == 1).mean()) <= 1
    assert (labels.ravel()[per[0]] == 0).all() and (labels.ravel()[per[1]] == 1).all()
    with pytest.raises(InputError):
        sample_segments(labels.astype(float), 100)
