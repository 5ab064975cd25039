"""Coverage: trust a look where the template showed colours, fall back smoothly to identity where it showed none.

A mapping fitted on a narrow template (a night scene that is mostly black, one dominant sky colour, a low- or
high-key photo) is only known near the colours the template holds; a quartic extrapolated from there repaints every
other colour (most "worse than doing nothing" looks are such extrapolations: docs/decisions.md, 'coverage blend
shape').
So the baked LUT is blended with identity per node by how much sample density the input colour cube has around it:

    LUT(x) = x + c(x) * (mapping(x) - x),   c = min(1, (1 - exp(-density(x) / p0)) / (1 - exp(-FULL / p0)))

``density`` is the samples splatted (trilinearly) onto a GRID^3 lattice of the input cube and smoothed with a
Gaussian of SIGMA nodes, in units of what samples spread evenly over the whole cube would give at that node (so 1
everywhere for a template that shows every colour, the cube's faces included); ``c`` is smoothed once more, so it
has no seams in the baked LUT. ``p0`` sets how much density counts as "shown", chosen on TRAINING data per path
(docs/decisions.md, 'coverage fall-back, with an original' and '..., one photo'): small p0 trusts a few samples,
large p0 ramps trust up linearly to FULL. Wherever the density reaches FULL (half of what an even spread over the
whole cube gives) c is 1, so a template that shows every colour keeps its look exactly as fitted. (Falling back to
the look's affine version instead of identity was measured too: no better on training looks, and it can repaint far
colours.)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter, map_coordinates

from ..luts.lut import identity_table
from .mapping import mapping_from_dict, trilinear_weights

GRID = 17
FULL = 0.5  # density (in units of an even spread over the cube) from which a region is fully trusted
TRUST_SIGMA = 1.0  # nodes: the trust map's own smoothing
SIGMA = 2.0  # nodes of the 17^3 lattice (1/8 of the cube): wide enough that the blend has no visible seams


def colour_share(src: np.ndarray) -> float:
    """The share of the 8^3 colour bins holding at least 0.05 % (and at least one) of (n, 3) colours in [0, 1]."""
    src = np.asarray(src, dtype=np.float64).reshape(-1, 3)
    bins = np.minimum((np.clip(src, 0, 1) * 8).astype(np.int64), 7) @ np.array([64, 8, 1])
    return float((np.bincount(bins, minlength=512) >= max(1.0, 0.0005 * len(src))).mean())


@functools.lru_cache(maxsize=4)
def _uniform_density(grid: int, sigma: float) -> np.ndarray:
    """What a trilinear splat of samples spread evenly over the cube gives per node (half on faces, a quarter on
    edges, an eighth at corners), smoothed like the data; dividing by it makes the density 1 for full coverage."""
    w = np.ones(grid)
    w[[0, -1]] = 0.5
    w /= grid - 1
    return gaussian_filter(w[:, None, None] * w[None, :, None] * w[None, None, :], sigma, mode="nearest")


@dataclass(frozen=True)
class Coverage:
    """Sample density over the input colour cube (GRID^3, sums to about 1) and the share of the cube the samples
    occupy (``share``: the fraction of the 8^3 colour bins holding at least 0.05 % of them; typical photos 0.06-0.4,
    median 0.13 on the training photos; night, one-colour, low- and high-key photos below 0.08)."""

    density: np.ndarray
    share: float = 1.0

    @classmethod
    def of(cls, src: np.ndarray, grid: int = GRID, sigma: float = SIGMA) -> Coverage:
        """Coverage of (n, 3) input colours in [0, 1]."""
        src = np.clip(np.asarray(src, dtype=np.float64).reshape(-1, 3), 0.0, 1.0)
        dens = np.asarray(trilinear_weights(src, grid).sum(0)).ravel()  # the mapping's own splat, [r, g, b]
        dens = dens.reshape(grid, grid, grid) / max(len(src), 1)
        return cls(gaussian_filter(dens, sigma, mode="nearest") / _uniform_density(grid, sigma), colour_share(src))

    def trust(self, p0: float) -> np.ndarray:
        """c per lattice node, in [0, 1]; p0 <= 0 trusts everywhere (no fall-back)."""
        if p0 <= 0:
            return np.ones_like(self.density)
        # the density's Gaussian tails fall by orders of magnitude per node, so c alone would step from 1 to 0
        # within 2-3 nodes of the 33^3 LUT; smoothing c once more spreads the transition (no visible seams)
        c = np.minimum(1.0, (1.0 - np.exp(-self.density / p0)) / (1.0 - np.exp(-FULL / p0)))
        return gaussian_filter(c, TRUST_SIGMA, mode="nearest")

    def trust_at(self, rgb: np.ndarray, p0: float) -> np.ndarray:
        """c at (..., 3) colours in [0, 1] (trilinear between lattice nodes; [r, g, b] lattice order)."""
        g = self.density.shape[0]
        pts = np.clip(np.asarray(rgb, dtype=np.float64).reshape(-1, 3), 0, 1).T * (g - 1)
        return map_coordinates(self.trust(p0), pts, order=1, mode="nearest").reshape(np.shape(rgb)[:-1])



class CoveredMapping:
    """A mapping trusted by coverage and kept by ``weight``: x + weight * c(x) * (mapping(x) - x)."""

    kind = "covered"

    def __init__(self, inner, coverage: Coverage, p0: float, weight: float = 1.0):
        self.inner, self.coverage, self.p0, self.weight = inner, coverage, float(p0), float(weight)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        c = self.coverage.trust_at(x, self.p0)[..., None] if self.p0 > 0 else 1.0
        return x + self.weight * c * (self.inner(x) - x)

    def to_dict(self) -> dict:
        inner = {f"inner_{k}": v for k, v in self.inner.to_dict().items()}
        return {"kind": self.kind, **inner, "density": self.coverage.density, "p0": self.p0, "weight": self.weight}

    @classmethod
    def from_dict(cls, d: dict, inner_from_dict) -> CoveredMapping:
        inner = inner_from_dict({k[len("inner_"):]: v for k, v in d.items() if k.startswith("inner_")})
        return cls(inner, Coverage(np.asarray(d["density"], dtype=np.float64)), float(d["p0"]), float(d["weight"]))


class FallbackMapping:
    """A segment's mapping trusted where the segment showed colours, the look's global mapping elsewhere:
    fallback(x) + c(x) * (inner(x) - fallback(x)), c the trust of the segment's own samples (docs/method.md section 3
    gives a segment the global look when the template has no such segment; this does the same per colour)."""

    kind = "fallback"

    def __init__(self, inner, fallback, coverage: Coverage, p0: float):
        self.inner, self.fallback, self.coverage, self.p0 = inner, fallback, coverage, float(p0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        c = self.coverage.trust_at(x, self.p0)[..., None]
        f = self.fallback(x)
        return f + c * (self.inner(x) - f)

    def to_dict(self) -> dict:
        # the fallback is the look's global mapping, saved beside it: not repeated here
        inner = {f"inner_{k}": v for k, v in self.inner.to_dict().items()}
        return {"kind": self.kind, **inner, "density": self.coverage.density, "p0": self.p0}

    @classmethod
    def from_dict(cls, d: dict, inner_from_dict, fallback) -> FallbackMapping:
        inner = inner_from_dict({k[len("inner_"):]: v for k, v in d.items() if k.startswith("inner_")})
        return cls(inner, fallback, Coverage(np.asarray(d["density"], dtype=np.float64)), float(d["p0"]))


class MixMapping:
    """Two looks averaged: (1 - share) * first(x) + share * second(x) (the network's look and the look prior's,
    FitSettings.prior_share)."""

    kind = "mix"

    def __init__(self, first, second, share: float):
        self.first, self.second, self.share = first, second, float(share)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return (1.0 - self.share) * self.first(x) + self.share * self.second(x)

    def to_dict(self) -> dict:
        parts = {f"first_{k}": v for k, v in self.first.to_dict().items()}
        parts.update({f"second_{k}": v for k, v in self.second.to_dict().items()})
        return {"kind": self.kind, **parts, "share": self.share}

    @classmethod
    def from_dict(cls, d: dict) -> MixMapping:
        def part(prefix):
            return mapping_from_any({k[len(prefix):]: v for k, v in d.items() if k.startswith(prefix)})

        return cls(part("first_"), part("second_"), float(d["share"]))


class OffsetMapping:
    """A look with another look's change added: first(x) + share * (second(x) - x) (the automatic reading of one
    photo: the fitted look plus a share of the look library's neighbour reading). ``cap``: that addition is at most
    this long per colour (Euclidean, [0, 1] RGB; None: uncapped), so a library look far stronger than the template
    shows moves reading 1 little (docs/decisions.md, 'library share, capped')."""

    kind = "offset"

    def __init__(self, first, second, share: float, cap: float | None = None):
        self.first, self.second, self.share = first, second, float(share)
        self.cap = None if cap is None else float(cap)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        add = self.share * (self.second(x) - x)
        if self.cap is not None:
            length = np.linalg.norm(add, axis=-1, keepdims=True)
            add = add * np.minimum(1.0, self.cap / np.maximum(length, 1e-12))
        return self.first(x) + add

    def to_dict(self) -> dict:
        d = MixMapping.to_dict(self)
        if self.cap is not None:
            d["cap"] = self.cap
        return d

    @classmethod
    def from_dict(cls, d: dict) -> OffsetMapping:
        mix = MixMapping.from_dict(d)  # reads the two looks and the share; looks saved before the cap load uncapped
        return cls(mix.first, mix.second, mix.share, float(d["cap"]) if "cap" in d else None)


def mapping_from_any(d: dict, fallback=None):
    """A mapping from its to_dict(): plain, covered, mixed, or (with the global mapping as ``fallback``) a
    segment's."""

    kind = str(d["kind"])
    if kind == "mix":
        return MixMapping.from_dict(d)
    if kind == "offset":
        return OffsetMapping.from_dict(d)
    if kind == "covered":
        return CoveredMapping.from_dict(d, mapping_from_any)
    if kind == "fallback":
        if fallback is None:
            raise ValueError("a segment mapping needs the look's global mapping")
        return FallbackMapping.from_dict(d, mapping_from_any, fallback)
    return mapping_from_dict(d)


