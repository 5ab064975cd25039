"""The one-photo fit's settings, as one object passed down to ``fit_look`` (tools pass their own, never by
overwriting module globals)."""

from __future__ import annotations

from dataclasses import dataclass

from .readings import MIN_DIFFERENCE, POOL_ORDER

#: the most candidate readings a fit offers (the automatic one, then POOL_ORDER)
MAX_CANDIDATES = 1 + len(POOL_ORDER)


@dataclass(frozen=True)
class FitSettings:
    """How a one-photo fit reads its template.

    Args:
        candidates: how many distinct readings a one-photo fit offers (1 = the automatic one only; at most
            MAX_CANDIDATES). Fits with the original given have one look.
        min_difference: two readings closer than this (mean dE00 on reference colours) count as one.
        pool_order: the order readings are offered in after the automatic one.
        neighbours: how many look-library entries the neighbour reading averages.
        library_exclude: look-library folders left out of the neighbour search (evaluation: a look's own family
            left out behaves as an unseen look does).
    """

    candidates: int = 4
    min_difference: float = MIN_DIFFERENCE
    pool_order: tuple = POOL_ORDER
    neighbours: int = 80
    library_exclude: tuple = ()
