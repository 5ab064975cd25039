"""Fixtures shared by the render tests."""

import pytest


@pytest.fixture
def fake_cupy(monkeypatch):
    """CuPy replaced by tests/cuda/fake_cupy.py (numpy underneath) and the compiled-kernel cache reset."""
    import sys

    from livefilter.render import cuda as cmod

    from ..cuda import fake_cupy

    cupy, cupyx = fake_cupy.make()
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    monkeypatch.setattr(cmod, "_kernel", None)
    monkeypatch.setattr(cmod, "_kernel_error", None)
    return cupy.log
