import shutil
import subprocess

import numpy as np
import pytest

import livefilter as lf
from livefilter.luts.lut import Lut, identity_table
from livefilter.render import BackendError, available, create_backend, render_float
from livefilter.render.cuda import SHADER

from ..conftest import ROOT, warm_look


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


def test_kernel_source_compiles_to_ptx_with_nvcc(tmp_path):
    nvcc = _nvcc()
    subprocess.run([nvcc, "--ptx", "-x", "cu", str(SHADER), "-o", str(tmp_path / "k.ptx")], check=True,
                   capture_output=True)
    ptx = (tmp_path / "k.ptx").read_text()
    assert ".entry lf_render(" in ptx and ".entry lf_render_multi(" in ptx


# The architectures the README claims (Turing to Hopper), plus any newer one the loaded NVRTC supports.
CLAIMED_ARCHS = (75, 80, 86, 89, 90)


@pytest.fixture(scope="module")
def nvrtc():
    from ..cuda.nvrtc import load

    lib = load()
    if lib is None:
        pytest.skip("NVRTC cannot be loaded (pip install nvidia-cuda-nvrtc-cu12, in the dev extra)")
    return lib


def test_kernel_compiles_with_nvrtc_like_cupy_for_every_claimed_arch(nvrtc):
    """CuPy compiles RawModule source with NVRTC, adding -ftz=true and the device's architecture to our options;
    compile the shader the same way, to a cubin for each claimed sm_XX and to PTX for compute_XX."""
    from livefilter.render.cuda import KERNEL, MULTI_KERNEL, NVRTC_OPTIONS

    source = SHADER.read_text()
    supported = set(nvrtc.supported_archs())
    archs = [a for a in CLAIMED_ARCHS if a in supported] + sorted(a for a in supported if a > max(CLAIMED_ARCHS))
    assert set(CLAIMED_ARCHS) <= supported, f"NVRTC {nvrtc.version()} lacks some claimed archs: {supported}"
    for arch in archs:
        res = nvrtc.compile(source, NVRTC_OPTIONS + ("-ftz=true", f"--gpu-architecture=sm_{arch}"))
        assert res["cubin"][:4] == b"\x7fELF" and KERNEL.encode() in res["cubin"], arch
        assert MULTI_KERNEL.encode() in res["cubin"], arch
        assert res["log"].strip() == "", res["log"]  # no warnings either
        ptx = nvrtc.compile(source, NVRTC_OPTIONS + ("-ftz=true", f"--gpu-architecture=compute_{arch}"))["ptx"]
        assert f".entry {KERNEL}(" in ptx and f".target sm_{arch}" in ptx


def test_nvrtc_reports_a_broken_kernel(nvrtc):
    """The compile test can fail: a source error comes back as an error with NVRTC's log."""
    from ..cuda.nvrtc import NvrtcError

    with pytest.raises(NvrtcError, match="undefined"):
        nvrtc.compile(SHADER.read_text().replace("lf_clampf(v * 255.0f", "lf_clamp_missing(v * 255.0f"),
                      ("--gpu-architecture=sm_90",))


def build_harness(tmp_path_factory, name: str, compiler: str):
    """A host harness built with nvcc, or with g++ (the kernel's per-pixel functions are plain C++ too, so the
    harness runs on a machine without the CUDA toolkit)."""
    exe = shutil.which(compiler)
    if exe is None:
        pytest.skip(f"{compiler} is not installed")
    out = tmp_path_factory.mktemp("harness") / name
    src = str(ROOT / "tests" / "cuda" / f"{name}.cu")
    cmd = [exe, "-o", str(out), src] if compiler == "nvcc" else [exe, "-O2", "-x", "c++", "-DLF_HD=", "-o", str(out),
                                                                  src]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


@pytest.fixture(scope="module", params=["nvcc", "g++"])
def harness(tmp_path_factory, request):
    return build_harness(tmp_path_factory, "harness", request.param)


def exchange(exe, tmp_path, payload: bytes, shape) -> np.ndarray:
    """Run a host harness on its binary input and read back the graded uint8 frame of ``shape``."""
    (tmp_path / "in.bin").write_bytes(payload)
    subprocess.run([str(exe), str(tmp_path / "in.bin"), str(tmp_path / "out.bin")], check=True)
    return np.frombuffer((tmp_path / "out.bin").read_bytes(), np.uint8).reshape(shape)


