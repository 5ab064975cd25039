"""livefilter info: what a look file holds (its LUT, how far it moves colours, its readings, segments, metadata)."""

from __future__ import annotations

import numpy as np

from ..analysis.scene import UNLIKE_NOTE
from ..look import load_look
from ..look.character import reading_character
from ..look.look import reading_text
from ..look.readings import describe_reading
from ..luts import format_of
from ..luts.lut import identity_table
from .exits import EXIT_OK


def print_readings(look, kept: bool = True) -> None:
    """The look's readings, numbered, the picked one marked, and those left out as near-duplicates (fit says them
    too); ``kept``: the look's file keeps them all (a .look.npz), otherwise it holds the picked one alone."""
    if not look.candidates:
        return
    how = ("fit --pick N chooses, apply --pick N grades with one, live --pick N starts on one" if kept else
           "the file holds it alone: fit --pick N exports another, a .look.npz keeps them all")
    print(f"readings: {len(look.candidates)} (reading {look.picked} is the look's LUT; {how})")
    for i, (c, reading) in enumerate(zip(look.meta["candidates"], look.candidates), 1):
        # reading 1's reasons are the confidence line's (that line says the picked reading's when it is another)
        if i == 1 and look.picked == 1 and c.get("confidence") == look.meta.get("confidence"):
            c = {**c, "confidence": {"level": c["confidence"].get("level", "unknown")}}
        print(f"  {'*' if i == look.picked else ' '}{i} {describe_reading(c, reading_character(reading))}")
    if skipped := look.meta.get("candidates skipped"):
        print(f"  left out as near-duplicates of a reading above: {', '.join(skipped)}")


def cmd_info(args) -> int:
    look = load_look(args.look)
    lut = look.lut
    # exact at the 33^3 nodes over [0, 1] whatever the file's domain, shaper or 1D curves
    dev = np.abs(np.clip(lut.unit_table(33), 0, 1) - identity_table(33)).mean() * 255
    print(f"look:      {look.name}")
    print(f"file:      {args.look}")
    # what kind of look file (the help promises it; a Hald, a .cube and a .3dl all said only 'LUT: 3D N^3')
    print(f"kind:      {format_of(args.look).description.format(level=round(lut.size ** 0.5), size=lut.size)}")
    print(f"LUT:       {lut.describe()}")
    print(f"change:    mean distance from identity {dev:.2f} (0-255 scale)")
    print(f"character: {look.character}")
    if look.mapping is not None:  # the fitted mapping (meta) and how it is stored (kind) on one line
        fitted = look.meta.get("mapping")
        print(f"mapping:   {fitted} ({look.mapping.kind})" if fitted and fitted != look.mapping.kind
              else f"mapping:   {look.mapping.kind}")
    print_readings(look)
    if look.label_luts:
        cats = look.categories
        print(f"segments:  {', '.join(f'{cats[k]} (label {k})' for k in sorted(look.label_luts))} have their own "
              "look" + ("; apply segments each image" if "segments" in look.meta else ""))
    if (conf := look.confidence_text()) is not None:  # the LUT's reading's (a live save of reading 2 said 1's)
        print(f"confidence: {conf}")
    for k, v in look.meta.items():
        if k == "scene" and isinstance(v, dict):  # 1,280 numbers: what matters is that it is there
            v = f"the template's scene features: in apply and live, {UNLIKE_NOTE}"
        elif k == "several" and isinstance(v, dict):  # several photos: how their readings were taken
            v = (f"{v.get('photos')} {'stills' if 'video' in look.meta else 'photos'}, their readings averaged: "
                 + ", ".join(f"{kind} {s:.0%}" for kind, s in v.get("strengths", {}).items()))
        elif k == "reading":  # the one reading a file holds alone: "2 of 4 (bold)" (a dict was printed)
            v = reading_text(v)
        elif k == "templates" and isinstance(v, list):  # several photos: each one's file and confidence
            v = "; ".join(f"{t.get('template') or 'an image'} ({t.get('confidence', {}).get('level', 'unknown')})"
                          for t in v)
        shown = ("name", "confidence", "confidence text", "candidates", "picked", "candidates skipped",
                 *(("original",) if "several" in look.meta else ()))  # several photos: no original, "several" says
        if k not in shown and v not in (None, "", []) and (k != "mapping" or look.mapping is None):
            print(f"{k + ':':<10} {_plain(v)}")
    return EXIT_OK


def _plain(v, nested: bool = False) -> str:
    """A metadata value as a person reads it: a float to 3 decimals (0.41952594246086344 was printed), a flat dict as
    'key value, ...' (a Python dict was); a dict inside one as it is (flattened, its keys ran together)."""
    if isinstance(v, float):
        return format(round(v, 3), "g") if abs(v) < 1e6 else f"{v:.0f}"
    if isinstance(v, dict) and not nested:
        return ", ".join(f"{k} {_plain(x, True)}" for k, x in v.items())
    return str(v)
