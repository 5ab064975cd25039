"""The CUDA backend: a CuPy kernel (source in shaders/lut_render.cu) compiled with NVRTC.

Per frame: the frame is copied into a pinned host buffer, then uploaded, graded and downloaded in row strips on
two streams (strip k's copies overlap strip k-1's kernel) with asynchronous copies only; the host waits once, at
the end of the frame. The low-resolution degree map goes up on the first stream before the strips, and the
second stream waits for it on the GPU (an event), not on the host. The LUT lives in GPU memory, uploaded on its
own stream before it is swapped in by reference (one tuple, read once per frame). Each LUT goes up as its own 3D
table plus a (3, 256) table of where each input code lands in it (Lut.grid_coords, the CPU renderer's bake uses
the same), so 1D, shaper + 3D and non-[0, 1]-domain LUTs are exact for every input, not only at grid nodes.
Pinned and device buffers are sized once per frame size (and once per degree-map size); the per-frame constants
(degree-map ratios) are computed on the host. A CUDA failure raises :class:`CudaError` (a LiveFilterError); the
live pipeline then moves to the CPU backend.

The kernel is compiled when the backend is probed, so ``auto`` falls back to the CPU with a one-line reason on
a machine whose CUDA install cannot compile it (no NVRTC, for example), instead of failing on the first frame.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from ..errors import BackendError, CudaError, LiveFilterError
from ..luts.lut import Lut
from ..resources import shader_path
from .backend import Backend, NotInstalled, register
from .checks import check_interp, check_render_args, check_segment_mask

SHADER = shader_path()  # inside the package when installed, shaders/ in a checkout
KERNEL = "lf_render"
MULTI_KERNEL = "lf_render_multi"  # several LUTs mixed by a soft label mask (per-segment looks)
# No -std: CuPy picks its own default; the source uses no header and no C++ beyond C++03.
NVRTC_OPTIONS: tuple[str, ...] = ()
BLOCK = (32, 8, 1)
STRIPS = 4
GPU_EXTRA = "pip install 'livefilter[gpu]' (cupy-cuda12x[ctk]: CuPy and the CUDA toolkit pieces it needs)"

_kernel = None
_multi_kernel = None
_kernel_error: str | None = None
_kernel_lock = threading.Lock()


def frame_constants(h: int, w: int, dh: int, dw: int) -> tuple[np.float32, np.float32]:
    """The kernel's per-frame float32 constants for a (dh, dw) map over an h x w frame: the ratios dh / h,
    dw / w (0 without a map). The host harness (tests/cuda) uses this same function."""
    f32 = np.float32
    ky = f32(dh) / f32(h) if dh else f32(0)
    kx = f32(dw) / f32(w) if dw else f32(0)
    return f32(ky), f32(kx)


def device_tables(luts) -> tuple[np.ndarray, np.ndarray]:
    """K LUTs as the kernels read them: tables float32 (K, n, n, n, 3), n the largest size, each LUT's own 3D
    table in the low corner of its block (zeros elsewhere: the kernel reads them only with a weight of 0), and
    coords float32 (K, 3, 256), each LUT's input-code positions in its table (Lut.grid_coords: its shaper and
    domain folded in). The host harness (tests/cuda) uses this same function."""
    luts = list(luts)
    n = max(lut.size for lut in luts)
    tables = np.zeros((len(luts), n, n, n, 3), np.float32)
    for k, lut in enumerate(luts):
        m = lut.size
        tables[k, :m, :m, :m] = lut.table
    coords = np.ascontiguousarray(np.stack([lut.grid_coords() for lut in luts]), dtype=np.float32)
    return tables, coords


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = next((line.strip() for line in text if line.strip()), "")
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


def compiled_kernel():
    """The compiled kernel (NVRTC through CuPy), compiled once per process; raises on failure."""
    global _kernel, _multi_kernel, _kernel_error
    with _kernel_lock:
        if _kernel_error is not None:
            raise RuntimeError(_kernel_error)  # failed before in this process: do not compile again
        if _kernel is None:
            import cupy as cp

            try:
                module = cp.RawModule(code=SHADER.read_text(), options=NVRTC_OPTIONS)
                kernel = module.get_function(KERNEL)  # compiles (NVRTC) and loads the module
                _ = kernel.max_threads_per_block  # a function attribute: fails here if it did not load
                multi = module.get_function(MULTI_KERNEL)
            except Exception as exc:  # noqa: BLE001 - remembered and re-raised as one line
                _kernel_error = _one_line(exc)
                raise
            _kernel, _multi_kernel = kernel, multi
        return _kernel


def compiled_multi_kernel():
    """The multi-LUT kernel of the same module (compiled with the single-LUT one)."""
    compiled_kernel()
    return _multi_kernel


def _probe() -> str | None:
    try:
        import cupy
    except ImportError:
        return NotInstalled(f"CuPy is not installed; {GPU_EXTRA}")
    except Exception as exc:  # noqa: BLE001 - a broken CuPy install means "cannot run"
        return f"CuPy cannot be imported ({_one_line(exc)})"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device"
    except Exception as exc:  # noqa: BLE001 - any driver/runtime failure means "cannot run"
        return f"no usable CUDA device ({_one_line(exc)})"
    if not SHADER.is_file():
        return f"kernel source {SHADER} is missing"
    try:
        compiled_kernel()
    except Exception as exc:  # noqa: BLE001 - NVRTC missing, headers, driver too old...: fall back, say why
        return f"the render kernel does not compile here ({_one_line(exc)}); {GPU_EXTRA}"
    return None


class CudaBackend(Backend):
    name = "cuda"

    def __init__(self, interp: str = "trilinear"):
        import cupy as cp
        import cupyx

        check_interp(interp)
        self.cp, self.cupyx = cp, cupyx
        self.interp = interp
        self.kernel = compiled_kernel()
        self.multi_kernel = compiled_multi_kernel()
        self.streams = [cp.cuda.Stream(non_blocking=True) for _ in range(2)]
        self._upload_stream = cp.cuda.Stream(non_blocking=True)
        self._deg_ready = cp.cuda.Event(disable_timing=True)
        self._done = cp.cuda.Event(disable_timing=True)
        # the live LUT(s), swapped as one tuple and read once per frame: (first table, its coords, all tables
        # (K, n, n, n, 3), all coords (K, 3, 256), n, K); None before the first set_lut and after close()
        self._state = None
        self._closed = False
        self._frame_shape = None
        self._deg_shape = None
        self._mask_shape = None
        self.name = f"cuda ({cp.cuda.runtime.getDeviceProperties(0)['name'].decode()})"

    def set_lut(self, lut: Lut) -> None:
        self.set_luts([lut])

    def set_luts(self, luts) -> None:
        """K LUTs in one device array (K, n, n, n, 3) with their coords (K, 3, 256) (see device_tables)."""
        luts = list(luts)
        tables, coords = device_tables(luts)
        with _cuda_errors("uploading a LUT"):
            with self._upload_stream:
                first, first_coords = self.cp.asarray(tables[0]), self.cp.asarray(coords[0])
                dev, dev_coords = ((first, first_coords) if len(luts) == 1
                                   else (self.cp.asarray(tables), self.cp.asarray(coords)))
            self._upload_stream.synchronize()  # uploaded before the swap: the render loop never waits for it
        self._state = (first, first_coords, dev, dev_coords, tables.shape[1], len(luts))  # one atomic swap

    def close(self) -> None:
        """Drop the LUTs and the frame buffers (device and pinned memory go back to CuPy's pools). Safe twice."""
        self._closed = True
        self._state = None
        self._frame_shape = self._deg_shape = self._mask_shape = None
        for name in ("h_in", "h_out", "d_in", "d_out", "h_deg", "d_deg", "h_mask", "d_mask"):
            self.__dict__.pop(name, None)
    def _frame_buffers(self, shape) -> None:
        if self._frame_shape != shape:
            cp, cupyx = self.cp, self.cupyx
            self.h_in = cupyx.empty_pinned(shape, np.uint8)
            self.h_out = cupyx.empty_pinned(shape, np.uint8)
            self.d_in = cp.empty(shape, np.uint8)
            self.d_out = cp.empty(shape, np.uint8)
            self._frame_shape = shape

    def _degree_buffers(self, shape) -> None:
        if self._deg_shape != shape:
            self.h_deg = self.cupyx.empty_pinned(shape, np.float32)
            self.d_deg = self.cp.empty(shape, np.float32)
            self._deg_shape = shape

    def _mask_buffers(self, shape) -> None:
        if self._mask_shape != shape:
            self.h_mask = self.cupyx.empty_pinned(shape, np.float32)
            self.d_mask = self.cp.empty(shape, np.float32)
            self._mask_shape = shape

    def kernel_args(self, state, h: int, w: int, d_deg, dh: int, dw: int, strength: float) -> tuple:
        """The kernel arguments that hold for a whole frame (computed on the host, once per frame)."""
        first, coords, _, _, n, _ = state
        ky, kx = frame_constants(h, w, dh, dw)
        return (first, np.int32(n), coords, d_deg, np.int32(dh), np.int32(dw), ky, kx, np.float32(strength),
                np.int32(0), np.int32(self.interp == "tetrahedral"))

    def multi_kernel_args(self, state, h: int, w: int, mh: int, mw: int, d_deg, dh: int, dw: int,
                          strength: float) -> tuple:
        """The multi-LUT kernel's per-frame arguments: the LUT stack and its coords, the mask and the degree map
        with their ratios (frame_constants for both maps)."""
        _, _, dev, coords, n, k = state
        my, mx = frame_constants(h, w, mh, mw)
        ky, kx = frame_constants(h, w, dh, dw)
        return (dev, np.int32(k), np.int32(n), coords, self.d_mask, np.int32(mh), np.int32(mw), my, mx, d_deg,
                np.int32(dh), np.int32(dw), ky, kx, np.float32(strength), np.int32(0),
                np.int32(self.interp == "tetrahedral"))

    def launch(self, stream, y0: int, y1: int, w: int, args: tuple, kernel=None) -> None:
        """Queue the kernel on rows [y0, y1) of the device frame (d_in -> d_out) on ``stream``."""
        grid = ((w + BLOCK[0] - 1) // BLOCK[0], (y1 - y0 + BLOCK[1] - 1) // BLOCK[1], 1)
        with stream:  # a RawKernel launches on the current stream
            (kernel or self.kernel)(grid, BLOCK, (self.d_in, self.d_out, np.int32(w), np.int32(y0), np.int32(y1),
                                                  *args))

    def render(self, frame, degree, strength, out=None, mask=None):
        degree = check_render_args(frame, degree=degree, strength=strength, out=out, interp=self.interp)
        state = self._state  # read once: a swap in between cannot mix two looks
        if state is None:
            raise BackendError("the cuda backend is closed" if self._closed else "no LUT set")
        if mask is not None and state[5] > 1:
            mask = check_segment_mask(mask, state[5], frame.shape)
        else:
            mask = None
        with _cuda_errors("rendering a frame"):
            return self._render(frame, degree, strength, out, mask, state)

    def _render(self, frame, degree, strength, out, mask, state):
        dev_lut = state[0]
        if out is None:
            out = np.empty(frame.shape, np.uint8)  # C order whatever the frame's strides
        h, w = frame.shape[:2]
        if h == 0 or w == 0:
            return out
        self._frame_buffers(frame.shape)
        np.copyto(self.h_in, frame)  # any strides in; the pinned buffer is what makes the copies asynchronous
        s0, s1 = self.streams
        if degree is None:
            dh = dw = 0
            d_deg = dev_lut  # never read when dh == 0
        else:
            dh, dw = degree.shape
            self._degree_buffers(degree.shape)
            if degree.dtype == np.uint8:
                np.multiply(degree, np.float32(1 / 255), out=self.h_deg, casting="unsafe")
            else:
                np.copyto(self.h_deg, degree, casting="same_kind")
            self.d_deg.data.copy_from_host_async(self.h_deg.ctypes.data, self.h_deg.nbytes, s0)
            self._deg_ready.record(s0)
            s1.wait_event(self._deg_ready)  # GPU-side ordering: no host wait
            d_deg = self.d_deg
        if mask is None:
            args, kernel = self.kernel_args(state, h, w, d_deg, dh, dw, strength), self.kernel
        else:
            self._mask_buffers(mask.shape)
            np.copyto(self.h_mask, mask)
            self.d_mask.data.copy_from_host_async(self.h_mask.ctypes.data, self.h_mask.nbytes, s0)
            self._deg_ready.record(s0)  # recorded after the mask (and the degree map): s1 waits for both
            s1.wait_event(self._deg_ready)
            args = self.multi_kernel_args(state, h, w, mask.shape[1], mask.shape[2], d_deg, dh, dw, strength)
            kernel = self.multi_kernel
        row = w * 3
        step = -(-h // STRIPS)
        for k, y0 in enumerate(range(0, h, step)):
            y1 = min(h, y0 + step)
            s = self.streams[k % 2]
            off, nbytes = y0 * row, (y1 - y0) * row
            (self.d_in.data + off).copy_from_host_async(self.h_in.ctypes.data + off, nbytes, s)
            self.launch(s, y0, y1, w, args, kernel)
            (self.d_out.data + off).copy_to_host_async(self.h_out.ctypes.data + off, nbytes, s)
        self._done.record(s1)
        s0.wait_event(self._done)  # s0 now also waits for s1's strips (on the GPU)...
        s0.synchronize()  # ...so this is the frame's one host wait
        np.copyto(out, self.h_out)
        return out


@contextlib.contextmanager
def _cuda_errors(what: str):
    """CuPy / driver exceptions as one-line :class:`CudaError`; livefilter's own errors pass through."""
    try:
        yield
    except LiveFilterError:
        raise
    except Exception as exc:  # noqa: BLE001 - CuPy's CUDARuntimeError, OutOfMemoryError, driver errors...
        raise CudaError(f"CUDA failed {what}: {_one_line(exc)}") from exc


register("cuda", _probe, CudaBackend)
