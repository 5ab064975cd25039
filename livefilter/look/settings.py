"""The fit's settings, as one object passed down to ``fit_look`` and its stages (tools pass their own
``FitSettings``; nothing overwrites module globals). Every default was chosen by measurement: the comment names its
row in docs/decisions.md."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import InputError
from .readings import MIN_DIFFERENCE, POOL_ORDER

#: the most candidate readings a fit offers: the automatic one, POOL_ORDER and, for a template close to
#: black-and-white, its monochrome reading
MAX_CANDIDATES = 2 + len(POOL_ORDER)


def number(name: str, value, lo: float | None = None, hi: float | None = None) -> float:
    """``value`` as a finite float in [lo, hi] (either end open when None), else an InputError naming ``name``
    (NaN passed every comparison, and a string failed deep inside with a TypeError)."""
    try:
        v = math.nan if isinstance(value, (str, bytes)) else float(value)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, bool) or not math.isfinite(v) or (lo is not None and v < lo) or (hi is not None and v > hi):
        where = (f"in [{lo:g}, {hi:g}]" if hi is not None else f">= {lo:g}") if lo is not None else "finite"
        raise InputError(f"{name} must be a number {where}, got {value!r}")
    return v


@dataclass(frozen=True)
class FitSettings:
    """How a fit reads its template.

    Args:
        candidates: how many distinct readings a one-photo fit offers (1 = the automatic one only; at most
            MAX_CANDIDATES). Fits with the original given have one look.
        min_difference: two readings closer than this (mean dE00 on reference colours) count as one.
        pool_order: the order readings are offered in after the automatic one.
        neighbours: how many look-library entries the neighbour readings weigh.
        cluster_support: a cluster reading holds at least this share of the neighbours' weight (lighter ones, a
            lone far look, are left out of the clustering).
        library_exclude: look-library folders left out of the neighbour search (evaluation: a look's own family
            left out behaves as an unseen look does).
        one_photo_mapping: the mapping fitted from the de-filter network's guess ("seed" or "residual").
        guess_weight_rule: (a, b): the network's look alone keeps w = clip(a + b d, 0, 1) of itself, d = how far
            the network moved the template (mean change in code values).
        prior_share: how much of the look prior's look is averaged with the network's (0: the network's alone).
        prior_rule: (a, b): with the look prior, w = clip(a + b d, 0, 1), d = the mean of both looks' changes.
        library_share: the automatic one-photo reading adds this share of the look library's neighbour reading
            (its change from identity) to the fitted look; 0: none.
        library_cap: that addition is at most this long per colour (Euclidean, [0, 1] RGB); None: uncapped.
        coverage_p0: the coverage fall-back strength per path (original, network, monochrome).
        segment_min_gain: a segment keeps its own mapping when that fits its samples better than the global one
            by at least this mean absolute error (code values).
        segments_from_guess: learn per-segment looks through the network's guess (one photo, segments=True);
            False: such a fit is the plain fit, and says so.
        segment_the_original: with an original, find the segments on it (as the render side segments ungraded
            frames), not on the template.
        edge_band: person weights inside this band belong to no segment's samples (None: no band).
        segment_aware_guess: when the FIG. 3 network makes the guess: "segments" (fits with segments=True),
            "people" (also when a person covers at least people_share of the template) or "never".
        people_share: see segment_aware_guess.
        monochrome_reading: a one-photo template the monochrome path did not take but whose monochrome residual
            (Template.grey) is under this also gets the black-and-white reading among its candidates (0: never).
    """

    candidates: int = 4  # docs/decisions.md 'how many readings'
    min_difference: float = MIN_DIFFERENCE
    pool_order: tuple = POOL_ORDER
    neighbours: int = 80
    cluster_support: float = 0.1  # docs/decisions.md 'cluster support'
    library_exclude: tuple = ()
    one_photo_mapping: str = "seed"  # 'one-photo mapping'
    guess_weight_rule: tuple = (0.25, 0.015)  # 'kept-weight rule'
    prior_share: float = 0.5  # 'look prior'
    prior_rule: tuple = (0.2, 0.02)  # 'look prior'
    library_share: float = 0.25  # 'library share'
    library_cap: float | None = 0.03  # 'library share, capped'
    coverage_p0: dict = field(default_factory=lambda: {"original": 0.03, "network": 0.3, "monochrome": 0.0})
    segment_min_gain: float = 0.5  # 'segment gate'
    segments_from_guess: bool = False  # 'segments from one photo'
    segment_the_original: bool = True  # 'segment the original'
    edge_band: tuple | None = (0.25, 0.75)  # 'edge band'
    segment_aware_guess: str = "segments"  # 'segmentation-aware de-filter'
    people_share: float = 0.1
    monochrome_reading: float = 8 / 255  # 'black-and-white reading'

    def __post_init__(self):
        # checked here, for every way of making one (replace() too): a prior_share of 50 moved a test photo by
        # 107.6 code values with "medium" confidence, and a dict in its place failed deep in the fit
        checks = [(name, getattr(self, name), lo, hi) for name, lo, hi in (
            ("min_difference", 0, None), ("cluster_support", 0, 1), ("prior_share", 0, 1), ("library_share", 0, 1),
            ("people_share", 0, 1), ("monochrome_reading", 0, None), ("segment_min_gain", 0, None))]
        checks += [(f"coverage_p0[{k!r}]", v, 0, None) for k, v in dict(self.coverage_p0).items()]
        checks += [("library_cap", self.library_cap, 0, None)] if self.library_cap is not None else []
        for name, value, lo, hi in checks:
            number(f"FitSettings.{name}", value, lo, hi)
        for name in ("guess_weight_rule", "prior_rule"):
            rule = getattr(self, name)
            if not (isinstance(rule, tuple) and len(rule) == 2):
                raise InputError(f"FitSettings.{name} must be a pair (a, b), got {rule!r}")
            for v in rule:
                number(f"FitSettings.{name}", v)
        if self.one_photo_mapping not in ("seed", "residual"):
            raise InputError(f"FitSettings.one_photo_mapping must be 'seed' or 'residual', got "
                             f"{self.one_photo_mapping!r}")
        if self.segment_aware_guess not in ("segments", "people", "never"):
            raise InputError(f"FitSettings.segment_aware_guess must be 'segments', 'people' or 'never', got "
                             f"{self.segment_aware_guess!r}")
        if isinstance(self.neighbours, bool) or not isinstance(self.neighbours, int) or self.neighbours < 1:
            raise InputError(f"FitSettings.neighbours must be a whole number >= 1, got {self.neighbours!r}")

    @property
    def weak_change(self) -> float:
        """Below this mean change (code values) the user is told the look is weak: where the network's rule keeps
        under 35 % of its look."""
        a, b = self.guess_weight_rule
        return (0.35 - a) / b

    def guess_weight(self, change: float, prior_change: float | None = None) -> float:
        """How much of a look learnt from one photo is kept, from how far the network moved the template and,
        when the look prior is averaged in, how far the prior's look moves it."""
        a, b = self.guess_weight_rule if prior_change is None else self.prior_rule
        d = change if prior_change is None else (change + prior_change) / 2.0
        return float(min(max(a + b * d, 0.0), 1.0))


DEFAULT = FitSettings()
