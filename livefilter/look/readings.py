"""Several readings of one photo: from one template the look is ambiguous (a teal-and-orange photo may be a
teal-and-orange scene or a teal-and-orange grade), so a one-photo fit offers K distinct candidate looks and the user
picks one on their own picture; candidate 1 is the automatic estimate.

The readings: the automatic one (the fitted look as hedged, plus a share of the library's neighbour reading); the
fitted look bold (at 125 %, no hedge toward doing nothing) and whole; the look library's neighbour reading (the
weighted mean of the looks of the library entries nearest to the template), its neighbours' looks split into two
clusters (each holding at least FitSettings.cluster_support of their weight), and the single nearest library look
kept whole (bold readings); a gentle one (half of the fitted look) for templates whose look is mostly scene; and,
for a template close to black-and-white that the monochrome path did not take (a toned photo saved as JPEG), its
black-and-white reading. Readings are taken in POOL_ORDER (chosen by the best-of-K figure, docs/decisions.md
"candidate readings"; the black-and-white reading in MONOCHROME_PLACE's place) and one is skipped when it is within
MIN_DIFFERENCE dE00 of a reading already taken, on reference colours (the bundled sample photos).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from .. import srgb
from ..imageio import read_image
from ..luts.lut import Lut
from ..resources import DATA_DIR
from .coverage import OffsetMapping
from .library import LookLibrary, Neighbours, default_library, has_library
from .mapping import TableMapping
from .sampling import downscale

# The order readings are offered in after the automatic one; chosen by the best-of-4 figure on the training split and
# confirmed on the validation split (docs/decisions.md "candidate readings" and "bold reading and the order with the
# library's share": cluster 1 is close to reading 1 since reading 1 carries a share of the library's reading).
POOL_ORDER = ("bold", "cluster 2", "gentle", "nearest", "whole", "cluster 1", "library")
# The black-and-white reading, where there is one, is offered in this reading's place, which moves one place down:
# offered first it would push the gentle reading out of the first four, the safe one on a colour look over a
# near-grey photo (docs/decisions.md "black-and-white reading").
MONOCHROME_PLACE = "cluster 2"
# Two readings closer than this (mean CIEDE2000 on the reference colours) count as one.
MIN_DIFFERENCE = 2.0
GENTLE_SHARE = 0.5
# The bold reading keeps this much of the fitted look: one photo under-reads a strong grade more often than it
# over-reads it (docs/decisions.md "bold reading and the order with the library's share")
BOLD_SHARE = 1.25
CLUSTERS = 2


@dataclass
class Reading:
    """One candidate look: what it is, its look (a mapping over [0, 1] RGB) and how sure it is."""

    kind: str  # automatic | monochrome | bold | whole | library | cluster 1 | cluster 2 | nearest | gentle
    mapping: object
    confidence: dict = field(default_factory=dict)
    note: str = ""  # e.g. the nearest library look's name
    lut: Lut | None = None  # baked by the fit

    def __repr__(self) -> str:  # one line, not the mapping's and the LUT's numbers
        level = self.confidence.get("level")
        return (f"Reading({self.kind!r}" + (f", {self.note!r}" if self.note else "")
                + (f", confidence {level}" if level else "") + ")")

    def meta(self) -> dict:
        return {"kind": self.kind, "note": self.note, "confidence": self.confidence}


def delta_e00(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 between (..., 3) CIELAB arrays (Sharma, Wu and Dalal 2005), float64."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, np.float64), -1, 0)
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar ** 7 / (c_bar ** 7 + 25.0 ** 7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dL, dC = L2 - L1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)
    L_bar, c_bar_p = (L1 + L2) / 2, (c1p + c2p) / 2
    hsum = h1p + h2p
    h_bar = np.where(np.abs(h1p - h2p) > 180, np.where(hsum < 360, hsum + 360, hsum - 360), hsum) / 2
    h_bar = np.where(c1p * c2p == 0, hsum, h_bar)
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    sl = 1 + 0.015 * (L_bar - 50) ** 2 / np.sqrt(20 + (L_bar - 50) ** 2)
    sc, sh = 1 + 0.045 * c_bar_p, 1 + 0.015 * c_bar_p * t
    rt = (-2 * np.sqrt(c_bar_p ** 7 / (c_bar_p ** 7 + 25.0 ** 7))
          * np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2)))))
    return np.sqrt((dL / sl) ** 2 + (dC / sc) ** 2 + (dH / sh) ** 2 + rt * (dC / sc) * (dH / sh))


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) sRGB in [0, 1] -> CIELAB (D65), float64."""
    lin = srgb.decode(np.clip(np.asarray(rgb, np.float64), 0, 1))
    xyz = lin @ np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                          [0.0193339, 0.1191920, 0.9503041]]).T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


