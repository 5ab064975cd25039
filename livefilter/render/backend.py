"""Render backends behind one small interface, with a registry.

A backend holds the current LUT (``set_lut`` prepares it, possibly slowly, then swaps it in atomically) and
grades frames (``render``). ``create_backend("auto")`` tries cuda, then cpu, and logs one line saying which and
why (a backend whose package is simply not installed is said at debug level only: ``-v``); an explicit name that
cannot run raises :class:`BackendError` with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from ..errors import BackendError
from ..fileio import Closable
from ..luts.lut import Lut

log = logging.getLogger(__name__)


class Backend(Closable):
    name = "backend"

    def set_lut(self, lut: Lut) -> None:
        raise NotImplementedError

    def prepare(self, lut: Lut) -> None:
        """Do ahead what :meth:`set_lut` would do slowly for ``lut`` (a LUT likely to come next), keeping the
        live one; backends whose swap is cheap do nothing."""

    def set_luts(self, luts: list[Lut]) -> None:
        """Several LUTs, one per segment category (a per-segment look, Look.category_luts()); ``render`` then
        mixes them by its ``mask``. One LUT is :meth:`set_lut`."""
        raise NotImplementedError

    def render(self, frame: np.ndarray, degree: np.ndarray | None, strength: float,
               out: np.ndarray | None = None, mask: np.ndarray | None = None) -> np.ndarray:
        """Grade ``frame``; ``mask`` (K - 1, mh, mw) float: the soft label mask for the K LUTs of set_luts
        (ignored, with the first LUT used, when None or when one LUT is set)."""
        raise NotImplementedError



class NotInstalled(str):
    """A probe's reason that only says an optional package is absent (CuPy on a machine without a GPU): no news to
    someone who did not ask for that backend, so ``auto`` logs it at debug level."""


# name -> (probe() -> None if usable else the reason, factory() -> Backend)
_REGISTRY: dict[str, tuple[Callable[[], str | None], Callable[[], Backend]]] = {}
AUTO_ORDER = ("cuda", "cpu")


def register(name: str, probe: Callable[[], str | None], factory: Callable[[], Backend]) -> None:
    _REGISTRY[name] = (probe, factory)


def available() -> dict[str, str | None]:
    """Each backend's reason it cannot run, or None when it can."""
    return {name: probe() for name, (probe, _) in _REGISTRY.items()}


def create_backend(name: str = "auto") -> Backend:
    if name != "auto":
        if name not in _REGISTRY:
            raise BackendError(f"unknown backend {name!r}; choose auto, {', '.join(_REGISTRY)}")
        probe, factory = _REGISTRY[name]
        reason = probe()
        if reason:
            raise BackendError(f"backend {name!r} cannot run: {reason}")
        return factory()
    reasons = {}
    for cand in AUTO_ORDER:
        probe, factory = _REGISTRY[cand]
        reason = probe()
        if reason is None:
            loud = "; ".join(f"{k}: {v}" for k, v in reasons.items() if not isinstance(v, NotInstalled))
            log.info("render backend: %s%s", cand, f" ({loud})" if loud else "")
            for k, v in reasons.items():
                if isinstance(v, NotInstalled):
                    log.debug("render backend %s not used: %s", k, v)
            return factory()
        reasons[cand] = reason
    raise BackendError("no render backend can run: " + "; ".join(f"{k}: {v}" for k, v in reasons.items()))

