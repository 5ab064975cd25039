"""The headline feature in CI: a look learnt from ONE photo with the shipped de-filter model, look prior and look
library (onnxruntime and numpy only, no torch) matches a committed golden LUT (tests/data/golden_oneshot.npz, made
by tools/make_golden.py)."""

import hashlib
import json

import numpy as np
import pytest

import livefilter as lf
from livefilter.fileio import MODELS_DIR

from .conftest import DATA, SAMPLES

GOLDEN = DATA / "golden_oneshot.npz"
REGEN = "run: python tools/make_golden.py (and commit tests/data/golden_oneshot.npz)"

# Tolerance, in code values on the 9^3 grid. Measured on this machine: onnxruntime CPU with 1, 2 or 4 threads
# and graph optimisation on or off changes the network's output by at most 1.1e-6, which moved no pixel of the
# rounded uint8 guess and left the LUT bit-identical. Other CPUs (other SIMD kernels in onnxruntime, OpenCV's
# resize, libjpeg) can round a few pixels of the guess or the template the other way: flipping 5 % of the guess's
# channels by one code value moved the LUT by at most 0.071 code values (0.018 for 1 %) and the kept guess weight
# by 3e-4. 0.5 leaves 7x that margin, while a one-photo fit that returns identity is 35 code values away (7 on
# average).
TOLERANCE = 0.5
WEIGHT_TOLERANCE = 0.005


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN) as z:
        return z["table"], json.loads(str(z["meta"]))


@pytest.fixture(scope="module")
def one_photo_look(golden):
    model = MODELS_DIR / "defilter.onnx"
    if not model.is_file():
        pytest.fail(f"{model} is missing: the shipped de-filter model is part of the product")
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    meta = golden[1]
    if sha != meta["model_sha256"]:
        pytest.fail(f"the golden was made with model {meta['model_sha256'][:12]}, models/defilter.onnx is "
                    f"{sha[:12]}: {REGEN}")
    from livefilter.look import prior

    prior_sha = hashlib.sha256(prior.PRIOR_PATH.read_bytes()).hexdigest() if prior.PRIOR_PATH.is_file() else None
    if prior_sha != meta.get("prior_sha256"):
        pytest.fail(f"the golden was made with look prior {str(meta.get('prior_sha256'))[:12]}, "
                    f"models/look_prior.npz is {str(prior_sha)[:12]}: {REGEN}")
    from livefilter.look import library

    lib_sha = hashlib.sha256(library.LIBRARY_PATH.read_bytes()).hexdigest() if library.has_library() else None
    if lib_sha != meta.get("library_sha256"):
        pytest.fail(f"the golden was made with look library {str(meta.get('library_sha256'))[:12]}, "
                    f"models/look_library.npz is {str(lib_sha)[:12]}: {REGEN}")
    template = SAMPLES / "sample_after.jpg"
    assert hashlib.sha256(template.read_bytes()).hexdigest() == meta["template_sha256"], REGEN
    return lf.fit_look(template, size=meta["size"])


def test_one_photo_fit_with_the_shipped_model_matches_the_golden_lut(one_photo_look, golden):
    table, meta = golden
    look = one_photo_look
    assert look.meta["original"] == "de-filter network"
    diff = np.abs(look.lut.table - table).max() * 255
    assert diff <= TOLERANCE, f"one-photo look is {diff:.3f} code values from the golden"
    assert abs(look.meta["guess_weight"] - meta["guess_weight"]) <= WEIGHT_TOLERANCE


def test_golden_one_photo_look_is_a_real_look(golden, sample_before, sample_after):
    """The golden itself is no identity: it moves the template's original toward the template. (Measured on the
    photo's colours: colours the template never shows are left near identity by the coverage fall-back.)"""
    table, meta = golden
    assert 0.05 < meta["guess_weight"] <= 1
    before, after = lf.read_image(sample_before), lf.read_image(sample_after)
    graded = lf.render(before, lf.Lut(table))
    assert np.abs(graded.astype(int) - before).mean() > 3
    # measured with the shipped model: 7.9 code values from the template against 12.3 for the original
    assert np.abs(graded.astype(int) - after).mean() < 0.8 * np.abs(before.astype(int) - after).mean()
