"""Stress: many start/stop cycles of the live pipeline (preview off) with looks swapped every few frames (plain
3D, per-segment, 1D, a reading picked), sources that raise random exceptions or stop, sinks that fail and close()
during a fit. Each cycle must end under a deadline, print no traceback and leave no livefilter thread running;
resident memory stays flat. The default run is bounded for CI; ``-m slow`` runs the long one (200 cycles and a
10,000-frame memory check)."""

import gc
import random
import threading
import time

import cv2
import numpy as np
import pytest

import livefilter as lf
from livefilter.live.capture import StreamError
from livefilter.live.pipeline import LivePipeline
from livefilter.live.sinks import NullSink, SinkError
from livefilter.live.sources import Source, SourceError, SyntheticSource
from livefilter.look.readings import Reading
from livefilter.luts.lut import Lut, identity_table
from livefilter.resources import DATA_DIR

from ..conftest import warm_look

DEADLINE = 20.0  # per cycle: a cycle renders at most 60 small frames; a hang is what this catches
SIZE = (96, 64)


def rss_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))


@pytest.fixture(scope="module")
def looks():
    plain = Lut(warm_look(identity_table(17)), title="plain")
    curve = np.linspace(0, 1, 64)[:, None] ** np.array([[0.6, 1.0, 1.6]])
    one_d = Lut.from_curves(curve, title="gamma 1D")
    seg = lf.Look(lut=plain, label_luts={1: Lut(1 - identity_table(9), title="person")},
                  meta={"segments": {"categories": {"0": "background", "1": "person"}}})
    cands = [Reading("automatic", None, lut=plain), Reading("gentle", None, lut=one_d)]
    readings = lf.Look(lut=plain, meta={"name": "readings", "picked": 1, "candidates": [r.meta() for r in cands]},
                       candidates=cands)
    assert seg.segmented and one_d.kind == "1D"
    return [plain, seg, one_d, readings]


class Chaos(Source):
    """A source that stops after ``frames`` or raises: device errors (retried by the capture worker) and others
    (which end the stream) at random reads."""

    paced = False
    ERRORS = (lambda: SourceError("no frame (unplugged?)", "camera 9"), lambda: OSError("device gone"),
              lambda: RuntimeError("driver"), lambda: ValueError("bad size"), lambda: KeyError("k"),
              lambda: cv2.error("resize failed"), lambda: ZeroDivisionError("zero"))

    def __init__(self, rng: random.Random, frames: int, p_error: float):
        self.rng, self.frames, self.p_error, self.i = rng, frames, p_error, 0
        self.name = "chaos"
        self.closed = 0
        self.frame = SyntheticSource(SIZE, fps=30).read()

    def read(self):
        self.i += 1
        if self.i > self.frames:
            return None
        if self.rng.random() < self.p_error:
            raise self.rng.choice(self.ERRORS)()
        time.sleep(0.001)
        return self.frame

    def close(self):
        self.closed += 1


class FailingSink(NullSink):
    name = "failing"

    def __init__(self, after: int, exc):
        super().__init__()
        self.after, self.exc = after, exc

    def send(self, frame):
        if self.count >= self.after:
            raise self.exc
        super().send(frame)


