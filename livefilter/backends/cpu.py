"""The CPU backend: livefilter.render (numba, pre-baked 256^3 table)."""

from __future__ import annotations

import threading

from ..lut import Lut
from ..render import baked_table, render
from . import Backend, register


class CpuBackend(Backend):
    name = "cpu"

    def __init__(self, interp: str = "trilinear"):
        self.interp = interp
        self._lut: Lut | None = None
        self._lock = threading.Lock()

    def set_lut(self, lut: Lut) -> None:
        baked_table(lut, self.interp)  # the slow part (~0.1 s), done before the swap
        with self._lock:
            self._lut = lut

    def render(self, frame, degree, strength, out=None):
        lut = self._lut
        if lut is None:
            raise RuntimeError("no LUT set")
        return render(frame, lut, degree=degree, strength=strength, interp=self.interp, out=out)


register("cpu", lambda: None, CpuBackend)
