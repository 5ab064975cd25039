"""Where livefilter's shipped files are: models, the CUDA kernel source, the sample images.

One place answers "where is X", for a source checkout and for an installed wheel alike:
- installed (wheel or sdist): ``models/`` and ``shaders/`` are package data inside ``livefilter/`` (pyproject /
  setup.py map the repository's top-level ``models/`` and ``shaders/`` folders to ``livefilter/models`` and
  ``livefilter/shaders``), found with :mod:`importlib.resources`;
- a checkout (``pip install -e .`` or ``PYTHONPATH``): the top-level ``models/`` and ``shaders/`` beside the package.
``LIVEFILTER_MODELS`` overrides the model folder.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

_PACKAGE = Path(str(files("livefilter")))
_CHECKOUT = _PACKAGE.parent


def _folder(name: str) -> Path:
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _CHECKOUT / name


#: Shipped model files: defilter.onnx, scene.onnx, look_prior.npz, face_detection_short_range.tflite,
#: selfie_segmentation.tflite, NOTICE.
MODELS_DIR = Path(os.environ["LIVEFILTER_MODELS"]) if os.environ.get("LIVEFILTER_MODELS") else _folder("models")
#: CUDA kernel sources (lut_render.cu).
SHADERS_DIR = _folder("shaders")
#: The bundled public-domain sample photos (sample_before/after/test.jpg) and their NOTICE.
DATA_DIR = _PACKAGE / "data"


#: what to do when a shipped model file is missing or unreadable (docs/development.md says how each is re-created)
REINSTALL = "it ships with livefilter: reinstall the package (pip install --force-reinstall livefilter)"


def model_path(name: str) -> Path:
    """A shipped model file (it may be missing: callers say what to do then)."""
    return MODELS_DIR / name


def shader_path(name: str = "lut_render.cu") -> Path:
    """A CUDA kernel source file."""
    return SHADERS_DIR / name


def sample_path(name: str) -> Path:
    """A bundled sample image."""
    return DATA_DIR / name
