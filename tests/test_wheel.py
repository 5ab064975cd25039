"""Install like a user: build the wheel (and the sdist), install the wheel non-editable into a fresh venv and run
the commands from a folder outside the checkout. Proves the models, the kernel source and the samples ship."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

SHIPPED = ["livefilter/models/defilter.onnx", "livefilter/models/scene.onnx", "livefilter/models/look_prior.npz",
           "livefilter/models/face_detection_short_range.tflite", "livefilter/models/selfie_segmentation.tflite",
           "livefilter/models/NOTICE", "livefilter/shaders/lut_render.cu", "livefilter/data/sample_after.jpg",
           "livefilter/data/sample_before.jpg", "livefilter/data/sample_test.jpg", "livefilter/data/NOTICE"]


def _source_copy(dst: Path) -> Path:
    """The files a build reads, copied so that building never writes build/ or *.egg-info into the checkout."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pt", "*.egg-info")
    for name in ("livefilter", "models", "shaders"):
        shutil.copytree(ROOT / name, dst / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(ROOT / name, dst / name)
    return dst


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LIVEFILTER_MODELS", "DISPLAY")}
    env["PIP_NO_INDEX"] = "1"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # built without isolation (offline): with this environment's setuptools, which has bdist_wheel since 70.1
    import setuptools

    major, minor = (int(v) for v in setuptools.__version__.split(".")[:2])
    if (major, minor) < (70, 1):
        pytest.skip(f"setuptools {setuptools.__version__} cannot build a wheel by itself (needs 70.1+)")
    src = _source_copy(tmp_path_factory.mktemp("src"))
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(src),
                    "-w", str(dist)], check=True, env=_clean_env(), capture_output=True)
    (whl,) = dist.glob("livefilter-*.whl")
    return whl


def test_wheel_carries_models_kernel_and_samples_not_the_checkpoint(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(SHIPPED) <= names, sorted(set(SHIPPED) - names)
    assert not any(n.endswith(".pt") for n in names)


def test_sdist_carries_models_kernel_and_samples(tmp_path):
    pytest.importorskip("build", reason="the sdist is built with the 'build' package (dev extra)")
    src = _source_copy(tmp_path / "src")
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", str(tmp_path / "dist"),
                    str(src)], check=True, env=_clean_env(), capture_output=True)
    (sdist,) = (tmp_path / "dist").glob("livefilter-*.tar.gz")
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    for want in ["models/defilter.onnx", "models/scene.onnx", "models/look_prior.npz",
                 "models/face_detection_short_range.tflite",
                 "models/NOTICE", "models/selfie_segmentation.tflite", "shaders/lut_render.cu",
                 "livefilter/data/sample_after.jpg", "setup.py"]:
        assert want in names, want
    assert not any(n.endswith(".pt") for n in names)


def test_installed_wheel_runs_fit_live_with_faces_and_demo_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    # --system-site-packages: numpy, OpenCV, mediapipe... come from this environment (no download); livefilter
    # itself comes from the wheel, installed non-editable, and must win over any editable copy there.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py, cli = venv / "bin" / "python", venv / "bin" / "livefilter"
    env = _clean_env()
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True, env=env,
                   capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy2(ROOT / "livefilter" / "data" / "sample_after.jpg", work / "photo.jpg")
    shutil.copy2(ROOT / "livefilter" / "data" / "sample_before.jpg", work / "face.jpg")

    def run(*args):
        r = subprocess.run([str(a) for a in args], cwd=work, env=env, capture_output=True, text=True, timeout=240)
        assert r.returncode == 0, f"{args}: {r.stdout}\n{r.stderr}"
        return r

    where = run(py, "-c", "import livefilter, livefilter.resources as r; print(livefilter.__file__); "
                          "print(r.MODELS_DIR); print(r.shader_path())").stdout.split()
    site = str(venv.resolve())
    assert all(Path(p).resolve().as_posix().startswith(site) for p in where), where
    assert Path(where[2]).is_file()

    r = run(cli, "fit", "photo.jpg", "-o", "look.cube")
    assert "from one photo" in r.stdout and (work / "look.cube").stat().st_size > 0
    r = run(cli, "live", "--template", "look.cube", "--input", "face.jpg", "--record", "live.mp4", "--frames", 5,
            "--backend", "cpu")
    assert "5 frames" in r.stdout and (work / "live.mp4").stat().st_size > 0
    r = run(cli, "demo", "--frames", 6, "--frame-size", "320x180", "--backend", "cpu")
    assert (work / "livefilter-demo.mp4").stat().st_size > 0 and (work / "livefilter-demo.png").is_file()