def run_harness(exe, tmp_path, frame, lut, deg, strength, c0, interp):
    """Grade ``frame`` with the kernel's per-pixel functions compiled for the host, with the constants the
    backend computes (livefilter.render.cuda.frame_constants)."""
    from livefilter.render.cuda import device_tables, frame_constants

    h, w = frame.shape[:2]
    tables, coords = device_tables([lut])
    n = tables.shape[1]
    dh, dw = (0, 0) if deg is None else deg.shape
    ky, kx = frame_constants(h, w, dh, dw)
    header = np.array([h, w, n, dh, dw, c0, int(interp == "tetrahedral")], np.int32).tobytes()
    consts = np.array([strength, ky, kx], np.float32).tobytes()
    body = (np.ascontiguousarray(frame).tobytes() + tables.tobytes() + coords.tobytes()
            + (b"" if deg is None else np.ascontiguousarray(deg, np.float32).tobytes()))
    return exchange(exe, tmp_path, header + consts + body, (h, w, 3))


@pytest.mark.parametrize("interp", ["trilinear", "tetrahedral"])
@pytest.mark.parametrize("c0", [0, 2])
@pytest.mark.parametrize("with_degree", [False, True])
def test_kernel_arithmetic_on_the_host_matches_cpu(tmp_path, harness, lut, interp, c0, with_degree):
    """The kernel's per-pixel functions, compiled for the CPU by nvcc, agree with the CPU renderer and the float
    reference within 1 code value, for both interpolations (CPU and GPU give the same picture)."""
    frame, deg = frame_and_degree()
    deg = deg if with_degree else None
    channels = "bgr" if c0 == 2 else "rgb"
    out = run_harness(harness, tmp_path, frame, lut, deg, 0.85, c0, interp)
    ref = render_float(frame, lut, degree=deg, strength=0.85, interp=interp, channels=channels)
    cpu = lf.render(frame, lut, degree=deg, strength=0.85, interp=interp, channels=channels)
    assert np.abs(out.astype(int) - ref).max() <= 1
    assert np.abs(out.astype(int) - cpu).max() <= 1


def test_kernel_tetrahedral_is_not_trilinear(tmp_path, harness):
    """On a LUT where the two interpolations differ, the kernel's tetrahedral output follows the CPU's
    tetrahedral render, not its trilinear one."""
    rng = np.random.default_rng(5)
    rough = Lut(np.clip(identity_table(5) + rng.normal(0, 0.15, (5, 5, 5, 3)), 0, 1).astype(np.float32))
    frame, _ = frame_and_degree()
    out = run_harness(harness, tmp_path, frame, rough, None, 1.0, 0, "tetrahedral")
    tetra = lf.render(frame, rough, interp="tetrahedral")
    tri = lf.render(frame, rough, interp="trilinear")
    assert np.abs(tetra.astype(int) - tri).max() > 10  # the two interpolations really differ here
    assert np.abs(out.astype(int) - tetra).max() <= 1


@pytest.mark.parametrize("run", [1, 2])
def test_the_cupy_stand_in_starts_with_no_compiled_kernel(fake_cupy, lut, run):
    """Both compiled kernels are the stand-in's while it is in place and reset with it: once the multi-LUT kernel
    stayed cached after the stand-in's tests, and the real backend on a GPU rendered segments through the stand-in
    (the second run finds what the first compiled)."""
    from livefilter.render import cuda as cmod

    assert cmod._kernel is None and cmod._multi_kernel is None
    create_backend("cuda").set_lut(lut)
    assert cmod._kernel is not None and cmod._multi_kernel is not None


def test_auto_falls_back_to_cpu_with_one_line_when_the_kernel_cannot_compile(fake_cupy, caplog):
    fake_cupy.compile_error = RuntimeError("CuPy failed to load libnvrtc.so.12: OSError: libnvrtc.so.12: cannot "
                                           "open shared object file: No such file or directory\nmore detail")
    reason = available()["cuda"]
    assert reason.startswith("the render kernel does not compile here (RuntimeError: CuPy failed to load libnvrtc")
    assert "\n" not in reason and "livefilter[gpu]" in reason
    with caplog.at_level("INFO"):
        b = create_backend("auto")
    assert b.name == "cpu"
    lines = [r.message for r in caplog.records if "render backend" in r.message]
    assert len(lines) == 1 and "libnvrtc" in lines[0] and "\n" not in lines[0]
    with pytest.raises(BackendError, match="does not compile"):
        create_backend("cuda")


