import threading
import time

import numpy as np
import pytest

import livefilter as lf
from livefilter.analysis.scene import FLOOR
from livefilter.live.capture import LatestFrame
from livefilter.live.pipeline import LivePipeline
from livefilter.live.sinks import CallbackSink, NullSink, SinkError, VideoFileSink
from livefilter.live.sources import Source, SourceError, SyntheticSource
from livefilter.luts.lut import Lut, identity_table

from ..conftest import warm_look

SIZE = (320, 180)


@pytest.fixture(scope="module")
def look():
    return lf.Look(lut=Lut(warm_look(identity_table(33)), title="warm"))


def pipeline(source=None, sinks=None, **kw):
    kw.setdefault("face_protect", False)
    kw.setdefault("backend", "cpu")
    return LivePipeline(source or SyntheticSource(SIZE, fps=200), sinks if sinks is not None else [NullSink()], **kw)


def test_c_on_a_look_with_one_reading_says_so(look):
    with pipeline(look=look) as p:
        assert p.candidate == (1, 1)
        assert p.pick_next().result(timeout=30) == p.look_name == "warm"  # the look stays
        assert p.status == "this look has one reading"


def test_runs_and_grades(look):
    got = []
    with pipeline(look=look) as p:
        p.add_callback(lambda out, info: got.append((p.last_frame.copy(), out.copy())))
        stats = p.run(max_frames=20)
    assert stats["frames"] == 20 and "render" in stats and "latency" in stats
    before, after = got[-1]
    assert np.abs(after.astype(int) - lf.render(before, look)).max() == 0
    p.close()  # safe twice
    # used after close(): it rendered on, its source and sinks released
    for use in (p.run, p.start, p.step, lambda: p.process(before), lambda: p.set_template(look), p.pick_next,
                lambda: p.save_look(".")):  # (the last three: a bare LiveFilterError, "the pipeline is closed")
        with pytest.raises(lf.InputError, match="this LivePipeline is closed"):
            use()


def test_a_per_segment_look_has_its_several_lut_pass_compiled_before_the_first_frame(look, monkeypatch):
    """The backend's set_luts runs the several-LUT pass once, with and without a degree map, on the look worker
    before any frame (at a cold numba cache that pass compiled on the first frame: a 9.7 s stall in bench-live
    --segments)."""
    from livefilter.render import cpu as cpu_mod

    seg = lf.Look(lut=look.lut, label_luts={1: Lut(identity_table(17), title="person")},
                  meta={"segments": {"categories": {"0": "background", "1": "person"}}})
    assert seg.segmented
    calls = []
    real = cpu_mod.render_segments

    def spy(frame, luts, mask, **kw):
        calls.append((mask.shape, kw.get("degree") is None))
        return real(frame, luts, mask, **kw)

    monkeypatch.setattr(cpu_mod, "render_segments", spy)
    p = pipeline(look=seg)
    try:
        p.start()
        assert p.stats.summary().get("frames", 0) == 0  # no frame rendered yet
        assert ((1, 2, 2), True) in calls and ((1, 2, 2), False) in calls  # both passes, before any frame
    finally:
        p.close()


def test_latest_frame_slot_drops_never_queues():
    slot = LatestFrame()
    for i in range(5):
        slot.put(np.full((2, 2, 3), i, np.uint8), time.monotonic())
    frame, _, seq, _ = slot.get(0)
    assert frame[0, 0, 0] == 4 and seq == 5 and slot.dropped == 4
    assert slot.get(seq, timeout=0.01) is None
    slot.end()
    with pytest.raises(EOFError):
        slot.get(seq)


def test_template_swap_does_not_stop_frames_and_keeps_old_look_until_ready(look, monkeypatch):
    import livefilter.look.look as lmod

    release = threading.Event()
    new = lf.Look(lut=Lut(1 - identity_table(17), title="invert"))

    def slow_load(path):
        release.wait(5)
        return new

    monkeypatch.setattr(lmod, "load_look", slow_load)
    frames = []
    with pipeline(look=look) as p:
        p.add_callback(lambda out, info: frames.append((p.look_name, p.last_frame.copy(), out.copy())))
        fut = p.set_template("whatever.cube")
        p.run(max_frames=10) if False else [p.step() for _ in range(10)]
        assert len(frames) >= 9 and all(name == "warm" for name, _, _ in frames)  # old look live during the fit
        release.set()
        assert fut.result(timeout=5) == "invert"
        for _ in range(3):
            p.step()
    name, before, after = frames[-1]
    assert name == "invert" and np.abs(after.astype(int) - (255 - before.astype(int))).max() <= 1


