"""Install like a user: build the wheel (and the sdist), install the wheel non-editable into a fresh venv and run
the commands from a folder outside the checkout. Proves the models, the kernel source and the samples ship."""

from __future__ import annotations

import os
import shlex
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
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, dst / name)
    (dst / "tests").mkdir()  # a test file, as the checkout has: setuptools took tests/test_*.py into the sdist
    shutil.copy2(ROOT / "tests" / "test_wheel.py", dst / "tests" / "test_wheel.py")
    return dst


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LIVEFILTER_MODELS", "DISPLAY")}
    env["PIP_NO_INDEX"] = "1"
    return env


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> tuple[Path, Path]:
    """The sdist, then the wheel built FROM that sdist (as ``python -m build`` does by default), built with build
    isolation: the build backend (pyproject's ``setuptools>=68``) is installed from the package index into a
    throw-away environment, exactly as ``pip install -e .`` just did. Building without isolation would use the
    running environment's setuptools instead, which a fresh venv does not have (Python 3.12) or has too old to
    build this project (Python 3.11's venv gives 65.5). Needs the package index, like README's install command."""
    src = _source_copy(tmp_path_factory.mktemp("src"))
    dist = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in _clean_env().items() if k != "PIP_NO_INDEX"}
    r = subprocess.run([sys.executable, "-m", "build", "-o", str(dist), str(src)], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0, f"python -m build failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    (sdist,) = dist.glob("livefilter-*.tar.gz")
    (whl,) = dist.glob("livefilter-*.whl")
    return sdist, whl


@pytest.fixture(scope="module")
def wheel(dists) -> Path:
    return dists[1]


def test_wheel_carries_models_kernel_and_samples_not_the_checkpoint(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(SHIPPED) <= names, sorted(set(SHIPPED) - names)
    assert not any(n.endswith(".pt") for n in names)
    # the Apache-2.0 text itself (its section 4(a): recipients get a copy; there was none in the wheel or the sdist)
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names), names


def test_sdist_carries_models_kernel_and_samples(dists):
    with tarfile.open(dists[0]) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    for want in ["models/defilter.onnx", "models/scene.onnx", "models/look_prior.npz",
                 "models/face_detection_short_range.tflite",
                 "models/NOTICE", "models/selfie_segmentation.tflite", "shaders/lut_render.cu",
                 "livefilter/data/sample_after.jpg", "setup.py", "LICENSE"]:
        assert want in names, want
    assert not any(n.endswith(".pt") for n in names)
    assert not any(n.startswith("tests/") for n in names)  # 25 of 33 test files, none of their data


def _venv_seeing_this_environment(venv: Path) -> Path:
    """A fresh venv whose own site-packages comes first and which then sees THIS environment's site-packages, so
    numpy, OpenCV, mediapipe... need no download. ``python -m venv --system-site-packages`` is not enough: run from
    inside a venv it exposes the base interpreter's packages, not this venv's. A .pth file in the new venv lists
    this environment's site-packages folders as plain paths: they are appended to sys.path after the venv's own
    site-packages, and, unlike ``import site; site.addsitedir(...)``, the .pth files inside them are NOT run, so an
    editable livefilter installed here (a path or finder set up by a .pth) stays invisible to the new venv and the
    wheel installed into it is the only livefilter."""
    import site
    import sysconfig

    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True,
                             capture_output=True, text=True).stdout.strip()
    ours = set(site.getsitepackages()) | {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    if site.ENABLE_USER_SITE:
        ours.add(site.getusersitepackages())
    seen = [p for p in dict.fromkeys(sys.path) if p in ours and Path(p).is_dir()]
    assert seen, f"no site-packages of this environment found on sys.path: {sys.path}"
    Path(purelib, "_livefilter_test_deps.pth").write_text("".join(p + "\n" for p in seen))
    return py


def test_installed_wheel_runs_fit_live_with_faces_and_demo_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    # the dependencies come from this environment (no download); livefilter itself from the wheel, non-editable
    py, cli = _venv_seeing_this_environment(venv), venv / "bin" / "livefilter"
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
    # the demo's last line is the next command to copy, on the photos installed with the package
    nxt = shlex.split(r.stdout.strip().splitlines()[-1])
    assert nxt[:2] == ["livefilter", "fit"] and Path(nxt[2]).resolve().as_posix().startswith(site)
    run(cli, *nxt[1:])
    assert (work / "look.look.npz").is_file() and (work / "sheet.png").is_file()


def test_no_extra_brings_a_second_onnxruntime_build():
    """onnxruntime and onnxruntime-gpu own the same package folder: an install that lists both ends half-overwritten,
    so no extra may add another onnxruntime build to the base one."""
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def builds(reqs):
        return {r.split(">")[0].split("=")[0].split("[")[0].strip() for r in reqs if r.startswith("onnxruntime")}

    base = builds(project["dependencies"])
    assert base == {"onnxruntime"}
    for extra, reqs in project["optional-dependencies"].items():
        assert builds(reqs) <= base, f"the {extra} extra adds {builds(reqs) - base}"


def test_every_shipped_model_and_sample_is_in_its_notice_with_its_sha256():
    # the rule: models/ with a NOTICE naming licence, origin and sha256 (the samples' NOTICE had no sha256)
    import hashlib

    for folder, pattern in ((ROOT / "models", "*"), (ROOT / "livefilter" / "data", "*.jpg")):
        notice = (folder / "NOTICE").read_text()
        for f in sorted(folder.glob(pattern)):
            if f.name != "NOTICE" and f.is_file():
                assert f.name in notice and hashlib.sha256(f.read_bytes()).hexdigest() in notice, f
