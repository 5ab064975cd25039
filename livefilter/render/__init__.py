"""Frame + LUT(s) + rendering degree -> frame.

cpu.py: the numba renderer (pre-baked 256^3 tables, one fused pass; several LUTs mixed by a soft label mask; its
kernels in cpu_kernels.py) and the CPU backend; cuda.py: the CuPy launch of shaders/lut_render.cu (the CUDA
backend); checks.py: the argument checks both make; backend.py: the Backend interface and the registry
(``create_backend("auto")``: cuda, then cpu).
"""

from . import cuda  # noqa: F401  (registers the CUDA backend; cpu.py registers the CPU one)
from .backend import AUTO_ORDER, Backend, BackendError, available, create_backend, register
from .checks import CHANNELS, INTERPS, check_segment_mask
from .cpu import (
    CpuBackend,
    as_lut,
    baked_table,
    grade_float,
    render,
    render_float,
    render_segments,
    render_segments_float,
)

__all__ = [
    "AUTO_ORDER", "Backend", "BackendError", "CHANNELS", "CpuBackend", "INTERPS", "as_lut", "available",
    "baked_table", "check_segment_mask", "create_backend", "grade_float", "register", "render", "render_float",
    "render_segments", "render_segments_float",
]