@functools.lru_cache(maxsize=1)
def reference_colours() -> np.ndarray:
    """The colours readings are compared on: the bundled sample photos at 48 px, (n, 3) in [0, 1]."""

    px = [downscale(read_image(DATA_DIR / f"sample_{n}.jpg"), 48).reshape(-1, 3) for n in ("before", "test")]
    return np.concatenate(px).astype(np.float64) / 255.0


def reading_difference(a, b, colours: np.ndarray | None = None) -> float:
    """Mean CIEDE2000 between two readings' looks (mappings) on the reference colours."""
    x = reference_colours() if colours is None else colours
    return float(delta_e00(srgb_to_lab(a(x)), srgb_to_lab(b(x))).mean())


def _table_of(lib: LookLibrary, offsets: np.ndarray) -> TableMapping:
    return TableMapping(lib.table(offsets.astype(np.float32)))


def _clusters(looks: np.ndarray, weights: np.ndarray, k: int, iters: int = 10) -> list[np.ndarray]:
    """Weighted k-means of looks (n, d), started from the heaviest look and the ones farthest from the centres so
    far (deterministic); returns each cluster's member indices, heaviest cluster first."""
    centres = [looks[int(np.argmax(weights))]]
    for _ in range(1, k):
        d = np.min([((looks - c) ** 2).sum(1) for c in centres], axis=0)
        centres.append(looks[int(np.argmax(d * weights))])
    centres = np.array(centres)
    for _ in range(iters):
        assign = np.argmin(((looks[:, None, :] - centres[None]) ** 2).sum(2), axis=1)
        for j in range(k):
            sel = assign == j
            if sel.any():
                centres[j] = (weights[sel, None] * looks[sel]).sum(0) / weights[sel].sum()
    members = [np.flatnonzero(assign == j) for j in range(k)]
    members = [m for m in members if len(m)]
    return sorted(members, key=lambda m: -weights[m].sum())


def nearest_looks(rgb: np.ndarray, settings) -> tuple[LookLibrary, Neighbours] | None:
    """The look library and the template's neighbours in it (None without the library file)."""
    if not has_library():
        return None
    lib = default_library()
    exclude = np.isin(lib.folders, list(settings.library_exclude)) if settings.library_exclude else None
    return lib, lib.neighbours(rgb, settings.neighbours, exclude=exclude)


def neighbour_mean(lib: LookLibrary, nb: Neighbours) -> TableMapping:
    """The neighbours' looks, weighted: the library's reading of the template."""
    ids, w = nb.by_look()
    return _table_of(lib, (w[:, None, None, None, None] * lib.offsets[ids].astype(np.float64)).sum(0))


def _families(offs: np.ndarray, w: np.ndarray, min_support: float) -> list[np.ndarray]:
    """The neighbours' looks in CLUSTERS clusters (:func:`_clusters`), each holding at least ``min_support`` of
    their weight: a cluster lighter than that (a lone look far from the others, e.g. a colour negative among
    ordinary grades) is left out and the rest clustered again, as long as what is left out stays under
    ``min_support`` in all; then only the clusters that hold it (fewer readings)."""
    keep = np.arange(len(w))
    while True:
        members = [keep[m] for m in _clusters(offs[keep], w[keep], CLUSTERS)] if len(keep) >= CLUSTERS else [keep]
        light = [m for m in members if w[m].sum() < min_support]
        if not light:
            return members
        out = np.concatenate(light)
        if len(keep) <= len(out) or w.sum() - w[keep].sum() + w[out].sum() >= min_support:
            return [m for m in members if w[m].sum() >= min_support]
        keep = np.setdiff1d(keep, out)


