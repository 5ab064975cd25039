"""The sRGB transfer curve (IEC 61966-2-1), both ways, on floats in [0, 1]: one definition for the photos' colour
conversions (imageio), HDR video's SDR encoding (media/hdr.py) and the readings' CIELAB (look/readings.py)."""

from __future__ import annotations

import numpy as np


def decode(encoded) -> np.ndarray:
    """sRGB-encoded values in [0, 1] -> linear light, float64."""
    x = np.asarray(encoded, np.float64)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def encode(linear) -> np.ndarray:
    """Linear light in [0, 1] -> sRGB-encoded values, float64."""
    v = np.asarray(linear, np.float64)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * np.maximum(v, 0.0) ** (1 / 2.4) - 0.055)
