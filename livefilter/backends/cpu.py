"""The CPU backend: livefilter.render (numba, pre-baked 256^3 table)."""

from __future__ import annotations

import threading

import numpy as np

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
        if len(luts) > 1:
            # the several-LUT pass has kernels of its own: compiled here too, on the caller's thread (live: the look
            # worker), not by the render loop's first frame after the swap (9.7 s at a cold numba cache)
            tiny = np.zeros((4, 4, 3), np.uint8)
            mask = np.zeros((len(luts) - 1, 2, 2), np.float32)
            for degree in (None, np.ones((2, 2), np.float32)):
                render_segments(tiny, luts, mask, degree=degree, strength=1.0, interp=self.interp,
                                out=np.empty_like(tiny))
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
