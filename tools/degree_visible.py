"""How large a frame-to-frame change of the rendering degree is visible: the threshold bench-live's
``degree_change`` figures are compared with.

A change of the degree by dd moves each pixel by dd * (graded - camera), so what a step looks like depends on
the look. Measured here with the bundled sample look (teal & orange, a strong grade) on the synthetic clip's first
frame: the CIEDE2000 between the frame rendered at degree 1 and at degree 1 - dd, per pixel, for a few dd. The
threshold is the dd whose 99th-percentile pixel difference reaches 1.0 dE00, about one just-noticeable difference
between two frames shown one after the other; a flicker below it is not seen even on the most affected pixels,
and a weaker look raises the threshold.

    python tools/degree_visible.py          # writes runs/degree_visible.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from _shared_data import RUNS, save_json  # noqa: E402

JND = 1.0  # dE00


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    from skimage.color import deltaE_ciede2000, rgb2lab

    import livefilter as lf
    from livefilter.cli.samples import sample_look
    from livefilter.live.sources import SyntheticSource

    look = sample_look()
    frame = SyntheticSource((960, 540)).frame_at(0)
    full = lf.render(frame, look)
    lab_full = rgb2lab(full)
    look_de = deltaE_ciede2000(rgb2lab(frame), lab_full)
    rows = []
    for dd in (0.01, 0.02, 0.05, 0.1):
        part = lf.render(frame, look, degree=np.full(frame.shape[:2], 1.0 - dd, np.float32))
        de = deltaE_ciede2000(rgb2lab(part), lab_full)
        rows.append({"degree_step": dd, "de00_mean": round(float(de.mean()), 4),
                     "de00_p99": round(float(np.percentile(de, 99)), 4)})
    # the p99 difference is linear in dd (a blend) up to 8-bit rounding: fit the slope through the origin
    steps = np.array([r["degree_step"] for r in rows])
    p99 = np.array([r["de00_p99"] for r in rows])
    slope = float((steps * p99).sum() / (steps * steps).sum())
    result = {
        "look": look.name, "frame": "SyntheticSource(960x540).frame_at(0)",
        "look_de00_vs_camera": {"mean": round(float(look_de.mean()), 3),
                                "p99": round(float(np.percentile(look_de, 99)), 3)},
        "steps": rows, "de00_p99_per_unit_degree": round(slope, 3), "jnd_de00": JND,
        "visible_degree_step": round(JND / slope, 4),
    }
    save_json(result, RUNS / "degree_visible.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
