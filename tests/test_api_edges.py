"""The Python API's edges, as a developer meets them: a wrong argument is one InputError naming it (not a numpy or
numba traceback, not a silent coercion), and a reading kept alone (a .cube of it, with_strength) says which it was."""

import time
import warnings

import numpy as np
import pytest

import livefilter as lf
from livefilter.errors import InputError, VideoError

from .conftest import SAMPLES


@pytest.fixture(scope="module")
def look():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lf.fit_look(SAMPLES / "sample_after.jpg", scene=False)


@pytest.mark.parametrize("kw, said", [
    ({"candidates": 3.5}, "candidates must be a whole number"),  # was 4 readings
    ({"candidates": "4"}, "candidates must be a whole number"),
    ({"seed": -1}, "seed must be >= 0"),
    ({"size": 17.5}, "size must be a whole number"),
    ({"samples": 8000.5}, "samples must be a whole number"),
    # NaN passed every check (stored in the look), inf failed in the bake, a string in a comparison
    ({"coverage": float("nan")}, "coverage must be a number >= 0, got nan"),
    ({"coverage": float("inf")}, "coverage must be a number >= 0, got inf"),
    ({"guess_weight": "1"}, r"guess_weight must be a number in \[0, 1\], got '1'"),
    ({"settings": {"candidates": 2}}, "settings must be a livefilter.FitSettings, got dict"),  # an AttributeError
])
def test_fit_arguments_are_checked_by_name(kw, said):
    img = lf.read_image(SAMPLES / "sample_after.jpg")
    with pytest.raises(InputError, match=said):
        lf.fit_look(img, **kw)


@pytest.mark.parametrize("kw, said", [
    ({"prior_share": 50}, r"FitSettings.prior_share must be a number in \[0, 1\], got 50"),  # moved a photo by 107.6
    ({"library_share": -0.5}, r"FitSettings.library_share must be a number in \[0, 1\]"),
    ({"coverage_p0": {"network": float("nan")}}, r"FitSettings.coverage_p0\['network'\] must be a number >= 0"),
    ({"guess_weight_rule": (0.2,)}, r"FitSettings.guess_weight_rule must be a pair"),
    ({"one_photo_mapping": "cubic"}, "FitSettings.one_photo_mapping must be 'seed' or 'residual'"),
    ({"neighbours": 0}, "FitSettings.neighbours must be a whole number >= 1"),
])
def test_fit_settings_are_checked_when_made(kw, said):
    import dataclasses

    with pytest.raises(InputError, match=said):
        lf.FitSettings(**kw)
    with pytest.raises(InputError, match=said):
        dataclasses.replace(lf.FitSettings(), **kw)


def test_the_readings_and_the_settings_are_public(look):
    # fit_look's settings= and look.candidates named classes a user had to import from inside the package
    assert {"Reading", "FitSettings"} <= set(lf.__all__)
    assert set(lf.__all__) <= set(dir(lf))  # LivePipeline, imported lazily, was missing from dir() (tab completion)
    assert all(isinstance(r, lf.Reading) for r in look.candidates) and len(look.candidates) > 1
    assert lf.FitSettings().candidates == len(look.candidates) or "candidates skipped" in look.meta


def test_a_reading_is_picked_by_its_number(look):
    assert look.pick(np.int64(2)).picked == 2
    for bad in (2.5, "2", None, True):  # 2.5 and "2" were taken as 2
        with pytest.raises(InputError, match="picked by its number"):
            look.pick(bad)


def test_a_reading_kept_alone_says_which_it_was(look, tmp_path):
    second = look.pick(2)
    kept = second.with_strength(0.8)
    kind = second.candidates[1].kind
    text = repr(kept)
    assert f"from reading 2 of {len(look.candidates)} ({kind})" in text and "{" not in text  # was the reading's dict
    assert f"confidence {second.candidates[1].confidence['level']}" in text  # its own, not reading 1's
    back = lf.load_look(kept.save(tmp_path / "kept.cube"))  # the .cube records the reading and the strength
    assert back.meta["strength"] == 0.8 and f"from reading 2 of {len(look.candidates)} ({kind})" in repr(back)
    header = (tmp_path / "kept.cube").read_text().split("LUT_3D_SIZE")[0]
    assert "# strength: 0.8" in header and f"# reading: 2 of {len(look.candidates)} ({kind}" in header
    for bad in (1.5, -0.5, float("nan"), None, "0.5", True):  # None and "0.5" were Python's TypeError
        with pytest.raises(InputError, match=r"strength must be in \[0, 1\]"):
            look.with_strength(bad)
    # strengths compound, and the metadata says so (it said 0.5 of a look rendered at 0.25)
    twice = kept.with_strength(0.5)
    once = look.pick(2).with_strength(0.4)
    assert twice.meta["strength"] == 0.4 and np.abs(twice.lut.table - once.lut.table).max() < 1e-5
    # saved again by a Windows editor (a UTF-8 byte-order mark first): its strength and reading were lost
    (tmp_path / "bom.cube").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "kept.cube").read_bytes())
    bom = lf.load_look(tmp_path / "bom.cube")
    assert bom.meta["strength"] == 0.8 and repr(bom) == repr(back)


