"""The look library: rendered looks, and the statistics of photos graded with them, for reading a look off one photo
by its nearest neighbours (after Afifi et al., CVPR 2019, "When Color Constancy Goes Wrong").

Each library entry is a training photo graded with a library look (real film and creative looks, synthetic looks),
described by look-sensitive statistics: a luminance-weighted log-chroma histogram, an L* histogram, per-band casts
(split toning), channel percentiles (lifted blacks, faded highlights), saturation and chroma statistics. Each group
is centred and scaled to unit RMS, then projected on the library's principal components. A template's neighbours
are the entries nearest to it; their looks, weighted by distance, are what the template's look is likely to be.

models/look_library.npz is written by tools/build_look_library.py (see models/NOTICE): the looks as offsets from
identity at a GRID^3 lattice (float16), the entries' projected statistics (float16) and the look of each entry.
"""

from __future__ import annotations

import functools
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..analysis.shrink import shrink_to
from ..errors import ModelError
from ..luts.lut import identity_table
from ..resources import MODELS_DIR, REINSTALL

LIBRARY_PATH = MODELS_DIR / "look_library.npz"
SIDE = 128  # the statistics are taken on the template area-downscaled to this long side
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
CHROMA_BINS, CHROMA_RANGE = 32, 1.6
PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
# the statistics' groups, in order, and their lengths: each is scaled to unit RMS before the projection
GROUPS = (("log-chroma histogram", CHROMA_BINS ** 2), ("L* histogram", 32), ("casts", 20),
          ("percentiles", 6 * len(PERCENTILES)), ("saturation", 8))


def look_statistics(rgb: np.ndarray) -> np.ndarray:
    """The look-sensitive statistics of a uint8 RGB image of any size, float32 (sum of GROUPS' lengths,)."""
    small = shrink_to(np.ascontiguousarray(rgb), SIDE)
    x = small.reshape(-1, 3).astype(np.float32) / 255.0
    lab = cv2.cvtColor(x.reshape(-1, 1, 3), cv2.COLOR_RGB2LAB).reshape(-1, 3)
    lum = x @ LUMA
    eps = 1.0 / 255.0
    u = np.log((x[:, 1] + eps) / (x[:, 0] + eps))
    v = np.log((x[:, 1] + eps) / (x[:, 2] + eps))
    hist, _, _ = np.histogram2d(u, v, bins=CHROMA_BINS, range=((-CHROMA_RANGE, CHROMA_RANGE),) * 2, weights=lum)
    hist = np.sqrt(hist.ravel() / max(float(hist.sum()), 1e-12))
    light = lab[:, 0]
    lhist = np.sqrt(np.bincount(np.minimum((light * 0.32).astype(np.int64), 31), minlength=32) / len(light))
    casts = []
    order = np.argsort(light, kind="stable")
    for band in np.array_split(order, 5):  # rank bands: the darkest fifth ... the brightest fifth
        casts += [lab[band, 1].mean(), lab[band, 2].mean()] if len(band) else [0.0, 0.0]  # < 5 pixels: none
    for lo in range(0, 100, 20):  # fixed L* bands
        sel = (light >= lo) & (light < lo + 20 if lo < 80 else light <= 100.0)
        casts += [lab[sel, 1].mean(), lab[sel, 2].mean()] if sel.any() else [0.0, 0.0]
    channels = np.column_stack([x, x.min(1), x.max(1), light / 100.0])
    pct = np.percentile(channels, PERCENTILES, axis=0).T.ravel()
    sat = (x.max(1) - x.min(1)) / (x.max(1) + eps)
    chroma = np.hypot(lab[:, 1], lab[:, 2]) / 100.0
    satstats = [sat.mean(), sat.std(), np.median(sat), np.percentile(sat, 95),
                chroma.mean(), chroma.std(), np.median(chroma), np.percentile(chroma, 95)]
    casts = np.asarray(casts, np.float32) / 100.0
    return np.concatenate([hist, lhist, casts, pct, np.asarray(satstats)]).astype(np.float32)


def group_index() -> np.ndarray:
    """Which group each statistic belongs to (int, same length as look_statistics' output)."""
    return np.repeat(np.arange(len(GROUPS)), [n for _, n in GROUPS])


