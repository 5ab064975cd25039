from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared" / "data"
SAMPLES = ROOT / "livefilter" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED / "photos").is_dir() or not (SHARED / "looks").is_dir():
        pytest.skip("../shared/data is not present (photos and looks for real-data tests)")
    return SHARED


@pytest.fixture
def sample_before() -> Path:
    return SAMPLES / "sample_before.jpg"


@pytest.fixture
def sample_after() -> Path:
    return SAMPLES / "sample_after.jpg"


@pytest.fixture
def sample_test() -> Path:
    return SAMPLES / "sample_test.jpg"


@pytest.fixture
def photo() -> np.ndarray:
    from livefilter.imageio import read_image

    return read_image(SAMPLES / "sample_before.jpg")


def warm_look(x: np.ndarray) -> np.ndarray:
    """A smooth synthetic look on float RGB in [0, 1]: warm, contrasty, a channel mix."""
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    out = np.stack([0.9 * r**0.8 + 0.1 * g, 0.05 + 0.85 * g**1.1, 0.15 + 0.6 * b + 0.1 * r], axis=-1)
    return np.clip(out, 0, 1)


def apply_float_look(rgb: np.ndarray, fn=warm_look) -> np.ndarray:
    return np.clip(fn(rgb / 255.0) * 255 + 0.5, 0, 255).astype(np.uint8)


@pytest.fixture
def ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        pytest.skip("ffmpeg is not installed (CI installs it)")
    return exe


@pytest.fixture
def no_defilter_model(tmp_path, monkeypatch):
    """Pretend models/defilter.onnx is missing (whether or not this checkout ships it)."""
    import livefilter.look.defilter as dfl

    monkeypatch.setattr(dfl, "MODEL_PATH", tmp_path / "missing" / "defilter.onnx")
    monkeypatch.setattr(dfl, "_sessions", {})
    return dfl.MODEL_PATH


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str):
    """A tmpfs of ``size`` (e.g. "8k") mounted at ``folder``: a real full disk. Skips where mounting needs root."""
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                                           capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield folder
    except BaseException:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        raise
    # "target is busy": a file on it still open (a failed write's handle, its deleted file's space still held)
    done = subprocess.run(["umount", str(folder)], capture_output=True, text=True)
    if done.returncode:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        raise AssertionError(f"the small tmpfs could not be unmounted: {done.stderr.strip()}")


@pytest.fixture
def fake_cupy(monkeypatch):
    """CuPy replaced by tests/cuda/fake_cupy.py (numpy underneath) and the compiled-kernel cache reset."""
    import sys

    from livefilter.render import cuda as cmod

    from .cuda import fake_cupy

    cupy, cupyx = fake_cupy.make()
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    monkeypatch.setattr(cmod, "_kernel", None)
    monkeypatch.setattr(cmod, "_multi_kernel", None)
    monkeypatch.setattr(cmod, "_kernel_error", None)
    return cupy.log