@pytest.fixture
def fake_cuda(fake_cupy, lut):
    reason = available()["cuda"]
    assert reason is None, reason
    b = create_backend("cuda")
    assert b.name == "cuda (Fake GPU (numpy))"
    b.set_lut(lut)
    return b


@pytest.mark.parametrize("interp", ["trilinear", "tetrahedral"])
@pytest.mark.parametrize("deg_kind", ["none", "small", "small_uint8", "full"])
def test_cuda_backend_host_logic_gives_the_cpu_picture(fake_cuda, fake_cupy, lut, interp, deg_kind):
    """Strips, offsets, asynchronous copies, degree upload and constants (through a numpy stand-in for CuPy):
    the CUDA backend's output equals the CPU backend's within 1, with one host wait per frame."""
    frame, small = frame_and_degree(75, 130)  # 75 rows: strips of 19, 19, 19, 18
    deg = {"none": None, "small": small, "small_uint8": (small * 255).astype(np.uint8),
           "full": np.linspace(0, 1, 75 * 130, dtype=np.float32).reshape(75, 130)}[deg_kind]
    fake_cuda.interp = interp
    cpu = create_backend("cpu")
    cpu.interp = interp
    cpu.set_lut(lut)
    waits = fake_cupy.host_waits
    out = fake_cuda.render(frame, deg, 0.8)
    assert fake_cupy.host_waits - waits == 1
    assert np.abs(out.astype(int) - cpu.render(frame, deg, 0.8)).max() <= 1
    rows = sorted((y0, y1) for y0, y1, _ in fake_cupy.launches)
    assert rows[0][0] == 0 and rows[-1][1] == 75 and all(a[1] == b[0] for a, b in zip(rows, rows[1:]))
    assert len({s for _, _, s in fake_cupy.launches}) == 2  # strips alternate between two streams


def test_cuda_backend_sizes_buffers_once_per_frame_size(fake_cuda, fake_cupy):
    frame, deg = frame_and_degree()
    fake_cuda.render(frame, deg, 1.0)
    allocs = fake_cupy.allocs
    for d in (None, deg, None, deg):  # the degree map vanishing and coming back reallocates nothing
        fake_cuda.render(frame, d, 1.0)
    fake_cuda.render(np.ascontiguousarray(frame[:, ::-1]), deg, 0.5)  # other strides, same size
    assert fake_cupy.allocs == allocs
    fake_cuda.render(frame[:40], deg[:5], 1.0)  # a new frame size (and map size): new buffers, once
    allocs = fake_cupy.allocs
    fake_cuda.render(frame[:40], deg[:5], 1.0)
    assert fake_cupy.allocs == allocs


def test_cuda_backend_makes_the_same_input_checks_as_render(fake_cuda, lut):
    frame, deg = frame_and_degree()
    bad_calls = [
        dict(frame=frame.astype(np.float32), degree=None, strength=1.0),
        dict(frame=frame[:, :, :2], degree=None, strength=1.0),
        dict(frame=frame, degree=None, strength=1.5),
        dict(frame=frame, degree=np.ones((9, 16), np.int32), strength=1.0),
        dict(frame=frame, degree=np.ones((200, 10), np.float32), strength=1.0),
        dict(frame=frame, degree=np.ones((3, 4, 1), np.float32), strength=1.0),
        dict(frame=frame, degree=None, strength=1.0, out=np.empty((2, 2, 3), np.uint8)),
    ]
    for call in bad_calls:
        with pytest.raises(lf.InputError) as gpu_err:
            fake_cuda.render(call["frame"], call["degree"], call["strength"], out=call.get("out"))
        with pytest.raises(lf.InputError) as cpu_err:
            lf.render(call["frame"], lut, degree=call["degree"], strength=call["strength"], out=call.get("out"))
        assert str(gpu_err.value) == str(cpu_err.value)
    empty = np.zeros((0, 128, 3), np.uint8)  # a 0-row frame: an empty result, as on the CPU
    assert fake_cuda.render(empty, None, 1.0).shape == (0, 128, 3)
    assert lf.render(empty, lut).shape == (0, 128, 3)


