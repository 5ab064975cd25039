"""The 3D LUT type and reference (float, numpy) interpolation.

A LUT's ``table`` is float32 of shape (N, N, N, 3) indexed ``[r, g, b]`` with output RGB in [0, 1] (values a
little outside are kept; renderers clip). Files store red fastest (.cube, HaldCLUT), i.e. ``[b, g, r]`` order;
the readers and writers transpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

MIN_SIZE, MAX_SIZE = 2, 256


def identity_table(size: int = 33) -> np.ndarray:
    """The identity LUT table, float32 (size, size, size, 3) indexed [r, g, b]."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise InputError(f"LUT size must be {MIN_SIZE}..{MAX_SIZE}, got {size}")
    g = np.linspace(0.0, 1.0, size, dtype=np.float32)
    r_, g_, b_ = np.meshgrid(g, g, g, indexing="ij")
    return np.stack([r_, g_, b_], axis=-1)


#: how far the colours of alike-bright outputs may spread for a LUT to count as black-and-white or toned
#: (:attr:`Lut.monochrome`; on [0, 1] RGB)
MONOCHROME_SPREAD = 0.02


@dataclass(eq=False)
class Lut:
    """A colour LUT: an optional per-channel 1D ``shaper`` followed by a 3D ``table``.

    ``table`` is (N, N, N, 3) float32 indexed [r, g, b] over the input domain ``domain_min`` .. ``domain_max``
    (inputs are clamped to it). ``shaper`` is None or (M, 3) float32: per-channel curves sampled at M evenly
    spaced points over ``shaper_min`` .. ``shaper_max`` (clamped), applied first; the 3D table then takes the
    shaper's output (Resolve's 1D "shaper" + 3D .cube). A 1D LUT is a shaper followed by a 2^3 table that is the
    identity over the curves' range (see :meth:`from_curves`, :attr:`is_1d`): the same arithmetic, exact.
    """

    table: np.ndarray
    title: str = ""
    domain_min: tuple = (0.0, 0.0, 0.0)
    domain_max: tuple = (1.0, 1.0, 1.0)
    shaper: np.ndarray | None = None
    shaper_min: tuple = (0.0, 0.0, 0.0)
    shaper_max: tuple = (1.0, 1.0, 1.0)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        t = np.ascontiguousarray(self.table, dtype=np.float32)
        if t.ndim != 4 or t.shape[3] != 3 or not (t.shape[0] == t.shape[1] == t.shape[2]):
            raise InputError(f"expected a LUT table of shape (N, N, N, 3), got {t.shape}")
        if not MIN_SIZE <= t.shape[0] <= MAX_SIZE:
            raise InputError(f"LUT size must be {MIN_SIZE}..{MAX_SIZE}, got {t.shape[0]}")
        if not np.isfinite(t).all():
            raise InputError("LUT table has NaN or infinite values")
        t.flags.writeable = False  # renderers cache derived tables keyed on this object
        self.table = t
        self.domain_min, self.domain_max = _domain(self.domain_min, self.domain_max, "LUT domain")
        if self.shaper is not None:
            sh = np.ascontiguousarray(self.shaper, dtype=np.float32)
            if sh.ndim != 2 or sh.shape[1] != 3 or not 2 <= sh.shape[0] <= MAX_1D:
                raise InputError(f"expected a shaper of shape (M, 3) with M in 2..{MAX_1D}, got {sh.shape}")
            if not np.isfinite(sh).all():
                raise InputError("LUT shaper has NaN or infinite values")
            sh.flags.writeable = False
            self.shaper = sh
        self.shaper_min, self.shaper_max = _domain(self.shaper_min, self.shaper_max, "shaper domain")

    @property
    def size(self) -> int:
        return self.table.shape[0]

    @classmethod
    def identity(cls, size: int = 33) -> Lut:
        return cls(identity_table(size), title="identity")

    @classmethod
    def from_curves(cls, curves: np.ndarray, domain_min=(0.0, 0.0, 0.0), domain_max=(1.0, 1.0, 1.0),
                    title: str = "") -> Lut:
        """A 1D LUT: per-channel ``curves`` (M, 3) sampled evenly over ``domain_min`` .. ``domain_max``."""
        c = np.asarray(curves, dtype=np.float32)
        if c.ndim != 2 or c.shape[1] != 3:
            raise InputError(f"expected 1D curves of shape (M, 3), got {c.shape}")
        lo = c.min(axis=0).astype(np.float64)
        hi = c.max(axis=0).astype(np.float64)
        hi = np.where(hi > lo, hi, lo + 1.0)
        return cls(_box_identity(lo, hi), title=title, domain_min=tuple(lo), domain_max=tuple(hi), shaper=c,
                   shaper_min=domain_min, shaper_max=domain_max)

    @property
    def unit_domain(self) -> bool:
        return self.domain_min == (0.0, 0.0, 0.0) and self.domain_max == (1.0, 1.0, 1.0)

    @property
    def is_1d(self) -> bool:
        """True for a pure 1D LUT: a shaper and a 2^3 table that passes the shaper's output through unchanged."""
        if self.shaper is None or self.size != 2:
            return False
        return np.array_equal(self.table, _box_identity(np.asarray(self.domain_min), np.asarray(self.domain_max)))

    @property
    def monochrome(self) -> bool:
        """Whether the LUT's every output colour follows from its brightness alone: black-and-white, or toned (sepia,
        a cold-toned print). On a 17^3 lattice of inputs, the outputs' colour (each less its Rec. 709 luma) spreads
        by at most :data:`MONOCHROME_SPREAD` among outputs of alike luma (64 bands): black-and-white looks 0, toned
        film 0.006-0.009, colour looks 0.5-1 (a fitted one's gentle reading of a black-and-white photo, half the
        colour kept, 0.56)."""
        if "monochrome" not in self._cache:
            out = self.unit_table(17).reshape(-1, 3).astype(np.float64)
            luma = out @ np.array([0.2126, 0.7152, 0.0722])
            colour = out - luma[:, None]
            band = np.clip((luma * 64).astype(int), 0, 63)
            order = np.argsort(band, kind="stable")
            starts = np.flatnonzero(np.diff(band[order], prepend=-1))
            spread = np.maximum.reduceat(colour[order], starts) - np.minimum.reduceat(colour[order], starts)
            self._cache["monochrome"] = bool(spread.max() <= MONOCHROME_SPREAD)
        return self._cache["monochrome"]

    @property
    def kind(self) -> str:
        """'1D', '3D' or '1D shaper + 3D'."""
        if self.shaper is None:
            return "3D"
        return "1D" if self.is_1d else "1D shaper + 3D"

    def __repr__(self) -> str:  # the table is thousands of numbers: a notebook shows what the LUT is instead
        return f"Lut({self.describe()}" + (f", title={self.title!r})" if self.title else ")")

    def describe(self) -> str:
        """One line: kind, sizes, domains (what ``livefilter info`` prints)."""
        def dom(lo, hi):
            return f"domain {[round(v, 6) for v in lo]} .. {[round(v, 6) for v in hi]}"

        if self.shaper is None:
            return f"3D {self.size}^3, {dom(self.domain_min, self.domain_max)}"
        m = self.shaper.shape[0]
        if self.is_1d:
            return f"1D, {m} entries per channel, {dom(self.shaper_min, self.shaper_max)}"
        return (f"1D shaper ({m} entries, {dom(self.shaper_min, self.shaper_max)}) + 3D {self.size}^3 "
                f"({dom(self.domain_min, self.domain_max)})")

    def retitled(self, title: str) -> Lut:
        """The same LUT (shaper, domains) under another title."""
        return Lut(self.table, title=title, domain_min=self.domain_min, domain_max=self.domain_max,
                   shaper=self.shaper, shaper_min=self.shaper_min, shaper_max=self.shaper_max)

    def unit_table(self, size: int) -> np.ndarray:
        """This LUT evaluated on a size^3 grid over [0, 1] (exact at the grid nodes), float32 [r, g, b]."""
        return self.apply_float(identity_table(size).reshape(-1, 3)).reshape(size, size, size, 3)

    def normalized(self) -> Lut:
        """This LUT as a plain 3D table over [0, 1] (same size, at least 33 when it has a shaper), exact at the
        nodes; itself when it already is one. For consumers that can only take a plain table; the CPU renderer
        uses :meth:`grid_coords` instead and stays exact between the nodes too."""
        if self.unit_domain and self.shaper is None:
            return self
        key = "normalized"
        if key not in self._cache:
            size = self.size if self.shaper is None else max(self.size, 33)
            self._cache[key] = Lut(self.unit_table(size), title=self.title)
        return self._cache[key]

    def _pre(self, x: np.ndarray) -> np.ndarray:
        """Float RGB (any shape (..., 3)) -> position in the 3D table's [0, 1] cube (shaper, then domain)."""
        x = np.asarray(x, dtype=np.float64)
        if self.shaper is not None:
            lo, hi = np.asarray(self.shaper_min), np.asarray(self.shaper_max)
            m = self.shaper.shape[0]
            pos = np.clip((x - lo) / (hi - lo), 0.0, 1.0) * (m - 1)
            nodes = np.arange(m, dtype=np.float64)
            x = np.stack([np.interp(pos[..., c], nodes, self.shaper[:, c].astype(np.float64)) for c in range(3)],
                         axis=-1)
        lo, hi = np.asarray(self.domain_min), np.asarray(self.domain_max)
        return (x - lo) / (hi - lo)

    def apply_float(self, rgb: np.ndarray, interp: str = "trilinear") -> np.ndarray:
        """Apply to float RGB (any shape (..., 3)); the numpy reference implementation."""
        rgb = np.asarray(rgb)
        if rgb.dtype.kind != "f" or rgb.shape[-1:] != (3,):  # uint8 read as floats would come out near white
            raise InputError(f"apply_float takes float RGB in [0, 1] of shape (..., 3), got {rgb.dtype} "
                             f"{rgb.shape}" + (" (divide code values by 255)" if rgb.dtype.kind in "ui" else ""))
        if not np.isfinite(rgb).all():
            raise InputError("apply_float: the colours hold NaN or infinite values")
        return interpolate(self.table, self._pre(rgb), interp)

    def grid_coords(self, levels: int = 256) -> np.ndarray:
        """Where each input code value lands in the 3D table: float64 (3, levels), entry [c, v] the position in
        grid units (0 .. N-1) of channel c's input v / (levels - 1), after the shaper and the domain.

        The 3D lookup is per channel separable up to this point, so a renderer that takes its trilinear
        (or tetrahedral) indices and fractions from this table instead of ``v / (levels - 1) * (N - 1)`` is exact
        for any domain, shaper or 1D curve, however long: every 8-bit input is evaluated exactly."""
        key = ("coords", levels)
        if key not in self._cache:
            v = np.linspace(0.0, 1.0, levels)
            x = self._pre(np.repeat(v[:, None], 3, axis=1))
            self._cache[key] = np.ascontiguousarray(np.clip(x, 0.0, 1.0).T * (self.size - 1))
        return self._cache[key]


MAX_1D = 65536


def _domain(lo, hi, what: str) -> tuple[tuple, tuple]:
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    if lo.shape != (3,) or hi.shape != (3,) or not (hi > lo).all() or not np.isfinite([lo, hi]).all():
        raise InputError(f"{what} must have min < max per channel, got {lo.tolist()} .. {hi.tolist()}")
    return tuple(float(v) for v in lo), tuple(float(v) for v in hi)


def _box_identity(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The 2^3 table that returns its input unchanged over the box lo .. hi (trilinear and tetrahedral alike)."""
    t = identity_table(2).astype(np.float64)
    return (lo + t * (hi - lo)).astype(np.float32)


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
    """``lut`` (its shaper and domain included) evaluated on a ``size``^3 grid over [0, 1]."""
    grid = identity_table(size).reshape(-1, 3)
    return Lut(lut.apply_float(grid, interp).reshape(size, size, size, 3), title=lut.title)