def test_failed_template_keeps_previous_look(look, tmp_path):
    bad = tmp_path / "bad.cube"
    bad.write_text("LUT_3D_SIZE 2\n1 2\n")
    with pipeline(look=look) as p:
        fut = p.set_template(bad)
        with pytest.raises(lf.LutFormatError):
            fut.result(timeout=5)
        assert p.look_name == "warm" and "bad.cube" in p.errors[-1] and "look not changed" in p.status
        out = p.step()
        assert out is not None and np.abs(out.astype(int) - lf.render(p.last_frame, look)).max() == 0


class FlakySource(Source):
    """Fails (like an unplugged camera) for a while, then comes back."""

    name = "flaky camera"
    paced = False

    def __init__(self, fail_from=3, fail_count=4):
        self.i, self.fail_from, self.fail_count, self.opens, self.closed = 0, fail_from, fail_count, 0, 0

    def open(self):
        self.opens += 1

    def read(self):
        self.i += 1
        if self.fail_from <= self.i < self.fail_from + self.fail_count:
            raise SourceError("the camera returned no frame (unplugged?)", "camera 0")
        time.sleep(0.002)
        return np.full((24, 32, 3), self.i % 256, np.uint8)

    def close(self):
        self.closed += 1


def test_camera_failure_retries_with_backoff_and_resumes(look, monkeypatch):
    import livefilter.live.capture as pmod

    monkeypatch.setattr(pmod, "BACKOFF_START", 0.01)
    statuses = []
    src = FlakySource()
    with pipeline(src, look=look) as p:
        p.add_callback(lambda out, info: statuses.append(p.status))
        stats = p.run(max_frames=10)
    assert stats["frames"] == 10 and src.opens >= 4 and src.closed == 1
    assert any("back" in s for s in statuses)


class FakeCapture:
    """Stands in for cv2.VideoCapture: a camera that is unplugged after 3 frames and plugged back in once it has
    been asked to reopen 3 times. Frames carry the session number, so frames after the return can be told apart."""

    state = {"opens": 0, "reads": 0, "plugged": True, "failed_opens": 0}

    def __init__(self, device, api=None):
        st = self.state
        if not st["plugged"]:
            st["failed_opens"] += 1
            st["plugged"] = st["failed_opens"] >= 3
            self.ok = False
        else:
            self.ok = True
            st["opens"] += 1
        self.session = st["opens"]

    def isOpened(self):
        return self.ok

    def set(self, *a):
        return True

    def get(self, prop):
        return 30.0

    def read(self):
        st = self.state
        st["reads"] += 1
        if st["reads"] == 4:
            st["plugged"] = False
        if not self.ok or not st["plugged"]:
            return False, None
        return True, np.full((24, 32, 3), 10 * self.session, np.uint8)

    def release(self):
        self.ok = False


def test_a_camera_that_comes_back_is_reopened_and_its_frames_resume(look, monkeypatch):
    import livefilter.live.capture as pmod
    import livefilter.live.sources as smod

    monkeypatch.setattr(pmod, "BACKOFF_START", 0.01)
    monkeypatch.setattr(FakeCapture, "state", {"opens": 0, "reads": 0, "plugged": True, "failed_opens": 0})
    monkeypatch.setattr(smod.cv2, "VideoCapture", FakeCapture)
    cam = smod.CameraSource(0, (32, 24))
    statuses, inputs = [], []
    with pipeline(cam, look=look) as p:
        p.add_callback(lambda out, info: (statuses.append(p.status), inputs.append(int(p.last_frame[0, 0, 0]))))
        stats = p.run(max_frames=8)
    assert stats["frames"] == 8
    assert FakeCapture.state["failed_opens"] >= 3  # it kept retrying while the camera was away
    # frames of the first session, then (the latest-frame slot may drop some) only the second session's
    assert inputs[0] == 10 and inputs[-1] == 20 and inputs == sorted(inputs) and set(inputs) == {10, 20}
    assert statuses[-1] == "camera 0: back"
    assert cam.cap is None  # closed with the pipeline


def test_sink_failure_stops_cleanly(look, tmp_path):
    class BrokenSink(NullSink):
        name = "broken"

        def send(self, frame):
            if self.count >= 3:
                raise SinkError("the virtual camera stopped taking frames (device gone)")
            super().send(frame)

    rec = VideoFileSink(tmp_path / "rec.mp4", fps=30)
    src = SyntheticSource(SIZE, fps=200)
    p = pipeline(src, [rec, BrokenSink()], look=look)
    with pytest.raises(SinkError, match="stopped taking frames"):
        p.run(max_frames=50)
    assert (tmp_path / "rec.mp4").is_file()  # the recording was finalised
    assert "stopped" in p.status


