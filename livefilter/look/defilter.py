"""Template -> guessed original: the de-filter network (docs/method.md section 1), run with onnxruntime.

The model (models/defilter.onnx) is trained by tools/train_defilter.py and exported by tools/export_onnx.py;
torch is not needed to run it. The CUDA provider is used when onnxruntime-gpu is installed.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import cv2
import numpy as np

from ..errors import ModelError
from ..resources import MODELS_DIR, REINSTALL

MODEL_PATH = MODELS_DIR / "defilter.onnx"
# The segmentation-aware network (docs/method.md section 1, FIG. 3: the person mask as a 4th input channel), for
# templates with people; see FitSettings.segment_aware_guess for when it is used.
SEG_MODEL_PATH = MODELS_DIR / "defilter_seg.onnx"
PRESET_SIDE = 128  # the network sees the template with this long side (the seed's pre-processing layer)
RECREATE = REINSTALL

_sessions: dict = {}
_lock = threading.Lock()


def _load(path: Path | None = None):
    path = MODEL_PATH if path is None else path
    with _lock:
        if path in _sessions:
            return _sessions[path]
        if not path.is_file():
            raise ModelError(f"the de-filter model is missing, so a look cannot be learnt from the template alone; "
                             f"give the photo before its look too (--original), or {RECREATE}", path)
        import onnxruntime as ort

        wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"]
        providers = [p for p in wanted if p in ort.get_available_providers()]
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = min(2, os.cpu_count() or 1)
        opts.log_severity_level = 3
        try:
            sess = ort.InferenceSession(str(path), sess_options=opts, providers=providers)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types for corrupt files
            raise ModelError(f"the de-filter model cannot be loaded ({type(exc).__name__}); {RECREATE}",
                             path) from None
        _sessions[path] = sess
        return sess


def preset_size(h: int, w: int, side: int = PRESET_SIDE) -> tuple[int, int]:
    """(h, w) scaled to a long side of ``side``, each a multiple of 4 (the network pools twice)."""
    s = side / max(h, w)
    return max(4, round(h * s / 4) * 4), max(4, round(w * s / 4) * 4)


def has_segment_model() -> bool:
    return SEG_MODEL_PATH.is_file()


def at_preset_size(template: np.ndarray, side: int = PRESET_SIDE) -> np.ndarray:
    """The template as the network sees it (the seed's pre-processing layer)."""
    h, w = preset_size(*template.shape[:2], side)
    interp = cv2.INTER_AREA if template.shape[0] > h else cv2.INTER_CUBIC
    return cv2.resize(template, (w, h), interpolation=interp)


def defilter(template: np.ndarray, *, side: int = PRESET_SIDE, mask: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Guess the unfiltered original of a uint8 RGB template.

    ``mask``: the template's soft person mask (float (h, w) in [0, 1], any size): the segmentation-aware network
    (models/defilter_seg.onnx) makes the guess; None: the FIG. 2 network.
    Returns (template at the preset size, guessed original at the same size), both uint8 RGB: the look is
    fitted between these two pixel-aligned images.
    """
    sess = _load(None if mask is None else SEG_MODEL_PATH)
    small = at_preset_size(template, side)
    h, w = small.shape[:2]
    x = (small.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
    feed = {"template": x}
    if mask is not None:
        m = np.asarray(mask, np.float32)
        if m.shape != (h, w):
            m = cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)
        feed["mask"] = np.clip(m, 0.0, 1.0)[None, None]
    y = sess.run(None, feed)[0][0]  # no flip ensemble: docs/decisions.md, 'flip ensemble'
    guess = np.clip(y.transpose(1, 2, 0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return small, guess


def guess_change(template: np.ndarray, guess: np.ndarray) -> float:
    """How far the network moved the template: mean absolute difference in code values (0-255)."""
    return float(np.abs(guess.astype(np.float32) - template.astype(np.float32)).mean())