# --- several LUTs and a soft label mask (per-segment looks) ------------------------------------------------------

@pytest.fixture(scope="module")
def two_luts(lut):
    return [lut, Lut(np.clip(identity_table(17)[..., ::-1] * 0.9 + 0.05, 0, 1).astype(np.float32))]


def soft_mask(h=18, w=32, k=1):
    y, x = np.mgrid[0:h, 0:w]
    m = np.clip((x - w / 3) / (w / 3), 0, 1) * (0.5 + 0.5 * np.cos(y / 4.0))
    return np.stack([m / k] * k).astype(np.float32)


@pytest.fixture(scope="module", params=["nvcc", "g++"])
def harness_multi(tmp_path_factory, request):
    return build_harness(tmp_path_factory, "harness_multi", request.param)


def run_harness_multi(exe, tmp_path, frame, luts, mask, deg, strength, c0, interp):
    """lf_shade_multi compiled for the host, with the constants the backend computes (frame_constants)."""
    from livefilter.render.cuda import device_tables, frame_constants

    h, w = frame.shape[:2]
    tables, coords = device_tables(luts)
    k, n = tables.shape[:2]
    mh, mw = mask.shape[1:]
    dh, dw = (0, 0) if deg is None else deg.shape
    my, mx = frame_constants(h, w, mh, mw)
    ky, kx = frame_constants(h, w, dh, dw)
    header = np.array([h, w, n, k, mh, mw, dh, dw, c0, int(interp == "tetrahedral")], np.int32).tobytes()
    consts = np.array([strength, my, mx, ky, kx], np.float32).tobytes()
    body = (np.ascontiguousarray(frame).tobytes() + tables.tobytes() + coords.tobytes()
            + np.ascontiguousarray(mask, np.float32).tobytes()
            + (b"" if deg is None else np.ascontiguousarray(deg, np.float32).tobytes()))
    return exchange(exe, tmp_path, header + consts + body, (h, w, 3))


@pytest.mark.parametrize("interp", ["trilinear", "tetrahedral"])
@pytest.mark.parametrize("c0", [0, 2])
@pytest.mark.parametrize("with_degree", [False, True])
@pytest.mark.parametrize("k", [2, 3])
def test_multi_lut_kernel_on_the_host_matches_cpu(tmp_path, harness_multi, two_luts, interp, c0, with_degree, k):
    """The multi-LUT kernel's per-pixel function, compiled for the CPU by nvcc, agrees with the CPU renderer
    (render_segments) and its float reference within 1 code value."""
    from livefilter.render import render_segments, render_segments_float

    luts = (two_luts + [Lut(identity_table(9))])[:k]
    frame, deg = frame_and_degree()
    deg = deg if with_degree else None
    mask = soft_mask(k=k - 1)
    channels = "bgr" if c0 == 2 else "rgb"
    out = run_harness_multi(harness_multi, tmp_path, frame, luts, mask, deg, 0.85, c0, interp)
    kw = dict(degree=deg, strength=0.85, interp=interp, channels=channels)
    assert np.abs(out.astype(int) - render_segments_float(frame, luts, mask, **kw)).max() <= 1
    assert np.abs(out.astype(int) - render_segments(frame, luts, mask, **kw)).max() <= 1


def test_multi_lut_kernel_with_an_empty_mask_is_the_first_lut(tmp_path, harness_multi, two_luts):
    frame, _ = frame_and_degree()
    out = run_harness_multi(harness_multi, tmp_path, frame, two_luts, np.zeros((1, 4, 4), np.float32), None, 1.0,
                            0, "trilinear")
    assert np.abs(out.astype(int) - lf.render(frame, two_luts[0])).max() <= 1
    assert np.abs(out.astype(int) - lf.render(frame, two_luts[1])).max() > 20


