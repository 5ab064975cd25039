"""The look prior: a look predicted from what the template looks like as a whole (one photo).

The de-filter network guesses the original pixel by pixel from a 128 px view; it shrinks creative grades toward
identity. The prior looks at the whole template instead: the scene network's pooled feature map (models/scene.onnx,
ImageNet EfficientNet-Lite0: what is in the picture, so what its colours should be) and colour statistics (Lab
moments and percentiles, per-lightness-band casts, chroma percentiles, a 4^3 colour histogram), and a ridge
regression maps them to the look itself, as offsets at a GRID^3 lattice of the colour cube. It is trained by
tools/train_look_prior.py on TRAINING photos x training film, creative and synthetic looks and shipped as
models/look_prior.npz (see models/NOTICE). ``fit_look`` averages its look with the network's on the one-photo path
(FitSettings.prior_share; docs/decisions.md 'look prior'); without the model file the one-photo path is the network's
alone.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import cv2
import numpy as np

from ..analysis.scene import default_model
from ..analysis.shrink import shrink_to
from ..errors import ModelError
from ..luts.lut import Lut, identity_table
from ..resources import MODELS_DIR, REINSTALL
from .library import save_npz_exact

PRIOR_PATH = MODELS_DIR / "look_prior.npz"
GRID = 7
SIDE = 192  # the scene network's input side; the template is area-downscaled to this long side, then squashed
RECREATE = REINSTALL


def colour_statistics(small: np.ndarray) -> np.ndarray:
    """Colour statistics of a uint8 RGB image (the square SIDE x SIDE copy), float32 (113,)."""
    lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB).reshape(-1, 3)
    stats = [lab.mean(0), lab.std(0), np.percentile(lab, (5, 25, 50, 75, 95), axis=0)]  # one sort per call
    light = lab[:, 0]
    for lo in (0, 20, 40, 60, 80):  # per lightness band: its mean cast and its share
        sel = (light >= lo) & (light < lo + 20)
        stats.append(np.array([lab[sel, 1].mean(), lab[sel, 2].mean(), sel.mean()]) if sel.any() else np.zeros(3))
    rgb = small.reshape(-1, 3) / 255.0
    stats.append(np.percentile(rgb, (5, 50, 95), axis=0))
    stats.append(np.percentile(np.hypot(lab[:, 1], lab[:, 2]), (25, 50, 75, 95)))
    bins = np.minimum((rgb * 4).astype(np.int64), 3) @ np.array([16, 4, 1])
    stats.append(np.sqrt(np.bincount(bins, minlength=64) / len(bins)))
    return np.concatenate([np.ravel(s) for s in stats]).astype(np.float32)


def square(rgb: np.ndarray) -> np.ndarray:
    """The template as the features see it: area-downscaled to a SIDE long side (by 2:1 steps first: 12 MP in
    5 ms instead of 50; within a code value of one area resize), then squashed to SIDE x SIDE."""
    return cv2.resize(shrink_to(np.ascontiguousarray(rgb), SIDE), (SIDE, SIDE), interpolation=cv2.INTER_AREA)


def template_features(rgb: np.ndarray, scene=None) -> np.ndarray:
    """The prior's input for a uint8 RGB template of any size: the scene network's pooled feature map and the
    colour statistics, float32 (305,)."""

    small = square(rgb)
    deep = (scene or default_model()).pooled_features(small)
    return np.concatenate([deep, colour_statistics(small)]).astype(np.float32)


def lattice(grid: int = GRID) -> np.ndarray:
    return identity_table(grid).astype(np.float64)


def look_offsets(lut: Lut, grid: int = GRID) -> np.ndarray:
    """A look's regression target: its offsets from identity at the grid^3 lattice, float32 (grid^3 * 3,)."""
    g = lattice(grid)
    out = np.clip(lut.apply_float(g.reshape(-1, 3)), 0.0, 1.0).reshape(g.shape)
    return (out - g).ravel().astype(np.float32)


class LookPrior:
    """The ridge regression of models/look_prior.npz: template features -> the look's lattice offsets."""

    def __init__(self, path: str | Path = PRIOR_PATH):
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"the look prior is missing; {RECREATE}", path)
        try:
            with np.load(path, allow_pickle=False) as z:
                self.W, self.mu, self.sd, self.ym = (np.asarray(z[k], np.float32) for k in ("W", "mu", "sd", "ym"))
                self.meta = json.loads(str(z["meta"]))
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"the look prior cannot be loaded ({exc}); {RECREATE}", path) from None
        self.grid = int(self.meta["grid"])
        if self.W.shape != (self.mu.size, self.grid ** 3 * 3):
            raise ModelError(f"the look prior has weights of shape {self.W.shape}; {RECREATE}", path)

    def offsets(self, features: np.ndarray) -> np.ndarray:
        return ((np.asarray(features, np.float32) - self.mu) / self.sd) @ self.W + self.ym

    def predict(self, rgb: np.ndarray) -> Lut:
        """The predicted look of a template, a grid^3 :class:`Lut` (trilinear between its nodes)."""
        g = lattice(self.grid)
        table = np.clip(g + self.offsets(template_features(rgb)).reshape(g.shape), 0.0, 1.0)
        return Lut(table.astype(np.float32), title="look prior")


_priors: dict = {}
_lock = threading.Lock()


def has_prior() -> bool:
    return PRIOR_PATH.is_file()


def default_prior() -> LookPrior:
    """The look prior at PRIOR_PATH, loaded once per process (per path, as defilter's sessions are)."""
    with _lock:
        if PRIOR_PATH not in _priors:
            _priors[PRIOR_PATH] = LookPrior(PRIOR_PATH)
        return _priors[PRIOR_PATH]


def save_prior(path: str | Path, W, mu, sd, ym, meta: dict) -> None:
    """Write a look prior (tools/train_look_prior.py) as an .npz whose bytes depend only on its contents."""

    save_npz_exact(path, {"W": np.asarray(W, np.float32), "mu": np.asarray(mu, np.float32),
                          "sd": np.asarray(sd, np.float32), "ym": np.asarray(ym, np.float32),
                          "meta": np.asarray(json.dumps(meta, sort_keys=True))})
