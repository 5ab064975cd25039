"""Template -> guessed original (the de-filter network, method.md section 1).

The network (models/defilter.onnx) is trained and shipped by the de-filter issue; until it is present,
learning a look needs the original photo as well.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import ModelError

MODELS_DIR = Path(os.environ.get("LIVEFILTER_MODELS", Path(__file__).resolve().parent.parent / "models"))
MODEL_PATH = MODELS_DIR / "defilter.onnx"


def defilter(template: np.ndarray) -> np.ndarray:
    """Guess the unfiltered original of a uint8 RGB template."""
    raise ModelError(
        "learning a look from the template alone needs the de-filter model, which this version does not ship "
        "yet; give the photo before its filter as well (--original / original=...)", MODEL_PATH)