@pytest.mark.parametrize("deg_kind", ["none", "small"])
def test_cuda_backend_multi_lut_host_logic_gives_the_cpu_picture(fake_cuda, fake_cupy, two_luts, deg_kind):
    """set_luts + render(mask=...) through the numpy stand-in for CuPy: the CPU backend's picture within 1,
    one host wait per frame, strips on two streams; without a mask, the first LUT alone."""
    frame, small = frame_and_degree(75, 130)
    deg = None if deg_kind == "none" else small
    mask = soft_mask(15, 26)
    fake_cuda.set_luts(two_luts)
    cpu = create_backend("cpu")
    cpu.set_luts(two_luts)
    waits = fake_cupy.host_waits
    out = fake_cuda.render(frame, deg, 0.8, mask=mask)
    assert fake_cupy.host_waits - waits == 1
    assert np.abs(out.astype(int) - cpu.render(frame, deg, 0.8, mask=mask)).max() <= 1
    assert len({s for _, _, s in fake_cupy.launches}) == 2
    plain = fake_cuda.render(frame, deg, 0.8)
    assert np.abs(plain.astype(int) - cpu.render(frame, deg, 0.8)).max() <= 1
    assert np.abs(plain.astype(int) - lf.render(frame, two_luts[0], degree=deg, strength=0.8)).max() <= 1
    with pytest.raises(lf.InputError, match="label mask"):
        fake_cuda.render(frame, deg, 0.8, mask=np.zeros((2, 4, 4), np.float32))
    fake_cuda.set_lut(two_luts[1])  # back to one LUT: a mask is ignored
    assert np.abs(fake_cuda.render(frame, None, 1.0, mask=mask).astype(int) - lf.render(frame, two_luts[1])).max() <= 1


@pytest.mark.parametrize("with_degree", [False, True])
def test_cuda_multi_lut_equals_cpu_within_one(cuda_backend, two_luts, with_degree):
    cpu = create_backend("cpu")
    cpu.set_luts(two_luts)
    cuda_backend.set_luts(two_luts)
    frame, deg = frame_and_degree(1080, 1920)
    deg = deg if with_degree else None
    mask = soft_mask(144, 256)
    a, b = cpu.render(frame, deg, 0.8, mask=mask), cuda_backend.render(frame, deg, 0.8, mask=mask)
    assert np.abs(a.astype(int) - b).max() <= 1


def test_cpu_set_luts_compiles_the_several_lut_pass_before_the_swap(two_luts, monkeypatch):
    """The several-LUT kernels run once inside set_luts (the look worker's thread in live), with and without a
    degree map, before the new LUTs are live; one LUT does not."""
    from livefilter.render import cpu as cpu_mod

    cpu = create_backend("cpu")
    seen = []
    real = cpu_mod.render_segments

    def spy(frame, luts, mask, **kw):
        seen.append((len(luts), kw.get("degree") is None, cpu._luts == tuple(luts)))
        return real(frame, luts, mask, **kw)

    monkeypatch.setattr(cpu_mod, "render_segments", spy)
    cpu.set_lut(two_luts[0])
    assert seen == []
    cpu.set_luts(two_luts)
    assert sorted(seen) == [(2, False, False), (2, True, False)]  # both degree variants, before the swap
    assert cpu._luts == tuple(two_luts)


def test_cuda_backend_close_releases_its_memory_and_render_after_it_is_an_error(fake_cuda, lut):
    """Before: no close() (the LUT and the frame buffers stayed in device memory while the object lived)."""
    frame, deg = frame_and_degree()
    fake_cuda.render(frame, deg, 1.0)
    fake_cuda.close()
    assert fake_cuda._state is None and not hasattr(fake_cuda, "d_in") and not hasattr(fake_cuda, "h_deg")
    with pytest.raises(BackendError, match="closed"):
        fake_cuda.render(frame, deg, 1.0)
    fake_cuda.close()  # safe twice


def test_cuda_failures_are_one_line_livefilter_errors(fake_cuda, fake_cupy):
    """Before: a failed launch (out of memory, a driver error) came out as CuPy's own exception."""
    from livefilter.render.cuda import CudaError

    frame, deg = frame_and_degree()
    fake_cupy.launch_error = RuntimeError("cudaErrorMemoryAllocation: out of memory\n(details)")
    with pytest.raises(CudaError) as err:
        fake_cuda.render(frame, deg, 1.0)
    assert isinstance(err.value, lf.LiveFilterError) and "\n" not in str(err.value)
    assert str(err.value) == "CUDA failed rendering a frame: RuntimeError: cudaErrorMemoryAllocation: out of memory"
    with pytest.raises(lf.InputError):  # livefilter's own errors pass through unchanged
        fake_cuda.render(frame.astype(np.float32), None, 1.0)


