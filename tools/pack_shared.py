"""Pack what tools/train_defilter.py reads from ../shared/data into a small copy for the GPU machine, which gets the
checkout but not ../shared (and at most 64 MiB with it).

    python tools/pack_shared.py [--out .device/shared] [--side 192] [--level 5]

Same folder layout and file names, so the split rule (every 5th file per folder) picks the same files: photos
area-downscaled to the training's load size (long side --side: train_defilter loads them at 1.5 x its 128 px crops)
as JPEG q95; looks (film and creative, both splits) as level-5 HaldCLUTs (25^3 nodes, 8-bit PNG; training resamples
every look to 33^3 anyway). Use it with LIVEFILTER_SHARED_DATA=OUT. Only ../shared's own data goes in.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared_data import SHARED, load_photo  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.luts import write_hald  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(".device/shared"))
    ap.add_argument("--side", type=int, default=192)
    ap.add_argument("--level", type=int, default=5)
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        print(f"needs {SHARED}", file=sys.stderr)
        return 2
    n = size = 0
    for p in sorted((SHARED / "photos").rglob("*.jpg")):
        dst = args.out / p.relative_to(SHARED)
        dst.parent.mkdir(parents=True, exist_ok=True)
        img = load_photo(p, args.side)
        cv2.imwrite(str(dst), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
        n, size = n + 1, size + dst.stat().st_size
    print(f"{n} photos, {size / 2**20:.1f} MiB", file=sys.stderr)
    n = size = 0
    for p in sorted((SHARED / "looks").rglob("*.png")):
        dst = args.out / p.relative_to(SHARED)
        dst.parent.mkdir(parents=True, exist_ok=True)
        write_hald(dst, lf.read_lut(p), level=args.level, bits=8)
        n, size = n + 1, size + dst.stat().st_size
    print(f"{n} looks, {size / 2**20:.1f} MiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
