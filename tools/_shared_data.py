"""Helpers for tools that use ../shared/data: the split rule, photo and look loading, sRGB -> Lab, CIEDE2000."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


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


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


def write_results(result: dict, table: str, json_path: str | None, md_path: str | None) -> None:
    """Print the markdown table; write the JSON and markdown files when asked."""
    import json

    print(table)
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=1))
    if md_path:
        Path(md_path).write_text(table + "\n")