def ptx_params(ptx: str, entry: str) -> list[str]:
    """The PTX types of a kernel's parameters, in order (.u64 pointers, .u32 ints, .f32 floats)."""
    import re

    head = ptx[ptx.index(f".entry {entry}("):]
    head = head[: head.index(")")]
    return re.findall(r"\.param\s+\.(\w+)\s+\w+", head)


def launch_types(args) -> list[str]:
    from ..cuda.fake_cupy import DeviceArray

    types = {np.int32: "u32", np.float32: "f32"}
    return ["u64" if isinstance(a, DeviceArray) else types.get(type(a), type(a).__name__) for a in args]


def test_the_launch_arguments_match_the_kernels_ptx_parameter_lists(nvrtc, fake_cuda, fake_cupy, two_luts):
    """The argument tuples the backend launches with (through the stand-in) against the parameter lists NVRTC
    compiles from the shader: a parameter added, dropped or retyped on one side only fails here."""
    from livefilter.render.cuda import KERNEL, MULTI_KERNEL, NVRTC_OPTIONS

    ptx = nvrtc.compile(SHADER.read_text(), NVRTC_OPTIONS + ("-ftz=true", "--gpu-architecture=compute_90"))["ptx"]
    frame, deg = frame_and_degree()
    fake_cuda.render(frame, deg, 0.8)
    fake_cuda.set_luts(two_luts)
    fake_cuda.render(frame, deg, 0.8, mask=soft_mask())
    single, multi = fake_cupy.args["Kernel"], fake_cupy.args["MultiKernel"]
    assert launch_types(single) == ptx_params(ptx, KERNEL) and len(single) == 16
    assert launch_types(multi) == ptx_params(ptx, MULTI_KERNEL) and len(multi) == 22


@pytest.mark.parametrize("schedule", ["others first", "lazy"])
@pytest.mark.parametrize("case", ["degree", "mask", "both"])
def test_cuda_stream_ordering_holds_under_any_schedule(fake_cuda, fake_cupy, two_luts, schedule, case):
    """The stand-in runs queued GPU work in orders CUDA allows (see tests/cuda/fake_cupy.py): with its event waits
    the backend gives the CPU picture under each."""
    frame, small = frame_and_degree(75, 130)
    deg = small if case != "mask" else None
    mask = soft_mask(15, 26) if case != "degree" else None
    fake_cupy.schedule = schedule
    fake_cuda.set_luts(two_luts)
    cpu = create_backend("cpu")
    cpu.set_luts(two_luts)
    for strength in (0.8, 0.5):  # a second frame: stale buffers from the first would show too
        out = fake_cuda.render(frame, deg, strength, mask=mask)
        assert np.abs(out.astype(int) - cpu.render(frame, deg, strength, mask=mask)).max() <= 1


@pytest.mark.parametrize(("event", "case", "schedule"), [("_deg_ready", "degree", "others first"),
                                                         ("_deg_ready", "mask", "others first"),
                                                         ("_done", "degree", "lazy")])
def test_each_wait_event_matters(fake_cuda, fake_cupy, two_luts, event, case, schedule):
    """The ordering test can fail: without the second stream's wait for the degree map (or the mask) upload, or
    without the first stream's wait for the second's strips, the picture is wrong under one of the schedules."""
    frame, small = frame_and_degree(75, 130)
    deg = small if case == "degree" else None
    mask = soft_mask(15, 26) if case == "mask" else None
    fake_cupy.schedule = schedule
    fake_cupy.skip_waits.add(id(getattr(fake_cuda, event)))
    fake_cuda.set_luts(two_luts)
    cpu = create_backend("cpu")
    cpu.set_luts(two_luts)
    out = fake_cuda.render(frame, deg, 0.8, mask=mask)
    assert np.abs(out.astype(int) - cpu.render(frame, deg, 0.8, mask=mask)).max() > 10