def library_readings(lib: LookLibrary, nb: Neighbours, min_support: float = 0.0) -> list[Reading]:
    """The neighbour reading, its clusters (each with at least ``min_support`` of the neighbours' weight) and the
    nearest look, each with its support among the neighbours."""
    ids, w = nb.by_look()
    offs = lib.offsets[ids].reshape(len(ids), -1).astype(np.float64)
    closeness = float(nb.distances[0] / max(nb.spread, 1e-9))  # 0: the template sits on a library entry
    share_top = float(w[0])
    out = [Reading("library", neighbour_mean(lib, nb), _library_confidence(share_top, closeness, len(ids)))]
    if len(ids) >= CLUSTERS:
        for j, m in enumerate(_families(offs, w, min_support)):
            mean = (w[m, None] * offs[m]).sum(0) / w[m].sum()
            out.append(Reading(f"cluster {j + 1}", _table_of(lib, mean.reshape(lib.offsets.shape[1:])),
                               _library_confidence(float(w[m].sum()), closeness, len(m))))
    near = int(nb.looks[0])  # the nearest entry's look, kept whole
    out.append(Reading("nearest", _table_of(lib, lib.offsets[near]),
                       _library_confidence(float(w[ids == near].sum()), closeness, 1),
                       note=_look_label(lib.names[near])))
    return out


def _look_label(name: str) -> str:
    """A library look's name as a user reads it: a film stock or a creative grade by its name; a synthetic look (its
    number means nothing to a user) as one."""
    if name.startswith("synthetic"):
        return "a synthetic creative look" if "creative" in name else "a synthetic look"
    return name.split("/")[-1]


def _library_confidence(support: float, closeness: float, looks: int) -> dict:
    """How much of the neighbours' weight backs a library reading and how near the template is to the library."""
    level = "medium" if support >= 0.5 and closeness < 0.5 else "low"
    why = [f"{support:.0%} of the nearest library photos' weight" + (f" ({looks} looks)" if looks > 1 else ""),
           f"nearest library photo at {closeness:.2f} of the typical distance"]
    return {"level": level, "support": round(support, 3), "closeness": round(closeness, 3), "why": why}


def offered_order(order, kinds) -> tuple:
    """``order`` for a pool holding ``kinds``: with a black-and-white reading, that one in MONOCHROME_PLACE's place
    and MONOCHROME_PLACE one place down (at the end when it is not in ``order``); a "monochrome" in ``order`` itself
    is ignored, its place is MONOCHROME_PLACE's."""
    order = tuple(k for k in order if k != "monochrome")
    if "monochrome" not in kinds:
        return order
    if MONOCHROME_PLACE not in order:
        return order + ("monochrome",)
    i = order.index(MONOCHROME_PLACE)
    return order[:i] + ("monochrome",) + order[i + 1:i + 2] + (MONOCHROME_PLACE,) + order[i + 2:]


def select(automatic: Reading, pool: list[Reading], k: int, min_difference: float = MIN_DIFFERENCE,
           order=POOL_ORDER) -> tuple[list[Reading], list[str]]:
    """Candidate 1 is the automatic reading; then readings in ``order`` (:func:`offered_order`) that differ from
    every one taken by at least ``min_difference`` dE00, up to ``k``. Returns the readings and the kinds skipped as
    near-duplicates."""
    by_kind = {r.kind: r for r in pool}
    taken, skipped = [automatic], []
    x = reference_colours()
    outs = {automatic.kind: srgb_to_lab(automatic.mapping(x))}
    for kind in offered_order(order, by_kind):
        if len(taken) >= k:
            break
        r = by_kind.get(kind)
        if r is None:
            continue
        lab = srgb_to_lab(r.mapping(x))
        if min(float(delta_e00(lab, o).mean()) for o in outs.values()) < min_difference:
            skipped.append(kind)
            continue
        taken.append(r)
        outs[kind] = lab
    return taken, skipped