@pytest.mark.parametrize("bad, said", [
    ({"image": "float"}, r"expected a uint8 \(H, W, 3\) frame, got float32"),  # came back nearly black
    ({"image": "uint16"}, r"expected a uint8 \(H, W, 3\) frame, got uint16"),  # read as 8-bit values, clipped
    ({"image": "grey"}, "got uint8 array of shape"),  # numpy's "cannot reshape"
    ({"strength": 2}, r"strength must be in \[0, 1\]"),  # clamped
    ({"strength": float("nan")}, r"strength must be in \[0, 1\]"),  # an all-black image
    ({"degree": "nan"}, "NaN or infinite"),
    ({"channels": "BGR"}, "channels must be"),
])
def test_the_direct_mode_checks_what_the_lut_mode_checks(look, bad, said):
    frame = lf.read_image(SAMPLES / "sample_test.jpg")[:32, :48]
    image = {"float": frame.astype(np.float32) / 255, "uint16": frame.astype(np.uint16) * 257,
             "grey": frame[..., 0]}.get(bad.pop("image", None), frame)
    if bad.get("degree") == "nan":
        bad["degree"] = np.full(frame.shape[:2], np.nan)
    for mode in ("lut", "direct"):
        with pytest.raises(InputError, match=said):
            look.apply(image, mode=mode, **bad)


def test_render_into_a_view_of_its_own_frame(look):
    """out= a flipped or shifted view of the frame wrote pixels still to be read (half the rows wrong, up to 236 code
    values); the frame itself stays allowed."""
    frame = lf.read_image(SAMPLES / "sample_test.jpg")[:40, :60]
    want = lf.render(frame, look)
    f = frame.copy()
    assert np.array_equal(lf.render(f, look, out=f), want)
    for args in ((f, f[::-1]), (f[:-1], f[1:]), (f, f[:, ::-1])):
        with pytest.raises(InputError, match="out overlaps the frame"):
            lf.render(args[0], look, out=args[1])
    side = np.zeros((40, 120, 3), np.uint8)  # a before / after layout: halves of one buffer, apart (from a review)
    side[:, :60] = frame
    assert np.array_equal(lf.render(side[:, :60], look, out=side[:, 60:]), want)


def test_bad_encoder_settings_are_one_error_before_any_work(look, tmp_path):
    from .batch.conftest import make_clip

    make_clip(tmp_path / "c.mp4", frames=3, audio=False)
    for kw, said in (({"crf": -5}, "crf must be in 0..51"), ({"crf": 100}, "crf must be in 0..51"),
                     ({"preset": "warp"}, "preset must be one of ultrafast")):  # PyAV's OverflowError, ArgumentError
        with pytest.raises(InputError, match=said):
            lf.apply_video(look, tmp_path / "c.mp4", tmp_path / "o.mp4", **kw)
        with pytest.raises(InputError, match=said):  # it failed each file in its Result
            lf.apply_folder(look, [tmp_path / "c.mp4"], tmp_path, **kw)
    for kw, said in (({"strength": 3}, r"strength must be in \[0, 1\]"), ({"workers": 0}, "workers must be"),
                     ({"interp": "cubic"}, "interp must be one of"),  # each file failed with it
                     ({"quality": 500}, "quality must be a whole number 1..100")):  # passed to Pillow
        with pytest.raises(InputError, match=said):
            lf.apply_folder(look, [tmp_path / "c.mp4"], tmp_path, **kw)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mp4"]


def test_lut_calls_name_what_they_take(look, tmp_path):
    with pytest.raises(InputError, match=r"a Look: look.save\(path\)"):
        lf.write_lut(tmp_path / "x.cube", look)
    with pytest.raises(InputError, match=r"Lut\(table\) first"):
        lf.write_lut(tmp_path / "x.cube", look.lut.table)
    assert not (tmp_path / "x.cube").exists()
    frame = lf.read_image(SAMPLES / "sample_test.jpg")
    with pytest.raises(InputError, match="divide code values by 255"):  # uint8 read as floats: near white
        look.lut.apply_float(frame[:2, :2])
    with pytest.raises(InputError, match="NaN or infinite"):
        look.lut.apply_float(np.full((2, 3), np.nan))
    with pytest.raises(InputError, match=r"shape \(\.\.\., 3\)"):
        look.lut.apply_float(np.zeros((2, 2)))


