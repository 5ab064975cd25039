"""Compile CUDA source with NVRTC (the compiler CuPy uses) through ctypes, with no GPU and no CuPy.

The library comes from the ``nvidia-cuda-nvrtc-cu12`` wheel (in the dev extra) or a CUDA install.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from pathlib import Path


class NvrtcError(RuntimeError):
    pass


def find_library() -> str | None:
    """Path of libnvrtc: the pip wheel first (what CI installs), then the system's."""
    try:
        import nvidia.cuda_nvrtc as pkg  # namespace package of the nvidia-cuda-nvrtc-cu12 wheel

        for base in pkg.__path__:
            hits = sorted(glob.glob(os.path.join(base, "lib", "libnvrtc.so*"))) + sorted(
                glob.glob(os.path.join(base, "bin", "nvrtc64_*.dll")))
            hits = [h for h in hits if "builtins" not in h and ".alt." not in h]
            if hits:
                return hits[0]
    except ImportError:
        pass
    for d in ("/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib"):
        hits = sorted(glob.glob(os.path.join(d, "libnvrtc.so*")))
        hits = [h for h in hits if "builtins" not in h and ".alt." not in h]
        if hits:
            return hits[0]
    return ctypes.util.find_library("nvrtc")


class Nvrtc:
    def __init__(self, path: str):
        self.lib = ctypes.CDLL(path)
        self.path = path

    def version(self) -> tuple[int, int]:
        major, minor = ctypes.c_int(), ctypes.c_int()
        self._check(self.lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor)), "nvrtcVersion")
        return major.value, minor.value

    def supported_archs(self) -> list[int]:
        n = ctypes.c_int()
        self._check(self.lib.nvrtcGetNumSupportedArchs(ctypes.byref(n)), "nvrtcGetNumSupportedArchs")
        arr = (ctypes.c_int * n.value)()
        self._check(self.lib.nvrtcGetSupportedArchs(arr), "nvrtcGetSupportedArchs")
        return list(arr)

    def _check(self, code: int, what: str, log: str = "") -> None:
        if code != 0:
            self.lib.nvrtcGetErrorString.restype = ctypes.c_char_p
            msg = self.lib.nvrtcGetErrorString(code).decode()
            raise NvrtcError(f"{what}: {msg}" + (f"\n{log}" if log else ""))

    def compile(self, source: str, options: tuple[str, ...], name: str = "lut_render.cu") -> dict:
        """Compile; returns {'ptx': str, 'cubin': bytes or None, 'log': str}. Raises NvrtcError with the log."""
        prog = ctypes.c_void_p()
        self._check(self.lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), name.encode(), 0, None, None),
                    "nvrtcCreateProgram")
        try:
            opts = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
            code = self.lib.nvrtcCompileProgram(prog, len(options), opts)
            size = ctypes.c_size_t()
            self.lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
            buf = ctypes.create_string_buffer(size.value)
            self.lib.nvrtcGetProgramLog(prog, buf)
            log = buf.value.decode(errors="replace")
            self._check(code, f"nvrtcCompileProgram {' '.join(options)}", log)
            out = {"log": log, "ptx": None, "cubin": None}
            if any(o.startswith(("--gpu-architecture=sm_", "-arch=sm_")) for o in options):
                self._check(self.lib.nvrtcGetCUBINSize(prog, ctypes.byref(size)), "nvrtcGetCUBINSize")
                cub = ctypes.create_string_buffer(size.value)
                self._check(self.lib.nvrtcGetCUBIN(prog, cub), "nvrtcGetCUBIN")
                out["cubin"] = cub.raw
            else:
                self._check(self.lib.nvrtcGetPTXSize(prog, ctypes.byref(size)), "nvrtcGetPTXSize")
                ptx = ctypes.create_string_buffer(size.value)
                self._check(self.lib.nvrtcGetPTX(prog, ptx), "nvrtcGetPTX")
                out["ptx"] = ptx.value.decode()
            return out
        finally:
            self.lib.nvrtcDestroyProgram(ctypes.byref(prog))


def load() -> Nvrtc | None:
    path = find_library()
    if not path or not Path(path).exists() and os.sep in path:
        return None
    try:
        return Nvrtc(path)
    except OSError:
        return None