@dataclass(frozen=True)
class Neighbours:
    """A template's nearest library entries: their looks' indices and their weights (summing to 1)."""

    looks: np.ndarray  # int (k,)
    weights: np.ndarray  # float64 (k,)
    distances: np.ndarray  # float64 (k,)
    spread: float  # the median distance of all library entries to the template: how far "near" is

    def by_look(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct looks among the neighbours and each one's summed weight, heaviest first."""
        ids, inv = np.unique(self.looks, return_inverse=True)
        w = np.bincount(inv, weights=self.weights)
        order = np.argsort(-w, kind="stable")
        return ids[order], w[order]


class LookLibrary:
    """models/look_library.npz: the projection, the entries and the looks."""

    def __init__(self, path: str | Path = LIBRARY_PATH):
        path = Path(path)
        recreate = REINSTALL
        if not path.is_file():
            raise ModelError(f"the look library is missing; {recreate}", path)
        try:
            with np.load(path, allow_pickle=False) as z:
                self.mean = np.asarray(z["mean"], np.float32)
                self.scale = np.asarray(z["scale"], np.float32)
                self.components = np.asarray(z["components"], np.float32)
                self.entries = np.asarray(z["entries"], np.float32)
                self.entry_look = np.asarray(z["entry_look"], np.int64)
                self.offsets = np.asarray(z["offsets"], np.float32)
                self.meta = json.loads(str(z["meta"]))
                self.grid = int(self.meta["grid"])
                self.names = list(self.meta["looks"])
                self.folders = list(self.meta["folders"])
        except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
            raise ModelError(f"the look library cannot be loaded ({exc}); {recreate}", path) from None
        if self.offsets.shape != (len(self.names), self.grid, self.grid, self.grid, 3) or \
                self.entries.shape != (len(self.entry_look), self.components.shape[0]):
            raise ModelError(f"the look library's arrays do not match its metadata; {recreate}", path)

    def project(self, stats: np.ndarray) -> np.ndarray:
        return ((np.asarray(stats, np.float32) - self.mean) * self.scale) @ self.components.T

    def neighbours(self, rgb: np.ndarray, k: int = 80, sigma: float = 0.35, exclude=None) -> Neighbours:
        """The ``k`` library entries nearest to a uint8 RGB template, Gaussian-weighted with sigma = ``sigma`` x
        the median neighbour distance. ``exclude``: a boolean mask over the looks to leave out (evaluation)."""
        q = self.project(look_statistics(rgb))
        d = np.sqrt(np.maximum(((self.entries - q) ** 2).sum(1), 0.0)).astype(np.float64)
        if exclude is not None:
            d[np.asarray(exclude)[self.entry_look]] = np.inf
        k = min(k, int(np.isfinite(d).sum()))
        idx = np.argpartition(d, k - 1)[:k]
        idx = idx[np.lexsort((idx, d[idx]))]  # nearest first; ties by index: the same answer on every machine
        dist = d[idx]
        s = max(sigma * float(np.median(dist)), 1e-9)
        w = np.exp(-0.5 * ((dist - dist[0]) / s) ** 2)
        return Neighbours(self.entry_look[idx], w / w.sum(), dist, float(np.median(d[np.isfinite(d)])))

    def table(self, offsets: np.ndarray) -> np.ndarray:
        """A look's (G, G, G, 3) table from its offsets at the library's lattice."""
        return np.clip(identity_table(self.grid) + offsets, 0.0, 1.0).astype(np.float32)


def has_library() -> bool:
    return LIBRARY_PATH.is_file()


@functools.lru_cache(maxsize=2)
def _library_at(path: Path) -> LookLibrary:
    return LookLibrary(path)


def default_library() -> LookLibrary:
    """The look library at LIBRARY_PATH, loaded once per process."""
    return _library_at(LIBRARY_PATH)


def save_npz_exact(path: str | Path, arrays: dict) -> None:
    """Write arrays (in the dict's order) as an .npz whose bytes depend only on their contents (fixed zip
    timestamps), to a temporary name renamed when complete: models that tools re-create bit for bit."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in arrays:
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[name]), allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), buf.getvalue(),
                        compress_type=zipfile.ZIP_DEFLATED)
    tmp.replace(path)
