import shutil
import subprocess

import numpy as np
import pytest

from livefilter.backends import BackendError, available, create_backend
from livefilter.backends.cuda import SHADER
from livefilter.lut import Lut, identity_table
from livefilter.render import render_float

from .conftest import ROOT, warm_look


@pytest.fixture(scope="module")
def lut():
    return Lut(warm_look(identity_table(33)))


def frame_and_degree(h=72, w=128):
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:h, 0:w]
    frame = np.clip(np.stack([x * 2, y * 3, 255 - x], -1) + rng.normal(0, 25, (h, w, 3)), 0, 255).astype(np.uint8)
    deg = (0.5 + 0.5 * np.sin(np.mgrid[0:9, 0:16][1] / 3.0)).astype(np.float32)
    return frame, deg


def test_registry_and_auto_fallback(caplog):
    reasons = available()
    assert reasons["cpu"] is None and "cuda" in reasons
    with caplog.at_level("INFO"):
        b = create_backend("auto")
    expected = "cuda" if reasons["cuda"] is None else "cpu"
    assert b.name.startswith(expected)
    assert any("render backend" in r.message for r in caplog.records)
    with pytest.raises(BackendError, match="unknown backend"):
        create_backend("metal")


def test_explicit_cuda_without_gpu_says_why():
    if available()["cuda"] is None:
        pytest.skip("a CUDA device is present")
    with pytest.raises(BackendError, match="cuda"):
        create_backend("cuda")


def test_cpu_backend_matches_reference(lut):
    b = create_backend("cpu")
    b.set_lut(lut)
    frame, deg = frame_and_degree()
    out = b.render(frame, deg, 0.9)
    assert np.abs(out.astype(int) - render_float(frame, lut, degree=deg, strength=0.9)).max() <= 1


@pytest.fixture
def cuda_backend():
    reason = available()["cuda"]
    if reason:
        pytest.skip(f"no GPU: {reason}")
    return create_backend("cuda")


@pytest.mark.parametrize("with_degree", [False, True])
def test_cuda_equals_cpu_within_one(cuda_backend, lut, with_degree):
    cpu = create_backend("cpu")
    cpu.set_lut(lut)
    cuda_backend.set_lut(lut)
    frame, deg = frame_and_degree(1080, 1920)
    deg = deg if with_degree else None
    a, b = cpu.render(frame, deg, 0.8), cuda_backend.render(frame, deg, 0.8)
    assert np.abs(a.astype(int) - b).max() <= 1


def _nvcc():
    exe = shutil.which("nvcc")
    if exe is None:
        pytest.skip("nvcc is not installed")
    return exe


def test_kernel_source_compiles_to_ptx(tmp_path):
    nvcc = _nvcc()
    subprocess.run([nvcc, "--ptx", "-x", "cu", str(SHADER), "-o", str(tmp_path / "k.ptx")], check=True,
                   capture_output=True)
    assert "lf_render" in (tmp_path / "k.ptx").read_text()


@pytest.mark.parametrize("c0", [0, 2])
def test_kernel_arithmetic_on_the_host_matches_cpu(tmp_path, lut, c0):
    """The kernel's per-pixel functions, compiled for the CPU by nvcc, agree with the CPU renderer."""
    nvcc = _nvcc()
    exe = tmp_path / "harness"
    subprocess.run([nvcc, "-o", str(exe), str(ROOT / "tests" / "cuda" / "harness.cu")], check=True,
                   capture_output=True)
    frame, deg = frame_and_degree()
    strength = 0.85
    h, w = frame.shape[:2]
    table = np.ascontiguousarray(lut.table, dtype=np.float32)
    header = np.array([h, w, table.shape[0], deg.shape[0], deg.shape[1], c0], np.int32).tobytes()
    (tmp_path / "in.bin").write_bytes(header + np.float32(strength).tobytes() + frame.tobytes() + table.tobytes()
                                      + deg.tobytes())
    subprocess.run([str(exe), str(tmp_path / "in.bin"), str(tmp_path / "out.bin")], check=True)
    out = np.frombuffer((tmp_path / "out.bin").read_bytes(), np.uint8).reshape(h, w, 3)
    ref = render_float(frame, lut, degree=deg, strength=strength, channels="bgr" if c0 == 2 else "rgb")
    assert np.abs(out.astype(int) - ref).max() <= 1