def segment_mapping(mapping, global_mapping, coverage: Coverage, p0: float, weight: float = 1.0):
    """A segment's fitted ``mapping`` kept by ``weight`` and trusted by its own ``coverage`` (falling back to
    ``global_mapping`` where the segment showed no colours); p0 <= 0: the segment's mapping everywhere."""
    kept = covered(mapping, None, 0.0, weight)
    return kept if p0 <= 0 else FallbackMapping(kept, global_mapping, coverage, p0)


def covered(mapping, coverage: Coverage | None, p0: float, weight: float = 1.0):
    """``mapping`` with the coverage fall-back and keep-weight, or itself when neither changes anything."""
    if (coverage is None or p0 <= 0) and weight == 1.0:
        return mapping
    return CoveredMapping(mapping, coverage if coverage is not None else Coverage(np.ones((2, 2, 2))), p0, weight)


def blend_table(table: np.ndarray, coverage: Coverage | None, p0: float, weight: float = 1.0) -> np.ndarray:
    """A baked (N, N, N, 3) table (the Lut layout, [r, g, b]) blended as CoveredMapping does, c taken at the nodes.
    Tuning tools use it to try many (p0, weight) on one baked mapping."""

    ident = identity_table(table.shape[0])
    if coverage is None or p0 <= 0:
        return (ident + weight * (table - ident)).astype(np.float32)
    c = coverage.trust_at(ident, p0)[..., None]
    return (ident + weight * c * (table - ident)).astype(np.float32)
