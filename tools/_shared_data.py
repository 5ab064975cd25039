"""Helpers for tools that use ../shared/data: the split rule, photo and look loading, sRGB -> Lab, CIEDE2000."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

# ../shared/data beside the checkout; LIVEFILTER_SHARED_DATA points elsewhere (the GPU machine gets a packed copy:
# tools/pack_shared.py)
SHARED = Path(os.environ.get("LIVEFILTER_SHARED_DATA")
              or Path(__file__).resolve().parent.parent.parent / "shared" / "data")
# Where the tools write what they measure and train by default: runs/ in the checkout, ignored by git (the figures
# that describe the product are in docs/, the runs that chose its settings in docs/decisions.md)
RUNS = Path(__file__).resolve().parent.parent / "runs"


def split(paths: list[Path], which: str) -> list[Path]:
    """The data README's rule: validation = every 5th file in sorted path order within each folder."""
    by_folder: dict[Path, list[Path]] = {}
    for p in paths:
        by_folder.setdefault(p.parent, []).append(p)
    out = []
    for folder in sorted(by_folder):
        files = sorted(by_folder[folder])
        out += [f for i, f in enumerate(files) if (i % 5 == 0) == (which == "val")]
    return out


def photos(which: str, root: Path = SHARED) -> list[Path]:
    return split([p for p in (root / "photos").rglob("*.jpg")], which)


def looks(which: str, root: Path = SHARED, kinds: tuple[str, ...] = ("film",)) -> list[Path]:
    """The split's HaldCLUT looks of ``kinds`` ("film", "creative"), each kind's folders split by the rule."""
    return [p for k in kinds for p in split(list((root / "looks" / k).rglob("*.png")), which)]


def load_photo(path: Path, side: int) -> np.ndarray:
    from livefilter.imageio import read_image

    img = read_image(path)
    h, w = img.shape[:2]
    s = side / max(h, w)
    if s < 1:
        img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    return img


def look_family(path: Path) -> str:
    """color / bw / picturefx for film looks; creative for the creative grades."""
    parts = path.parts
    if "creative" in parts:
        return "creative"
    i = parts.index("film")
    return parts[i + 1]


def delta_e00(a: np.ndarray, b: np.ndarray) -> float:
    """Mean CIEDE2000 between two uint8 sRGB images (skimage: sRGB decoding, D65 Lab)."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    return float(deltaE_ciede2000(rgb2lab(a), rgb2lab(b)).mean())


class LabScorer:
    """Mean CIEDE2000 of predictions against fixed truths, for tuning loops that score many predictions against
    the same truths: the truths' Lab is computed once, and with ``pixels`` only that many fixed random pixels of
    each image are compared (the mean over 16k random pixels is within ~0.05 dE00 of the full mean)."""

    def __init__(self, truths: list[np.ndarray], pixels: int = 0, seed: int = 0):
        from skimage.color import rgb2lab

        rng = np.random.default_rng(seed)
        self.idx = [rng.choice(t.shape[0] * t.shape[1], min(pixels, t.shape[0] * t.shape[1]), replace=False)
                    if pixels else None for t in truths]
        self.labs = [rgb2lab(self._take(t, i)) for t, i in zip(truths, self.idx)]

    @staticmethod
    def _take(img, idx):
        return img if idx is None else img.reshape(-1, 1, 3)[idx]

    def __call__(self, preds: list[np.ndarray]) -> float:
        from skimage.color import deltaE_ciede2000, rgb2lab

        return float(np.mean([deltaE_ciede2000(rgb2lab(self._take(p, i)), lab).mean()
                              for p, i, lab in zip(preds, self.idx, self.labs)]))

    def lut(self, lut, inputs: list[np.ndarray], strengths: list[float] | None = None) -> float:
        """The score of ``lut`` applied to ``inputs``, on the compared pixels only (the float trilinear reference,
        within 1 code value of the renderer, without baking the renderer's table for every variant tried);
        ``strengths``: each input's share of the look (the renderer's strength), 1 without them."""
        preds = []
        for k, (img, i) in enumerate(zip(inputs, self.idx)):
            px = self._take(img, i).reshape(-1, 3).astype(np.float64) / 255.0
            y = np.clip(lut.apply_float(px), 0.0, 1.0)  # as the renderer: the LUT's output clipped, then blended
            if strengths is not None:
                y = px + strengths[k] * (y - px)
            out = np.clip(y * 255.0 + 0.5, 0, 255).astype(np.uint8)
            preds.append(out.reshape(-1, 1, 3) if i is not None else out.reshape(img.shape))
        from skimage.color import deltaE_ciede2000, rgb2lab

        return float(np.mean([deltaE_ciede2000(rgb2lab(p), lab).mean() for p, lab in zip(preds, self.labs)]))


def is_narrow(img: np.ndarray) -> bool:
    """A "narrow" photo, whose colours cover little of the cube: fewer than 8 % of
    the 8^3 colour bins hold at least 0.05 % of its pixels, or its mean luma is below 0.30 (night, low key)."""
    from livefilter.look.coverage import colour_share

    x = img.reshape(-1, 3).astype(np.float64) / 255
    return colour_share(x) < 0.08 or float((x @ np.array([0.2126, 0.7152, 0.0722])).mean()) < 0.30


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


def save_json(result: dict, path: Path) -> None:
    """Write a results JSON under a temporary name, renamed when complete, and print it."""
    import json

    text = json.dumps(result, indent=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    print(text)


def write_results(result: dict, table: str, json_path: str | None, md_path: str | None) -> None:
    """Print the markdown table; write the JSON and markdown files when asked."""
    import json

    print(table)
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=1))
    if md_path:
        Path(md_path).write_text(table + "\n")