class UnfinishableSink(NullSink):
    name = "unfinishable"

    def close(self):
        raise SinkError("cannot write the recording (No space left on device)", "r.mp4")


def test_a_sink_that_cannot_finish_is_the_pipeline_s_error_but_never_hides_another(look, caplog):
    # close() raises a recording's failure to finish (it was only logged: the command line said "wrote" and exited
    # 0); an error or a Ctrl+C that ends run() stays the error raised, the sink's failure logged beside it
    with pytest.raises(SinkError, match="r.mp4: cannot write the recording"):
        with pipeline(sinks=[UnfinishableSink()], look=look) as p:
            p.run(max_frames=3)

    def interrupt(out, info):
        raise KeyboardInterrupt

    for end in (KeyboardInterrupt, ValueError):
        p = pipeline(sinks=[UnfinishableSink(), UnfinishableSink()], look=look)
        if end is KeyboardInterrupt:
            p.add_callback(interrupt)
        else:
            p.sinks[0].send = lambda *a, **k: (_ for _ in ()).throw(ValueError("the real error"))
        caplog.clear()
        with pytest.raises(end), p:
            p.run(max_frames=3)
        assert caplog.text.count("cannot write the recording") == 2  # both sinks' failures said


def test_ctrl_c_finalises_the_recording(look, tmp_path):
    def interrupt(out, info):
        if info["seq"] >= 5:
            raise KeyboardInterrupt

    p = pipeline(sinks=[VideoFileSink(tmp_path / "rec.mp4", fps=30)], look=look)
    p.add_callback(interrupt)
    with pytest.raises(KeyboardInterrupt):
        p.run(max_frames=100)
    assert (tmp_path / "rec.mp4").stat().st_size > 0 and not list(tmp_path.glob(".rec*"))


def test_frame_size_changes_mid_stream(look):
    class Resizing(Source):
        fps = 100.0
        name = "resizing"

        def __init__(self):
            self.i = 0

        def read(self):
            self.i += 1
            if self.i > 30:
                return None
            h, w = (90, 160) if (self.i // 5) % 2 else (60, 64)
            return np.full((h, w, 3), 128, np.uint8)

    shapes = []
    with pipeline(Resizing(), [CallbackSink(lambda f: shapes.append(f.shape))], look=look,
                  face_protect=True) as p:
        p.run()
    assert {(90, 160, 3), (60, 64, 3)} <= set(shapes)


def test_process_push_api_and_face_protection(look):
    src = SyntheticSource((640, 360), fps=30)
    with pipeline(src, [], look=look, face_protect=True, analysis_every=1) as p:
        outs = [p.process(src.read()) for _ in range(6)]
        assert p.degree is not None and p.degree.min() < 0.5  # the face in the clip is protected
        assert len(p.boxes) >= 1
        frame = src.read()
        out = p.process(frame)
        full = lf.render(frame, look)
        # on the face (the largest box) the output stays closer to the camera frame than the full look does
        h, w = frame.shape[:2]
        areas = (p.boxes[:, 2] - p.boxes[:, 0]) * (p.boxes[:, 3] - p.boxes[:, 1])
        x0, y0, x1, y1 = (p.boxes[int(np.argmax(areas))] * [w, h, w, h]).astype(int)
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        face = (slice(cy - 10, cy + 10), slice(cx - 10, cx + 10))
        assert np.abs(out[face].astype(int) - frame[face]).mean() < np.abs(full[face].astype(int) - frame[face]).mean()
        with pytest.raises(lf.InputError):
            p.process(np.zeros((4, 4), np.uint8))
    assert len(outs) == 6


def test_strength_and_no_look(look):
    with pipeline() as p:
        out = p.step()
        assert np.array_equal(out, p.last_frame)  # no look yet: frames pass through
        p.set_template(look).result()
        p.set_strength(0.0)
        out = p.step()
        assert np.array_equal(out, p.last_frame)
        p.set_strength(5)
        assert p.strength == 1.0


@pytest.mark.slow
def test_soak_memory_stays_flat(look):
    """10,000 frames through the threaded pipeline: resident memory grows < 5 %."""
    import resource  # noqa: F401

    def rss():
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))

    src = SyntheticSource((640, 360), fps=100000)
    src.paced = False
    marks = []
    with pipeline(src, look=look, face_protect=True) as p:
        p.add_callback(lambda out, info: marks.append(rss()) if info["seq"] % 500 == 0 else None)
        p.run(max_frames=10_000)
    base = marks[2]  # after warm-up
    growth = (max(marks[2:]) - base) / base
    print(f"soak: RSS {base / 1024:.1f} MiB -> max {max(marks[2:]) / 1024:.1f} MiB ({growth * 100:.2f} %)")
    assert growth < 0.05


