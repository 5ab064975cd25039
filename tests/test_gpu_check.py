"""tools/gpu_check.py: without a GPU it says why in one line and exits 3; its benchmark steps run against the
backend's API (through the numpy stand-in for CuPy), so a GPU session does not find them broken."""

import importlib.util
import subprocess
import sys

import pytest

from livefilter.render import available, create_backend

from .conftest import ROOT
from .render.test_backends import lut  # noqa: F401  (a fixture)


def _gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "tools" / "gpu_check.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_gpu_check_without_a_gpu_says_why_in_one_line_and_exits_3(tmp_path):
    reason = available()["cuda"]
    if reason is None:
        pytest.skip("a usable CUDA GPU is present: run python tools/gpu_check.py itself")
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_check.py"), "--json", str(tmp_path / "g.json")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 3
    lines = res.stderr.strip().splitlines()
    assert lines == [f"gpu_check: no usable CUDA GPU here: {reason}"]
    assert not (tmp_path / "g.json").exists()


def test_gpu_check_benchmark_steps_run_against_the_backend_api(fake_cupy, lut, monkeypatch):  # noqa: F811
    gc = _gpu_check()
    monkeypatch.setattr(gc, "SIZES", {"tiny": (64, 40)})
    backend, cpu = create_backend("cuda"), create_backend("cpu")
    backend.set_lut(lut)
    cpu.set_lut(lut)
    kernel = gc.bench_kernel(backend, repeats=3)
    assert set(kernel) == {"tiny trilinear", "tiny tetrahedral"} and kernel["tiny trilinear"]["n"] == 3
    rt = gc.bench_roundtrip(backend, cpu, repeats=3)
    assert set(rt["tiny tetrahedral"]["max_diff_vs_cpu"]) == {"no map", "1/8 map"}
    assert max(rt["tiny tetrahedral"]["max_diff_vs_cpu"].values()) <= 1
    v = gc.verdicts({"roundtrip": rt})
    assert v == {"equal to CPU within 1": True}