def candidate_readings(automatic: Reading, near, settings, *, bold=None, whole=None, gentle=None, monochrome=None
                       ) -> tuple[list[Reading], list[str]]:
    """The candidates of a one-photo fit: ``automatic`` (the fitted look as hedged), then the pool in the settings'
    order: ``bold`` (the fitted look at BOLD_SHARE), ``whole`` (the fitted look unhedged), the library readings
    (``near``: the library and the template's neighbours, or None), ``gentle`` (GENTLE_SHARE of the hedged look)
    and ``monochrome`` (the template read as black-and-white); a reading given as None is left out. Returns the
    candidates and the kinds skipped as near-duplicates."""
    pool = []
    level = automatic.confidence.get("level", "low")
    if monochrome is not None:
        pool.append(Reading("monochrome", monochrome, {"level": "medium", "kept": 1.0, "why": [
            "the template read as a black-and-white (or toned) photo: close to one, but not taken for one"]}))
    if bold is not None:
        pool.append(Reading("bold", bold, {"level": level, "kept": BOLD_SHARE, "why": [
            f"the network's look at {BOLD_SHARE:.0%}, no hedge toward doing nothing: for a grade stronger than one "
            "photo shows"]}))
    if whole is not None:
        pool.append(Reading("whole", whole, {"level": level, "kept": 1.0,
                                             "why": ["the fitted look kept whole, no hedge toward doing nothing"]}))
    if near is not None:
        pool += library_readings(*near, min_support=settings.cluster_support)
    if gentle is not None:
        kept = automatic.confidence.get("kept", 1.0)
        # the fitted look's own level (it was "medium" whatever the fit's: a user choosing by confidence took the
        # gentle reading over a low-confidence automatic one it rarely beats)
        pool.append(Reading("gentle", gentle, {
            "level": level, "kept": round(GENTLE_SHARE * kept, 3),
            "why": [f"{GENTLE_SHARE:.0%} of reading 1's network look: for a template whose look is mostly its "
                    "scene"]}))
    return select(automatic, pool, settings.candidates, settings.min_difference, settings.pool_order)


def read_one_photo(rgb: np.ndarray, hedged, kept, confidence: dict, settings, *, weight: float,
                   flat_guess: bool = False, library: bool = True, monochrome=None, grey: bool = False
                   ) -> tuple[object, float, list[Reading], list[str]]:
    """The readings of one template ``rgb``: the automatic one (``hedged``, the fitted look as hedged, plus
    settings.library_share of the library's neighbour reading where ``library``: the network's path) and, when
    settings.candidates > 1, the others; ``kept(w)``: the fitted look keeping w of it (the whole and bold readings),
    ``weight``: the share the hedge kept; ``flat_guess``: a guess from a flat template, nothing of it worth more;
    ``monochrome``: the template's black-and-white reading (a look), offered in MONOCHROME_PLACE's place;
    ``grey``: the template read as black-and-white (the monochrome path): no bold reading, whose desaturation taken
    past grey turned colours into their opposites (red to cyan).
    Returns (the automatic look, the library share it took, the readings, the kinds skipped as near-duplicates)."""
    share = settings.library_share if library and not flat_guess else 0.0
    # a flat template's library neighbours share its want of colours, not a look: their readings of a black photo
    # nearly blacked a test photo out, rated medium
    near = nearest_looks(rgb, settings) if (settings.candidates > 1 or share > 0) and not flat_guess else None
    library_look = neighbour_mean(*near) if near is not None and share > 0 else None
    if library_look is None:
        share = 0.0
    automatic = hedged if library_look is None else OffsetMapping(  # 'library share' and 'library share, capped'
        hedged, library_look, share, settings.library_cap)
    if settings.candidates <= 1:
        return automatic, share, [], []
    # the whole look is left out where the fit kept nothing on purpose (a flat template)
    whole = None if flat_guess or (weight >= 1.0 and not share) else kept(1.0)
    bold = None if flat_guess or grey else kept(BOLD_SHARE)
    # gentle: GENTLE_SHARE of the hedged look, i.e. the fitted look keeping GENTLE_SHARE of the hedge's weight
    readings, skipped = candidate_readings(Reading("automatic", automatic, confidence), near, settings, bold=bold,
                                           whole=whole, gentle=kept(GENTLE_SHARE * weight), monochrome=monochrome)
    return automatic, share, readings, skipped


def describe_reading(meta: dict, character: str | None = None) -> str:
    """One line for the user: the reading's kind (and note), what it does (``character``, from
    :func:`livefilter.look.character.character`), its confidence level and why."""
    head = meta["kind"] + (f" ({meta['note']})" if meta.get("note") else "")
    return f"{head}: " + (f"{character}; confidence " if character else "") + reading_confidence(meta)


def reading_confidence(meta: dict) -> str:
    """A reading's confidence level and why, in words."""
    conf = meta.get("confidence") or {}
    why = "; ".join(conf.get("why", []))
    return conf.get("level", "unknown") + (f" ({why})" if why else "")
