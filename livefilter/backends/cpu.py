"""The CPU backend: livefilter.render (numba, pre-baked 256^3 table)."""

from __future__ import annotations

import threading

from ..lut import Lut
from ..render import baked_table, render, render_segments
from . import Backend, register


class CpuBackend(Backend):
    name = "cpu"

    def __init__(self, interp: str = "trilinear"):
        self.interp = interp
        self._luts: tuple[Lut, ...] = ()
        self._lock = threading.Lock()

    def set_lut(self, lut: Lut) -> None:
        self.set_luts([lut])

    def set_luts(self, luts) -> None:
        luts = tuple(luts)
        for lut in luts:
            baked_table(lut, self.interp)  # the slow part (~0.5 s each), done before the swap
        with self._lock:
            self._luts = luts

    def render(self, frame, degree, strength, out=None, mask=None):
        luts = self._luts  # one read: a swap in between cannot mix two looks
        if not luts:
            raise RuntimeError("no LUT set")
        if mask is None or len(luts) == 1:
            return render(frame, luts[0], degree=degree, strength=strength, interp=self.interp, out=out)
        return render_segments(frame, luts, mask, degree=degree, strength=strength, interp=self.interp, out=out)


register("cpu", lambda: None, CpuBackend)