def one_cycle(rng: random.Random, looks, fit_photo, fit: bool = False) -> str:
    """One start/run/close cycle; returns what happened (for the failure message)."""
    src = Chaos(rng, frames=rng.randint(5, 80), p_error=rng.choice([0.0, 0.02, 0.1]))
    sinks = [NullSink()]
    if rng.random() < 0.2:
        sinks.append(FailingSink(rng.randint(0, 20), rng.choice([SinkError("vcam gone"), ValueError("sink bug")])))
    p = LivePipeline(src, sinks, look=rng.choice(looks), backend="cpu", face_protect=False, scene=False,
                     analysis_every=1)
    order = list(looks)
    rng.shuffle(order)
    every = rng.randint(2, 5)

    def swap(out, info):
        if info["seq"] % every == 0:
            try:
                if p.candidate[1] > 1 and rng.random() < 0.5:
                    p.pick_candidate(p.candidate[0] % p.candidate[1] + 1)
                else:
                    p.set_template(order[info["seq"] // every % len(order)])
            except lf.LiveFilterError:
                pass  # closed meanwhile

    p.add_callback(swap)
    what = f"source errors p={src.p_error}, {src.frames} frames, sinks {[s.name for s in sinks]}"
    try:
        if fit_photo is not None and (fit or rng.random() < 0.15):  # close() while a photo is being fitted
            p.start()
            p.set_template(fit_photo)
            p.step(timeout=0.2)
            what += ", closed during a fit"
        else:
            p.run(max_frames=rng.randint(1, 60))
    except (StreamError, SinkError) as exc:
        what += f", ended with {type(exc).__name__}"
    except ValueError as exc:
        if str(exc) != "sink bug":
            raise
        what += ", the sink raised"
    finally:
        p.close()
    assert src.closed == 1 or src.closed == 0 and p._busy, what
    return what


def lf_threads():
    return [t for t in threading.enumerate() if t.name.startswith("lf-") and t.name != "lf-stderr"]


def stress(cycles: int, seed: int, looks, capfd, monkeypatch, fit_photo):
    import livefilter.live.capture as cmod

    monkeypatch.setattr(cmod, "BACKOFF_START", 0.002)
    marks = []
    for i in range(cycles):
        rng = random.Random(seed * 100_000 + i)
        box = {}

        def go(rng=rng, box=box, fit=i == 0):
            try:
                box["what"] = one_cycle(rng, looks, fit_photo, fit=fit)
            except BaseException as exc:  # noqa: BLE001 - reported on the test's thread
                box["error"] = exc

        t = threading.Thread(target=go, daemon=True)
        t.start()
        t.join(DEADLINE)
        assert not t.is_alive(), f"cycle {i} hung (> {DEADLINE} s)"
        if "error" in box:
            raise box["error"]
        end = time.monotonic() + 5
        while lf_threads() and time.monotonic() < end:
            time.sleep(0.01)
        assert not lf_threads(), f"cycle {i} ({box['what']}) left {[t.name for t in lf_threads()]}"
        gc.collect()
        marks.append(rss_kib())
    err = capfd.readouterr().err
    assert "Traceback" not in err, err[-3000:]
    return marks


# Resident memory after each cycle (gc'd): the median of the last quarter of the cycles against the median of the
# quarter after the first 20 (cycle 0 fits a photo, so the fit's own memory is in the base). Medians, because a
# fit's transient arrays leave single cycles up to ~7 % above their neighbours (glibc keeps freed memory a while:
# 400 cycles here, sampled every 20 cycles, 646..683 MiB with no trend); a leak moves the median. 5 %: the issue's
# target.
@pytest.mark.parametrize(("cycles", "seed"), [(80, 1), pytest.param(400, 2, marks=pytest.mark.slow)])
def test_stress_start_stop_swap_fail(looks, capfd, monkeypatch, cycles, seed):
    marks = stress(cycles, seed, looks, capfd, monkeypatch, DATA_DIR / "sample_after.jpg")
    q = (cycles - 20) // 4
    base, last = np.median(marks[20: 20 + q]), np.median(marks[-q:])
    assert last < base * 1.05, (base, last)


@pytest.mark.slow
def test_rss_flat_over_10k_frames_with_swaps(looks):
    """10,000 frames with a look swapped every 25 frames (plain / per-segment / 1D / readings): RSS < +5 %."""
    src = SyntheticSource((320, 180), fps=100000)
    src.paced = False
    marks = []
    with LivePipeline(src, [NullSink()], look=looks[0], backend="cpu", face_protect=False, scene=False) as p:
        def swap(out, info):
            if info["seq"] % 25 == 0:
                p.set_template(looks[info["seq"] // 25 % len(looks)])
            if info["seq"] % 500 == 0:
                marks.append(rss_kib())

        p.add_callback(swap)
        p.run(max_frames=10_000)
    base = marks[2]
    assert max(marks[2:]) < base * 1.05, (base, max(marks))
