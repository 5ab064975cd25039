"""The bundled sample looks that demo and bench-live grade with (no photo of the user's needed)."""

from __future__ import annotations

import numpy as np

from ..analysis.segments import person_mask
from ..errors import InputError
from ..imageio import read_image
from ..look import fit_look
from ..resources import DATA_DIR


def sample_look():
    """The bundled sample look, fitted from its before/after pair."""
    return fit_look(DATA_DIR / "sample_after.jpg", DATA_DIR / "sample_before.jpg", name="sample teal & orange",
                    scene=False)  # the bundled look grades the demo's clip whole, as a .cube would


def split_sample_look(scene: bool):
    """bench-live --segments: a per-segment look, learnt from the sample pair graded per segment (the sample look
    on the person, the background left as it was), with the template's scene when ``scene``."""
    before, after = read_image(DATA_DIR / "sample_before.jpg"), read_image(DATA_DIR / "sample_after.jpg")
    m = person_mask(after, size=after.shape[:2])[..., None]
    template = (after * m + before * (1 - m) + 0.5).astype(np.uint8)
    look = fit_look(template, before, segments=True, name="sample, person only", scene=scene)
    if not look.segmented:
        raise InputError("the sample pair gave no per-segment look")
    return look
