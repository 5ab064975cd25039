"""The live pipeline's threads: a worker that fails ends the stream with its error, shared state is safe across
threads, close() waits for the workers before releasing what they use, process-wide settings are left as found."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import livefilter as lf
from livefilter.live.capture import StreamError
from livefilter.live.pipeline import LivePipeline, Stats
from livefilter.live.sinks import NullSink
from livefilter.live.sources import Source, SourceError
from livefilter.luts.lut import Lut, identity_table

from ..conftest import ROOT, warm_look


@pytest.fixture(scope="module")
def look():
    return lf.Look(lut=Lut(warm_look(identity_table(17)), title="warm"))


def pipeline(source, **kw):
    kw.setdefault("face_protect", False)
    kw.setdefault("backend", "cpu")
    kw.setdefault("scene", False)
    return LivePipeline(source, [NullSink()], **kw)


class Raising(Source):
    """Gives ``good`` frames, then raises ``exc`` on every read."""

    paced = False

    def __init__(self, exc, good=3):
        self.exc, self.good, self.i, self.closed = exc, good, 0, 0
        self.name = "raising"

    def read(self):
        self.i += 1
        if self.i > self.good:
            raise self.exc
        return np.full((24, 32, 3), 100, np.uint8)

    def close(self):
        self.closed += 1


@pytest.mark.parametrize("exc", [ValueError("bad size"), KeyError("k"), ZeroDivisionError("zero"),
                                 AssertionError("assert")])
def test_a_source_that_raises_anything_ends_the_run_with_one_line_naming_the_error(look, exc):
    """Before: only SourceError / OSError / RuntimeError were caught; anything else ended the capture thread
    without closing the frame slot, and run() waited forever."""
    src = Raising(exc)
    p = pipeline(src, look=look)
    result = {}

    def go():
        try:
            result["stats"] = p.run(max_frames=1000)
        except BaseException as e:  # noqa: BLE001 - handed to the test's thread
            result["error"] = e

    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(timeout=10)
    assert not t.is_alive(), "run() hung after the source raised"
    err = result.get("error")
    assert isinstance(err, StreamError), result
    assert type(exc).__name__ in str(err) and "raising" in str(err) and "\n" not in str(err)
    assert str(err) in p.errors and p._closed and src.closed == 1


def test_a_camera_error_is_still_retried(look, monkeypatch):
    import livefilter.live.capture as cmod

    monkeypatch.setattr(cmod, "BACKOFF_START", 0.01)

    class Flaky(Raising):
        def read(self):
            self.i += 1
            if 3 <= self.i < 6:
                raise SourceError("the camera returned no frame (unplugged?)", "camera 0")
            return np.full((24, 32, 3), 100, np.uint8)

    with pipeline(Flaky(None), look=look) as p:
        assert p.run(max_frames=10)["frames"] == 10


def test_the_capture_worker_ends_its_slot_whatever_ends_it():
    from livefilter.live.capture import LatestFrame, capture

    slot = LatestFrame()
    with pytest.raises(ValueError):
        capture(Raising(ValueError("x"), good=0), slot, threading.Event())
    with pytest.raises(EOFError):
        slot.get(0, timeout=0.1)


def test_a_file_source_is_paced_by_its_frames_times():
    """A variable-frame-rate file (a phone's, in low light) was played at its average rate: the frames of its fast
    stretch came late and those of its slow stretch early. Each frame now comes at its time in the file."""
    from fractions import Fraction

    from livefilter.live.capture import LatestFrame, capture

    class Clock(Source):
        fps, time_base = 100.0, Fraction(1, 100)  # the rate a probe reports; the frames' own ticks below
        ticks = [0, 1, 2, 30, 31]

        def __init__(self):
            self.i = -1

        def read(self):
            self.i += 1
            return np.zeros((4, 4, 3), np.uint8) if self.i < len(self.ticks) else None

        def position(self):
            return self.ticks[self.i]

    slot, got = LatestFrame(), []
    worker = threading.Thread(target=capture, args=(Clock(), slot, threading.Event()))
    worker.start()
    try:
        while True:
            item = slot.get(got[-1][2] if got else 0, timeout=5)
            assert item is not None
            got.append(item)
    except EOFError:
        pass
    worker.join(5)
    assert [g[3] for g in got] == Clock.ticks  # none dropped: the reader is faster than 100 fps
    t = [g[1] for g in got]
    assert t[3] - t[2] >= 0.27  # 0.28 s apart in the file (at the reported 100 fps: 0.01 s)


def test_stats_summary_while_another_thread_adds_its_first_stage(monkeypatch):
    """Before: summary() iterated the stage dict while the analysis thread added its first key: "dictionary
    changed size during iteration" (the preview window calls it every frame)."""
    stats = Stats()
    stats.add("render", 1.0)
    real = np.percentile
    added = []

    def percentile(*a, **kw):  # the analysis thread adds its first stage in the middle of a summary
        if not added:
            t = threading.Thread(target=lambda: (stats.add("analysis", 2.0), added.append(1)))
            t.start()
            t.join(timeout=0.2)
        return real(*a, **kw)

    monkeypatch.setattr(np, "percentile", percentile)
    out = stats.summary()
    assert "render" in out
    for _ in range(50):
        if added:
            break
        time.sleep(0.01)
    assert added and "analysis" in stats.summary()


class SlowSegmenter:
    def __init__(self):
        self.inside = threading.Event()
        self.release = threading.Event()
        self.closed_while_updating = False
        self.updating = False
        self.closed = False

    def update(self, frame):
        self.updating = True
        self.inside.set()
        self.release.wait(5)
        self.updating = False
        return np.zeros((4, 4), np.float32)

    def close(self):
        self.closed_while_updating |= self.updating
        self.closed = True


def test_segments_off_waits_for_an_update_in_progress():
    """Before: set_segments(False) on the look worker closed the segmenter while the analysis thread was inside
    its update()."""
    from livefilter.analysis import DegreeEstimator

    seg = SlowSegmenter()
    est = DegreeEstimator(face_protect=False, segmenter=seg)
    frame = np.zeros((32, 32, 3), np.uint8)
    a = threading.Thread(target=est.update, args=(frame,))
    a.start()
    assert seg.inside.wait(5)
    b = threading.Thread(target=est.set_segments, args=(False,))
    b.start()
    b.join(timeout=0.3)
    seg.release.set()
    a.join(5)
    b.join(5)
    assert seg.closed and not seg.closed_while_updating
    assert est.segmenter is None and est.mask is None


class Blocking(Source):
    """A camera whose read blocks until released (a driver stuck in a read)."""

    paced = False
    name = "stuck camera"

    def __init__(self):
        self.release = threading.Event()
        self.reading = threading.Event()
        self.in_read = False
        self.closed_during_read = False
        self.closed = 0

    def read(self):
        self.in_read = True
        self.reading.set()
        self.release.wait(10)
        self.in_read = False
        return np.zeros((24, 32, 3), np.uint8)

    def close(self):
        self.closed_during_read |= self.in_read
        self.closed += 1


def test_close_never_releases_the_source_under_a_read(look, monkeypatch):
    """Before: close() released the source after a 5 s join even while the capture thread was still inside its
    read. Now the release waits for the worker; a worker that outlives the join releases it when it ends."""
    import livefilter.live.pipeline as pmod

    monkeypatch.setattr(pmod, "JOIN_TIMEOUT", 0.2)
    src = Blocking()
    p = pipeline(src, look=look)
    p.start()
    p._go.set()
    assert src.reading.wait(5)
    t0 = time.monotonic()
    p.close()
    assert time.monotonic() - t0 < 3
    assert src.closed == 0  # still reading: not released under it
    src.release.set()
    for _ in range(200):
        if src.closed:
            break
        time.sleep(0.01)
    assert src.closed == 1 and not src.closed_during_read
    assert not [t for t in threading.enumerate() if t.name.startswith("lf-capture")]


def test_close_restores_the_switch_interval(look):
    """Before: start() lowered sys.setswitchinterval for the whole process and nothing put it back."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.004)
    try:
        p = pipeline(Raising(ValueError("x"), good=10**9), look=look)
        p.start()
        assert sys.getswitchinterval() <= 0.0005
        p.close()
        assert sys.getswitchinterval() == 0.004
    finally:
        sys.setswitchinterval(before)


def _run_python(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_importing_livefilter_leaves_the_umask_alone():
    """Before: livefilter.fileio set the umask to 0 and back at import (a window in which another thread's files
    were created world-writable)."""
    out = _run_python(
        "import os\n"
        "os.umask(0o027)\n"
        "calls = []\n"
        "real = os.umask\n"
        "os.umask = lambda m: (calls.append(m), real(m))[1]\n"
        "import livefilter, livefilter.fileio, livefilter.live.sinks, livefilter.batch.video\n"
        "from livefilter.fileio import current_umask\n"
        "print(calls, oct(current_umask()))\n")
    assert out == "[] 0o27"


def test_face_detector_and_segmenter_leave_the_environment_alone():
    """Before: both set GLOG_minloglevel for the whole process (and it did not quiet MediaPipe: cli.py)."""
    out = _run_python(
        "import os\n"
        "from livefilter.analysis.faces import FaceDetector\n"
        "from livefilter.analysis.segments import Segmenter\n"
        "before = dict(os.environ)\n"
        "FaceDetector().close()\n"
        "Segmenter().close()\n"
        "print(sorted(set(os.environ.items()) ^ set(before.items())))\n")
    assert out.splitlines()[-1] == "[]"


def test_applying_a_look_to_a_video_leaves_malloc_alone(monkeypatch, tmp_path):
    """Before: apply_video (a library function) fixed glibc's mmap threshold for the whole process; that choice
    is the program's (the CLI's), not the library's."""
    import livefilter.batch.video as vmod

    called = []
    monkeypatch.setattr(vmod, "steady_memory", lambda: called.append(1) or True)
    with pytest.raises(lf.LiveFilterError):
        vmod.apply_video(lf.Look(lut=Lut(identity_table(2))), tmp_path / "missing.mp4", tmp_path / "out.mp4")
    assert called == []


def test_a_cuda_launch_failure_moves_the_live_view_to_the_cpu_backend(look, fake_cupy, caplog):
    """Before: a launch failure mid-stream (out of memory at 4K, a driver error, a device lost) ended the live
    view; now it goes on with the CPU backend, the same look, after one log line."""
    from livefilter.render import create_backend

    src = Raising(ValueError("x"), good=10**9)
    got = []
    with pipeline(src, look=look, backend=create_backend("cuda")) as p:
        assert p.backend.name.startswith("cuda")
        p.add_callback(lambda out, info: got.append((p.last_frame.copy(), out.copy())))
        p.run(max_frames=3)
        fake_cupy.launch_error = RuntimeError("cudaErrorIllegalAddress: an illegal memory access was encountered")
        with caplog.at_level("WARNING", logger="livefilter"):
            stats = p.run(max_frames=5)
    assert stats["frames"] == 8 and p.backend.name == "cpu"
    lines = [r.getMessage() for r in caplog.records if "cpu backend" in r.getMessage()]
    assert len(lines) == 1 and "cudaErrorIllegalAddress" in lines[0] and "\n" not in lines[0]
    before, after = got[-1]
    assert np.array_equal(after, lf.render(before, look))