def test_scene_similarity_follows_the_template_photo(look, tmp_path):
    """A look fitted from a photo brings its scene: outside faces the degree becomes the scene similarity of the
    frames to that photo; a look without a photo (a LUT) sets s back to 1; scene=False turns it off."""
    import cv2
    from skimage import data

    photo = tmp_path / "coffee.png"
    cv2.imwrite(str(photo), cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR))
    src = SyntheticSource((320, 180), fps=30)
    with pipeline(src, [], scene=True, analysis_every=1) as p:
        p.set_template(photo).result()
        scene = p.estimator.scene
        assert scene.has_template
        scene.rate = 1000.0  # no ramp, so the test need not wait for it
        for _ in range(500):
            p.process(src.read())
            if scene.evaluations:
                break
            time.sleep(0.01)
        for _ in range(12):  # the degree map's smoothing converges
            p.process(src.read())
        s = lf.scene_similarity(photo, src.read())
        # coffee vs the clip: about 0.93; within a third of the curve's range (the raw s is of an earlier frame)
        assert s < 1.0 and scene.raw is not None and abs(scene.raw - s) < (1.0 - FLOOR) / 3
        assert p.degree is not None and abs(float(p.degree.mean()) - p.scene_score) < 0.02
        p.set_template(look).result()
        assert not scene.has_template and scene.target == 1.0
    with pipeline(scene=False) as p:
        assert p.estimator.scene is None and p.scene_score == 1.0


def test_readings_are_picked_live_and_the_live_look_saves_at_its_strength(tmp_path):
    """A one-photo look's readings: pick_candidate swaps the LUT on the look worker while frames keep coming,
    save_look writes the live reading at the live strength (.cube + .look.npz, new names, never over a file)."""
    import warnings

    from livefilter.resources import DATA_DIR

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = lf.fit_look(DATA_DIR / "sample_after.jpg", candidates=3)
    n = len(one.candidates)
    assert n >= 2
    got = []
    with pipeline(look=one.pick(2)) as p:
        assert p.candidate == (2, n) and f"[2/{n} {one.candidates[1].kind}]" in p.look_name
        # what the live reading does, in words, on the HUD's reading line
        from livefilter.live.window import PreviewWindow
        from livefilter.look.character import character
        does = character(one.candidates[1].lut)
        assert p.look_character == does
        assert f"(c: reading 2 of {n})  {does}" in " | ".join(PreviewWindow(p, show=False).hud({}))
        p.add_callback(lambda out, info: got.append((p.last_frame.copy(), out.copy())))
        p.run(max_frames=3)
        assert np.abs(got[-1][1].astype(int) - lf.render(got[-1][0], one.candidates[1].lut)).max() == 0
        p.pick_candidate(1).result(timeout=30)
        assert p.candidate == (1, n)
        got.clear()
        p.run(max_frames=3)
        assert np.abs(got[-1][1].astype(int) - lf.render(got[-1][0], one.lut)).max() == 0
        with pytest.raises(lf.InputError):
            p.pick_candidate(n + 1).result(timeout=30)
        assert p.candidate == (1, n)  # the failed pick kept the live reading
        p.set_strength(0.5)
        cube, npz = p.save_look(tmp_path).result(timeout=30)
        cube2, _ = p.save_look(tmp_path).result(timeout=30)
    assert cube.suffix == ".cube" and npz.name.endswith(".look.npz") and cube2 != cube and cube2.exists()
    saved = lf.read_lut(cube)
    half = identity_table(33) + 0.5 * (np.clip(one.lut.table, 0, 1) - identity_table(33))
    assert np.abs(saved.table - half).max() < 1e-5
    assert lf.load_look(npz).meta["strength"] == 0.5


def test_a_look_file_starts_on_its_saved_reading_and_quick_c_presses_each_move_one_on(tmp_path):
    import warnings

    from livefilter.resources import DATA_DIR

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = lf.fit_look(DATA_DIR / "sample_after.jpg", candidates=4)
    n = len(one.candidates)
    path = one.pick(2).save(tmp_path / "two.look.npz")
    with pipeline() as p:
        p.set_template(path).result(timeout=60)  # pick=None: the reading the file was saved with
        assert p.candidate == (2, n)
        futs = [p.pick_next(), p.pick_next()]  # two presses before the worker ran either
        for f in futs:
            f.result(timeout=60)
        assert p.candidate == ((2 + 1) % n + 1, n)  # 2 -> 3 -> 4 (of 4)


