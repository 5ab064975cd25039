"""The 3D LUT type and reference (float, numpy) interpolation.

A LUT's ``table`` is float32 of shape (N, N, N, 3) indexed ``[r, g, b]`` with output RGB in [0, 1] (values a
little outside are kept; renderers clip). Files store red fastest (.cube, HaldCLUT), i.e. ``[b, g, r]`` order;
the readers and writers transpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import InputError

MIN_SIZE, MAX_SIZE = 2, 256


def identity_table(size: int = 33) -> np.ndarray:
    """The identity LUT table, float32 (size, size, size, 3) indexed [r, g, b]."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise InputError(f"LUT size must be {MIN_SIZE}..{MAX_SIZE}, got {size}")
    g = np.linspace(0.0, 1.0, size, dtype=np.float32)
    r_, g_, b_ = np.meshgrid(g, g, g, indexing="ij")
    return np.stack([r_, g_, b_], axis=-1)


@dataclass(eq=False)
class Lut:
    """A 3D LUT: ``table`` (N, N, N, 3) float32 indexed [r, g, b], input domain, and a title."""

    table: np.ndarray
    title: str = ""
    domain_min: tuple = (0.0, 0.0, 0.0)
    domain_max: tuple = (1.0, 1.0, 1.0)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        t = np.ascontiguousarray(self.table, dtype=np.float32)
        if t.ndim != 4 or t.shape[3] != 3 or not (t.shape[0] == t.shape[1] == t.shape[2]):
            raise InputError(f"expected a LUT table of shape (N, N, N, 3), got {t.shape}")
        if not MIN_SIZE <= t.shape[0] <= MAX_SIZE:
            raise InputError(f"LUT size must be {MIN_SIZE}..{MAX_SIZE}, got {t.shape[0]}")
        if not np.isfinite(t).all():
            raise InputError("LUT table has NaN or infinite values")
        lo = np.asarray(self.domain_min, dtype=np.float64)
        hi = np.asarray(self.domain_max, dtype=np.float64)
        if lo.shape != (3,) or hi.shape != (3,) or not (hi > lo).all():
            raise InputError(f"LUT domain must have min < max per channel, got {lo.tolist()} .. {hi.tolist()}")
        t.flags.writeable = False  # renderers cache derived tables keyed on this object
        self.table = t
        self.domain_min = tuple(float(v) for v in lo)
        self.domain_max = tuple(float(v) for v in hi)

    @property
    def size(self) -> int:
        return self.table.shape[0]

    @classmethod
    def identity(cls, size: int = 33) -> Lut:
        return cls(identity_table(size), title="identity")

    @property
    def unit_domain(self) -> bool:
        return self.domain_min == (0.0, 0.0, 0.0) and self.domain_max == (1.0, 1.0, 1.0)

    def normalized(self) -> Lut:
        """This LUT resampled (same size) to the [0, 1] input domain; itself when already so."""
        if self.unit_domain:
            return self
        key = "normalized"
        if key not in self._cache:
            grid = identity_table(self.size).reshape(-1, 3)
            out = self.apply_float(grid).reshape(self.table.shape)
            self._cache[key] = Lut(out, title=self.title)
        return self._cache[key]

    def apply_float(self, rgb: np.ndarray, interp: str = "trilinear") -> np.ndarray:
        """Apply to float RGB in [0, 1] (any shape (..., 3)); the numpy reference implementation."""
        x = np.asarray(rgb, dtype=np.float64)
        lo = np.asarray(self.domain_min)
        hi = np.asarray(self.domain_max)
        x = (x - lo) / (hi - lo)
        return interpolate(self.table, x, interp)


def interpolate(table: np.ndarray, rgb: np.ndarray, interp: str = "trilinear") -> np.ndarray:
    """Interpolate ``table`` ([r, g, b] indexed, (N, N, N, 3)) at float RGB in [0, 1]; returns float32."""
    n = table.shape[0]
    shape = rgb.shape
    x = np.clip(np.asarray(rgb, dtype=np.float64).reshape(-1, 3), 0.0, 1.0) * (n - 1)
    i0 = np.minimum(x.astype(np.int64), n - 2)
    f = x - i0
    flat = table.reshape(-1, 3).astype(np.float64)

    def at(dr, dg, db):
        return flat[((i0[:, 0] + dr) * n + (i0[:, 1] + dg)) * n + (i0[:, 2] + db)]

    fr, fg, fb = f[:, 0:1], f[:, 1:2], f[:, 2:3]
    if interp == "trilinear":
        c00 = at(0, 0, 0) * (1 - fr) + at(1, 0, 0) * fr
        c10 = at(0, 1, 0) * (1 - fr) + at(1, 1, 0) * fr
        c01 = at(0, 0, 1) * (1 - fr) + at(1, 0, 1) * fr
        c11 = at(0, 1, 1) * (1 - fr) + at(1, 1, 1) * fr
        out = (c00 * (1 - fg) + c10 * fg) * (1 - fb) + (c01 * (1 - fg) + c11 * fg) * fb
    elif interp == "tetrahedral":
        out = _tetra(at, fr, fg, fb)
    else:
        raise InputError(f"interp must be 'trilinear' or 'tetrahedral', got {interp!r}")
    return out.astype(np.float32).reshape(shape)


def _tetra(at, fr, fg, fb):
    """Tetrahedral interpolation: the cube is split along its main diagonal into six tetrahedra."""
    c000, c111 = at(0, 0, 0), at(1, 1, 1)
    out = np.empty_like(c000)
    r, g, b = fr[:, 0], fg[:, 0], fb[:, 0]
    cases = [
        ((r >= g) & (g >= b), (1, 0, 0), (1, 1, 0), fr, fg, fb),  # r > g > b
        ((r >= b) & (b > g), (1, 0, 0), (1, 0, 1), fr, fb, fg),   # r > b > g
        ((b > r) & (r >= g), (0, 0, 1), (1, 0, 1), fb, fr, fg),   # b > r > g
        ((g > r) & (r >= b), (0, 1, 0), (1, 1, 0), fg, fr, fb),   # g > r > b
        ((g >= b) & (b > r), (0, 1, 0), (0, 1, 1), fg, fb, fr),   # g > b > r
        ((b > g) & (g > r), (0, 0, 1), (0, 1, 1), fb, fg, fr),    # b > g > r
    ]
    for m, v1, v2, w1, w2, w3 in cases:
        if not m.any():
            continue
        a, b1, b2, c = c000[m], at(*v1)[m], at(*v2)[m], c111[m]
        x1, x2, x3 = w1[m], w2[m], w3[m]
        out[m] = a + (b1 - a) * x1 + (b2 - b1) * x2 + (c - b2) * x3
    return out


def resample(lut: Lut, size: int, interp: str = "trilinear") -> Lut:
    """``lut`` evaluated on a ``size``^3 grid over [0, 1]."""
    grid = identity_table(size).reshape(-1, 3)
    return Lut(lut.apply_float(grid, interp).reshape(size, size, size, 3), title=lut.title)
