"""Re-create the bundled sample images in livefilter/data/.

sample_before.jpg and sample_test.jpg are public-domain Kodak test photos (kodim15 and kodim23, Steve Kelly /
Kodak, via the CQ100 set in ../shared/data/photos/cq100). sample_after.jpg is sample_before.jpg graded with the
deterministic "teal & orange" look below, so the pair is a true before/after with a known look.

    python tools/make_sample.py            # writes livefilter/data/sample_*.jpg
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "photos" / "cq100"
OUT = ROOT / "livefilter" / "data"


def teal_orange(rgb: np.ndarray) -> np.ndarray:
    """A creative grade: S-curve contrast, lifted blacks, teal shadows, orange highlights, a little saturation."""
    x = rgb.astype(np.float64) / 255.0
    s = x * x * (3 - 2 * x)
    x = 0.5 * x + 0.5 * s
    lum = (x @ np.array([0.2126, 0.7152, 0.0722]))[..., None]
    x = lum + (x - lum) * 1.2
    shadow = np.clip(1 - lum / 0.5, 0, 1)
    light = np.clip((lum - 0.5) / 0.5, 0, 1)
    x = x + shadow * np.array([-0.09, 0.03, 0.11]) + light * np.array([0.12, 0.03, -0.10])
    x = 0.05 + 0.92 * x
    return np.clip(x * 255 + 0.5, 0, 255).astype(np.uint8)


def main(argv=None) -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHARED / "girl.jpg", OUT / "sample_before.jpg")
    shutil.copyfile(SHARED / "macaws.jpg", OUT / "sample_test.jpg")
    before = np.asarray(Image.open(OUT / "sample_before.jpg").convert("RGB"))
    Image.fromarray(teal_orange(before)).save(OUT / "sample_after.jpg", quality=92, subsampling=0)
    for f in sorted(OUT.glob("sample_*.jpg")):
        print(f, f.stat().st_size)


if __name__ == "__main__":
    main()