def test_render_refuses_a_non_finite_degree_and_returns_c_order(look):
    frame = lf.read_image(SAMPLES / "sample_test.jpg")
    for bad in (np.inf, np.nan):  # inf came out as no look at all, NaN too, without a word
        with pytest.raises(InputError, match="NaN or infinite"):
            lf.render(frame, look, degree=np.full(frame.shape[:2], bad, np.float32))
    t = frame.transpose(1, 0, 2)  # a transposed frame: the result is a plain C-order image all the same
    out = lf.render(t, look)
    assert out.flags.c_contiguous and np.array_equal(out, lf.render(np.ascontiguousarray(t), look))


def test_live_strength_nan_is_refused():
    from livefilter.live.pipeline import LivePipeline
    from livefilter.live.sinks import NullSink
    from livefilter.live.sources import SyntheticSource

    with LivePipeline(SyntheticSource((64, 48)), [NullSink()], look=lf.Lut.identity(5), backend="cpu",
                      face_protect=False, scene=False) as p:
        with pytest.raises(InputError, match="strength"):
            p.set_strength(float("nan"))
        p.set_strength(1.5)  # the preview's keys step past the ends: clamped
        assert p.strength == 1.0


def test_apply_video_refuses_a_still_image(look, tmp_path):
    fake = tmp_path / "photo.mp4"
    fake.write_bytes((SAMPLES / "sample_test.jpg").read_bytes())  # a JPEG under a video's name
    for src in (SAMPLES / "sample_test.jpg", fake):  # both were graded as a one-frame video
        with pytest.raises(VideoError, match="a still image .*not a video"):
            lf.apply_video(look, src, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_a_reading_kept_by_the_previous_version_still_prints_and_saves(tmp_path):
    """with_strength's reading before it said its number ({"kind", "note", "confidence"}): repr and save raised
    KeyError 'number'."""
    old = lf.Look(lut=lf.Lut.identity(5), meta={"name": "old", "strength": 0.8, "reading": {
        "kind": "bold", "note": "", "confidence": {"level": "medium"}}})
    assert "from reading (bold)" in repr(old) and "confidence medium" in repr(old)
    header = old.save(tmp_path / "old.cube").read_text().split("LUT_3D_SIZE")[0]
    assert "# reading: (bold)" in header and "# strength: 0.8" in header


def test_names_near_the_limit_fit_their_temporary_and_partial_names(tmp_path):
    import os

    from livefilter.batch.video import partial_path
    from livefilter.fileio import NAME_MAX, atomic_output

    dotted = tmp_path / ("St. Ives " + "x" * (NAME_MAX - 13) + ".jpg")  # an early dot is not an extension
    with atomic_output(dotted) as tmp:
        assert tmp.suffix == ".jpg" and len(os.fsencode(tmp.name)) <= NAME_MAX
        tmp.write_bytes(b"x")
    assert dotted.read_bytes() == b"x"
    with atomic_output(tmp_path / "a.look.npz") as tmp:  # a double extension kept whole
        assert tmp.name.endswith(".look.npz")
        tmp.write_bytes(b"x")
    part = partial_path(tmp_path / ("é" * 125 + ".mp4"))
    assert len(os.fsencode(part.name)) <= NAME_MAX and part.name.endswith(".partial.mp4")


def test_the_startup_hook_is_the_livefilter_command_s_only(tmp_path):
    """sys.argv[0] is "-m" while any `python -m PKG` imports PKG: a package importing livefilter got the
    command line's "interrupted" hook, for good."""
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    (tmp_path / "otherpkg").mkdir()
    (tmp_path / "otherpkg" / "__init__.py").write_text("import livefilter\n")
    (tmp_path / "otherpkg" / "__main__.py").write_text("import sys\nprint(sys.excepthook is sys.__excepthook__)\n")
    r = subprocess.run([sys.executable, "-m", "otherpkg"], cwd=tmp_path, capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(tmp_path)])), timeout=120)
    assert r.stdout.strip() == "True", r.stderr


def test_a_graded_video_leaves_no_running_subprocess_to_warn_about(look, tmp_path):
    """Every apply_video / apply_folder call warned "ResourceWarning: subprocess N is still running": the stderr
    filter's pump process was started and dropped unwaited."""
    import gc

    from .batch.conftest import make_clip

    make_clip(tmp_path / "c.mp4", frames=3, audio=False)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        lf.apply_video(look, tmp_path / "c.mp4", tmp_path / "o.mp4")
        time.sleep(0.3)  # the pump ends once its pipe closes
        lf.apply_video(look, tmp_path / "c.mp4", tmp_path / "o2.mp4")  # the last one: reaped on the next, or at exit
        gc.collect()
    assert not [w for w in said if issubclass(w.category, ResourceWarning)], [str(w.message) for w in said]

