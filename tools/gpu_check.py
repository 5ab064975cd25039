"""One command for a machine with a GPU: prove (or find what breaks in) livefilter's CUDA path (figures: docs/gpu.md).

    python tools/gpu_check.py [--json runs/gpu_check.json] [--quick]

Steps, each recorded in one JSON with machine information (GPU, driver, CUDA runtime, NVRTC, CuPy, CPU):
1. the CUDA tests: tests/render/test_backends.py (CPU-vs-GPU agreement on real hardware, NVRTC compile, host harness,
   the backend's host logic) with pytest; the GPU tests must run, not skip;
2. kernel time (CUDA events, device only) at 1080p and 4K, trilinear and tetrahedral, with a 1/8-resolution
   degree map; target 4K <= 0.2 ms;
3. round trip (pinned upload + render + download, host wall time, CudaBackend.render) at 1080p and 4K, and the
   largest difference from the CPU renderer; targets 1080p <= 2 ms, <= 1 code value;
4. `livefilter bench-live --backend cuda` at 3840x2160 @ 60 fps and 1920x1080 @ 30 fps (face protection on where
   MediaPipe is installed, off and said so in the JSON where not);
   target 4K at 60 fps;
5. the de-filter network on onnxruntime's CUDA provider (onnxruntime-gpu): inference ms and the largest
   difference from the CPU provider (skipped, not failed, where onnxruntime is the CPU build the gpu extra keeps).
Medians and p10/p90 after warm-up. Without a usable GPU it prints one line saying why and exits with status 3.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NO_GPU_EXIT = 3
SIZES = {"1080p": (1920, 1080), "4K": (3840, 2160)}
TARGETS = {"kernel_4k_ms": 0.2, "roundtrip_1080p_ms": 2.0, "bench_live_4k_fps": 60.0, "max_diff_vs_cpu": 1}


def stats(ms: list[float]) -> dict:
    a = np.asarray(ms, dtype=np.float64)
    return {"median_ms": float(np.median(a)), "p10_ms": float(np.percentile(a, 10)),
            "p90_ms": float(np.percentile(a, 90)), "n": int(a.size)}


def machine_info() -> dict:
    import cupy as cp

    import livefilter as lf

    props = cp.cuda.runtime.getDeviceProperties(0)
    cpu = ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    except OSError:
        pass
    info = {
        "gpu": props["name"].decode(), "compute_capability": f"{props['major']}.{props['minor']}",
        "gpu_memory_gib": round(props["totalGlobalMem"] / 2**30, 1),
        "driver_version": cp.cuda.runtime.driverGetVersion(), "runtime_version": cp.cuda.runtime.runtimeGetVersion(),
        "cupy": cp.__version__, "cpu": cpu, "logical_cpus": os.cpu_count(), "python": platform.python_version(),
        "platform": platform.platform(), "numpy": np.__version__, "livefilter": lf.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    try:
        from cupy.cuda import nvrtc

        info["nvrtc_version"] = ".".join(map(str, nvrtc.getVersion()))
    except Exception as exc:  # noqa: BLE001 - informational only
        info["nvrtc_version"] = f"unknown ({type(exc).__name__})"
    return info


def sample_frame(w: int, h: int) -> np.ndarray:
    import cv2

    import livefilter as lf

    img = lf.read_image(ROOT / "livefilter" / "data" / "sample_before.jpg")
    return np.ascontiguousarray(cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC))


def sample_degree(w: int, h: int) -> np.ndarray:
    y, x = np.mgrid[0:h // 8, 0:w // 8]
    return (0.5 + 0.5 * np.sin(x / 9.0) * np.cos(y / 7.0)).astype(np.float32)


def run_tests() -> dict:
    cmd = [sys.executable, "-m", "pytest", "-q", "-rfEs", "--tb=short", "-p", "no:cacheprovider",
           "tests/render/test_backends.py"]
    t = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    tail = res.stdout.strip().splitlines()
    summary = tail[-1] if tail else res.stderr.strip()[-300:]
    skipped = [ln for ln in tail if ln.startswith("SKIPPED")]
    failed = [ln for ln in tail if ln.startswith(("FAILED", "ERROR"))]
    return {"command": " ".join(cmd[2:]), "returncode": res.returncode, "summary": summary,
            "skipped": skipped, "failed": failed, "seconds": round(time.perf_counter() - t, 1),
            "gpu_tests_ran": not any("no GPU" in ln for ln in skipped),
            **({"output_tail": res.stdout[-6000:]} if failed else {})}


def bench_kernel(backend, repeats: int) -> dict:
    """Device time of one full-frame kernel launch (CUDA events), per size and interpolation."""
    import cupy as cp

    out = {}
    stream = backend.streams[0]
    for name, (w, h) in SIZES.items():
        frame, deg = sample_frame(w, h), sample_degree(w, h)
        for interp in ("trilinear", "tetrahedral"):
            backend.interp = interp
            backend.render(frame, deg, 0.8)  # sizes the buffers and leaves the frame and the map on the device
            args = backend.kernel_args(backend._state, h, w, backend.d_deg, deg.shape[0], deg.shape[1], 0.8)
            start, end = cp.cuda.Event(), cp.cuda.Event()
            for _ in range(10):
                backend.launch(stream, 0, h, w, args)
            ms = []
            for _ in range(repeats):
                start.record(stream)
                backend.launch(stream, 0, h, w, args)
                end.record(stream)
                end.synchronize()
                ms.append(cp.cuda.get_elapsed_time(start, end))
            out[f"{name} {interp}"] = stats(ms)
    backend.interp = "trilinear"
    return out


def bench_roundtrip(backend, cpu, repeats: int) -> dict:
    """Host wall time of CudaBackend.render (copy in, upload, kernel, download, copy out) and its largest
    difference from the CPU renderer."""
    out = {}
    for name, (w, h) in SIZES.items():
        frame, deg = sample_frame(w, h), sample_degree(w, h)
        for interp in ("trilinear", "tetrahedral"):
            backend.interp = cpu.interp = interp
            res = np.empty_like(frame)
            for _ in range(10):
                backend.render(frame, deg, 0.8, out=res)
            ms = []
            for _ in range(repeats):
                t = time.perf_counter()
                backend.render(frame, deg, 0.8, out=res)
                ms.append((time.perf_counter() - t) * 1e3)
            diffs = {}
            for label, d in (("no map", None), ("1/8 map", deg)):
                a = backend.render(frame, d, 0.8)
                b = cpu.render(frame, d, 0.8)
                diffs[label] = int(np.abs(a.astype(int) - b).max())
            out[f"{name} {interp}"] = {**stats(ms), "max_diff_vs_cpu": diffs}
    backend.interp = cpu.interp = "trilinear"
    return out


def bench_live(size: str, fps: float, frames: int) -> dict:
    # Face protection needs MediaPipe; where it is missing (a GPU machine whose 64 MiB carry limit takes PyAV but not
    # MediaPipe too) the GPU path is measured without it and the JSON says so.
    faces = importlib.util.find_spec("mediapipe") is not None
    with tempfile.TemporaryDirectory() as tmp:
        js = Path(tmp) / "b.json"
        cmd = [sys.executable, "-m", "livefilter", "bench-live", "--backend", "cuda", "--size", size, "--fps",
               str(fps), "--frames", str(frames), "--json", str(js)] + ([] if faces else ["--no-face-protect"])
        res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if res.returncode != 0 or not js.is_file():
            return {"command": " ".join(cmd[2:]), "returncode": res.returncode, "error": res.stderr.strip()[-500:]}
        data = json.loads(js.read_text())
    data["command"] = " ".join(cmd[2:])
    data["face_protect"] = faces if faces else "off: MediaPipe is not installed here"
    return data


def bench_onnx_cuda(repeats: int) -> dict:
    import onnxruntime as ort

    from livefilter.fileio import MODELS_DIR

    providers = ort.get_available_providers()
    out = {"onnxruntime": ort.__version__, "available_providers": providers}
    if "CUDAExecutionProvider" not in providers:
        # not a failure: the gpu extra keeps onnxruntime's CPU build (docs/decisions.md 'onnxruntime build')
        out["skipped"] = ("CUDAExecutionProvider not available (not in the gpu extra: to measure it, pip uninstall "
                          "onnxruntime && pip install onnxruntime-gpu)")
        return out
    model = str(MODELS_DIR / "defilter.onnx")
    x = (sample_frame(128, 84).astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
    sessions = {p: ort.InferenceSession(model, providers=[p]) for p in ("CUDAExecutionProvider",
                                                                         "CPUExecutionProvider")}
    out["cuda_session_providers"] = sessions["CUDAExecutionProvider"].get_providers()
    ys = {}
    for p, sess in sessions.items():
        name = sess.get_inputs()[0].name
        for _ in range(5):
            sess.run(None, {name: x})
        ms = []
        for _ in range(repeats):
            t = time.perf_counter()
            y = sess.run(None, {name: x})[0]
            ms.append((time.perf_counter() - t) * 1e3)
        ys[p] = y
        out[p] = stats(ms)
    out["max_abs_diff_cuda_vs_cpu"] = float(np.abs(ys["CUDAExecutionProvider"] - ys["CPUExecutionProvider"]).max())
    return out


def verdicts(r: dict) -> dict:
    v = {}
    k = r.get("kernel", {}).get("4K trilinear")
    if k:
        v["kernel 4K <= 0.2 ms"] = k["median_ms"] <= TARGETS["kernel_4k_ms"]
    rt = r.get("roundtrip", {}).get("1080p trilinear")
    if rt:
        v["1080p round trip <= 2 ms"] = rt["median_ms"] <= TARGETS["roundtrip_1080p_ms"]
    diffs = [d for e in r.get("roundtrip", {}).values() for d in e["max_diff_vs_cpu"].values()]
    if diffs:
        v["equal to CPU within 1"] = max(diffs) <= TARGETS["max_diff_vs_cpu"]
    live = r.get("bench_live", {}).get("3840x2160@60", {})
    if "stats" in live:
        v["bench-live 4K at 60 fps"] = live["stats"]["fps"] >= 0.98 * TARGETS["bench_live_4k_fps"]
    return v


def write(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Prove livefilter's CUDA path on this machine's GPU.")
    ap.add_argument("--json", type=Path, default=ROOT / "runs" / "gpu_check.json")
    ap.add_argument("--quick", action="store_true", help="fewer repeats and frames (a smoke run)")
    args = ap.parse_args(argv)

    from livefilter.render import available, create_backend

    reason = available().get("cuda")
    if reason:
        print(f"gpu_check: no usable CUDA GPU here: {reason}", file=sys.stderr)
        return NO_GPU_EXIT
    repeats, frames = (30, 120) if args.quick else (200, 600)
    import livefilter as lf

    look = lf.fit_look(ROOT / "livefilter" / "data" / "sample_after.jpg",
                       ROOT / "livefilter" / "data" / "sample_before.jpg")
    result = {"machine": machine_info(), "targets": TARGETS}
    steps = [("tests", run_tests)]
    backend, cpu = create_backend("cuda"), create_backend("cpu")
    backend.set_lut(look.lut)
    cpu.set_lut(look.lut)
    steps += [("kernel", lambda: bench_kernel(backend, repeats)),
              ("roundtrip", lambda: bench_roundtrip(backend, cpu, repeats)),
              ("bench_live", lambda: {"3840x2160@60": bench_live("3840x2160", 60, frames),
                                      "1920x1080@30": bench_live("1920x1080", 30, frames)}),
              ("onnxruntime_cuda", lambda: bench_onnx_cuda(repeats))]
    for name, fn in steps:
        t = time.perf_counter()
        try:
            result[name] = fn()
        except Exception as exc:  # noqa: BLE001 - record the failure and go on: every step's result counts
            result[name] = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"gpu_check: {name} done in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        write(args.json, result)  # after every step: a run stopped at its time limit keeps what it measured
    backend.close()
    result["verdicts"] = verdicts(result)
    write(args.json, result)
    print(json.dumps({"verdicts": result["verdicts"], "tests": result["tests"].get("summary")}, indent=1))
    print(f"gpu_check: wrote {args.json}")
    failed = result["tests"].get("returncode") != 0 or not all(result["verdicts"].values()) or any(
        isinstance(v, dict) and "error" in v for v in result.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