def test_a_pick_goes_before_the_readings_head_start(monkeypatch):
    """The other readings' tables are built ahead on the look worker, the next reading first; a pick queued meanwhile
    waits for one table at most (before: for all of them, minutes on a busy machine where the worker is at nice 19),
    and the head start goes on after the pick."""
    import warnings

    from livefilter.render.cpu import CpuBackend
    from livefilter.resources import DATA_DIR

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = lf.fit_look(DATA_DIR / "sample_after.jpg", candidates=4)
    n = len(one.candidates)
    assert n >= 3
    events, started = [], threading.Event()
    real_prepare = CpuBackend.prepare

    def slow_prepare(self, lut):
        started.set()
        time.sleep(0.3)
        events.append(("prepare", lut))
        return real_prepare(self, lut)

    monkeypatch.setattr(CpuBackend, "prepare", slow_prepare)
    with pipeline() as p:
        p.set_template(one).result(timeout=60)
        assert started.wait(10)  # the head start is running: the pick queues behind it
        p.pick_next().result(timeout=60)
        events.append(("pick", p.candidate[0]))
        deadline = time.monotonic() + 20
        while sum(e[0] == "prepare" for e in events) < n - 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    kinds = [e[0] for e in events]
    assert kinds.index("pick") <= 1, kinds
    prepared = [e[1] for e in events if e[0] == "prepare"]
    assert prepared[0] is one.candidates[1].lut  # the next reading first
    assert {id(x) for x in prepared} == {id(c.lut) for c in one.candidates[1:]}  # every other reading, after the pick


def test_a_black_and_white_look_is_rendered_whole_on_faces(tmp_path):
    """Face protection gave a face a share of a black-and-white look: the face stayed in colour in a grey picture.
    Such a look (Lut.monochrome) is rendered whole; a colour look still spares the face."""
    x = identity_table(17)
    bw = lf.Look(lut=Lut(np.repeat((x @ np.array([0.299, 0.587, 0.114]))[..., None], 3, -1), title="bw"))
    src = SyntheticSource((640, 360), fps=30)
    warm = lf.Look(lut=Lut(np.clip(x * [1.1, 1.0, 0.8], 0, 1), title="warm"))
    with pipeline(src, [], look=bw, face_protect=True, analysis_every=1) as p:
        outs = [p.process(src.read()) for _ in range(6)]
        assert all(np.abs(o.astype(int) - o.mean(-1, keepdims=True)).max() <= 1 for o in outs[2:])  # grey
        # its map unused, no frame is analysed (the face detector ran on every frame for nothing)
        assert p.whole_look and p.degree is None and "analysis" not in p.stats.summary()
        p.set_template(warm).result()
        [p.process(src.read()) for _ in range(3)]
        assert not p.whole_look and p.degree is not None and p.degree.min() < 0.5  # the face found and spared


def test_bad_arguments_to_a_pipeline_are_refused_and_a_failed_one_leaves_no_thread(look, caplog):
    """From a probe of the API: a NaN strength rendered nothing without a word (5 failed on the first frame); a
    constructor failing on its look left its look worker's thread; a source of fps 0 divided by zero in
    run(duration=); a source of RGBA frames logged a line per frame; set_template(12345) failed in pathlib."""
    for bad in (float("nan"), 5, -0.1, "x"):
        with pytest.raises(lf.InputError, match=r"strength must be in \[0, 1\]"):
            LivePipeline(SyntheticSource((64, 48)), [], look=look, backend="cpu", strength=bad)
    before = {t.name for t in threading.enumerate()}
    with pytest.raises(lf.InputError, match="no such file"):
        LivePipeline(SyntheticSource((64, 48)), [], look="nope.cube", backend="cpu")
    time.sleep(0.2)
    assert {t.name for t in threading.enumerate()} - before == set()

    class Odd(Source):
        fps, n = 0.0, 0

        def read(self):
            self.n += 1
            return None if self.n > 6 else np.zeros((8, 8, 4 if self.n < 4 else 3), np.uint8)

    with pipeline(Odd(), [], look=look) as p:
        assert p.run(duration=5.0)["frames"] >= 1  # no ZeroDivisionError (frames as fast as it gives them)
        with pytest.raises(lf.InputError, match="a template is a look file, a photo, a Look or a Lut, got int"):
            p.set_template(12345).result(timeout=30)
    assert sum("not uint8 RGB" in r.getMessage() for r in caplog.records if r.levelname == "WARNING") == 1

