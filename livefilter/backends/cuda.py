"""The CUDA backend: a CuPy RawKernel (source in shaders/lut_render.cu).

The LUT lives in GPU memory (swapped atomically by reference); frames go up and down through pinned host
buffers in row strips on two streams (strip k's copies overlap strip k-1's kernel), and the low-resolution
degree map is uploaded as is and upsampled inside the kernel.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from ..lut import Lut
from . import Backend, register

SHADER = Path(__file__).resolve().parent.parent.parent / "shaders" / "lut_render.cu"
BLOCK = (32, 8, 1)
STRIPS = 4


def _probe() -> str | None:
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (pip install 'livefilter[gpu]')"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device"
    except Exception as exc:  # noqa: BLE001 - any driver/runtime failure means "cannot run"
        return f"no usable CUDA device ({type(exc).__name__}: {exc})"
    if not SHADER.is_file():
        return f"kernel source {SHADER} is missing"
    return None


class CudaBackend(Backend):
    name = "cuda"

    def __init__(self):
        import cupy as cp
        import cupyx

        self.cp, self.cupyx = cp, cupyx
        self.kernel = cp.RawKernel(SHADER.read_text(), "lf_render", options=("-std=c++14",))
        self.streams = [cp.cuda.Stream(non_blocking=True) for _ in range(2)]
        self._lut = None  # (device array, n)
        self._lock = threading.Lock()
        self._shape = None
        self.name = f"cuda ({cp.cuda.runtime.getDeviceProperties(0)['name'].decode()})"

    def set_lut(self, lut: Lut) -> None:
        table = np.ascontiguousarray(lut.normalized().table, dtype=np.float32)
        dev = self.cp.asarray(table)  # uploaded before the swap: the render loop never waits for it
        self.cp.cuda.Device().synchronize()
        with self._lock:
            self._lut = (dev, table.shape[0])

    def _buffers(self, shape, dshape):
        if self._shape != (shape, dshape):
            cp, cupyx = self.cp, self.cupyx
            self.h_in = cupyx.empty_pinned(shape, np.uint8)
            self.h_out = cupyx.empty_pinned(shape, np.uint8)
            self.d_in = cp.empty(shape, np.uint8)
            self.d_out = cp.empty(shape, np.uint8)
            self.d_deg = cp.empty(dshape if dshape else (1,), np.float32)
            self._shape = (shape, dshape)

    def render(self, frame, degree, strength, out=None):
        lut = self._lut
        if lut is None:
            raise RuntimeError("no LUT set")
        dev_lut, n = lut
        h, w = frame.shape[:2]
        deg = None
        if degree is not None:
            deg = np.asarray(degree)
            deg = deg.astype(np.float32) / 255.0 if deg.dtype == np.uint8 else deg.astype(np.float32, copy=False)
        self._buffers(frame.shape, None if deg is None else deg.shape)
        np.copyto(self.h_in, frame)
        dh, dw = (0, 0) if deg is None else deg.shape
        if deg is not None:
            self.d_deg.set(np.ascontiguousarray(deg), stream=self.streams[0])
            self.streams[0].synchronize()
        step = -(-h // STRIPS)
        for k, y0 in enumerate(range(0, h, step)):
            y1 = min(h, y0 + step)
            s = self.streams[k % 2]
            self.d_in[y0:y1].set(self.h_in[y0:y1], stream=s)
            grid = ((w + BLOCK[0] - 1) // BLOCK[0], (y1 - y0 + BLOCK[1] - 1) // BLOCK[1], 1)
            with s:
                self.kernel(grid, BLOCK, (self.d_in, self.d_out, np.int32(h), np.int32(w), np.int32(y0),
                                          np.int32(y1), dev_lut, np.int32(n), self.d_deg, np.int32(dh),
                                          np.int32(dw), np.float32(strength), np.int32(0)))
            self.d_out[y0:y1].get(stream=s, out=self.h_out[y0:y1])
        for s in self.streams:
            s.synchronize()
        if out is None:
            out = np.empty_like(frame)
        np.copyto(out, self.h_out)
        return out


register("cuda", _probe, CudaBackend)
