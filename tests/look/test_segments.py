"""Per-segment looks: a template whose person got one look and the background another is recovered by
fit_look(..., segments=True); save/load, the multi-.cube export, apply segmenting the image by itself."""

import re

import numpy as np
import pytest

import livefilter as lf
from livefilter.analysis.segments import person_mask
from livefilter.imageio import read_image
from livefilter.look import fit, fit_look
from livefilter.render import render_segments

from ..conftest import SAMPLES, apply_float_look, warm_look


def cool_look(x):
    """A faded black-and-white background (a colour-pop portrait: the person keeps colour)."""
    return np.repeat((x @ np.array([0.3, 0.6, 0.1]))[..., None], 3, -1) * 0.8 + 0.1


@pytest.fixture(scope="module")
def split():
    """kodim15 (a girl, 63 % person) graded warm on the person and faded B&W on the background, blended by the
    soft person mask; and the photo alone."""
    a = read_image(SAMPLES / "sample_before.jpg")
    m = person_mask(a, size=a.shape[:2])[:, :, None]
    t = apply_float_look(a, warm_look) * m + apply_float_look(a, cool_look) * (1 - m)
    return np.clip(t + 0.5, 0, 255).astype(np.uint8), a, m[:, :, 0]


@pytest.fixture(scope="module")
def seg_look(split):
    t, a, _ = split
    return fit_look(t, a, segments=True)


def test_person_and_background_each_get_their_look(split, seg_look):
    t, a, m = split
    assert sorted(seg_look.label_luts) == [0, 1]
    assert seg_look.categories == {0: "background", 1: "person"}
    shares = seg_look.meta["segments"]["shares"]
    assert 0.5 < shares["1"] < 0.75 and abs(shares["0"] + shares["1"] - 1) < 1e-3
    err_seg = np.abs(seg_look.apply(a).astype(int) - t).mean()  # apply segments the image itself
    err_glob = np.abs(fit_look(t, a).apply(a).astype(int) - t).mean()
    assert err_seg < 1.5 and err_seg < 0.75 * err_glob, (err_seg, err_glob)
    # the person LUT is the warm look on the colours of another photo, where one global look cannot be both
    b = read_image(SAMPLES / "sample_test.jpg").reshape(-1, 3) / 255.0
    err = np.abs(seg_look.label_luts[1].apply_float(b) - warm_look(b)).mean() * 255
    err_glob = np.abs(fit_look(t, a).lut.apply_float(b) - warm_look(b)).mean() * 255
    assert err < 0.75 * err_glob, (err, err_glob)


def test_left_half_one_look_right_half_another_is_recovered():
    """The same photo twice side by side: the left copy graded warm, the right cool. Their colours are the same,
    so one global mapping cannot tell them apart; per-segment mappings (labels = the halves) recover both."""
    a = read_image(SAMPLES / "sample_test.jpg")
    both = np.concatenate([a, a], axis=1)
    w = a.shape[1]
    t = np.concatenate([apply_float_look(a, warm_look), apply_float_look(a, cool_look)], axis=1)
    labels = np.zeros(both.shape[:2], np.int32)
    labels[:, w:] = 1
    look = fit_look(t, both, sampling="segments", labels=labels)
    err_seg = np.abs(look.apply(both, labels=labels).astype(int) - t).mean()
    err_glob = np.abs(look.apply(both, mask=None).astype(int) - t).mean()
    assert err_seg < 1.5 and err_glob > 10 * err_seg, (err_seg, err_glob)
    soft = np.clip((np.arange(2 * w) - (w - 8)) / 16.0, 0, 1).astype(np.float32)[None].repeat(both.shape[0], 0)
    edge = look.apply(both, mask=soft).astype(int)  # a soft 16 px seam: each side still its own look
    assert np.abs(edge[:, : w - 8] - t[:, : w - 8]).mean() < 1.5
    assert np.abs(edge[:, w + 8:] - t[:, w + 8:]).mean() < 1.5
    assert np.array_equal(look.apply(both, mask=None), lf.render(both, look.lut))  # mask=None: the global look


def test_direct_mode_agrees_with_the_luts(split, seg_look):
    _, a, m = split
    small = m[::4, ::4].copy()
    lut = seg_look.apply(a, mask=small)
    direct = seg_look.apply(a, mask=small, mode="direct")
    assert np.abs(direct.astype(int) - lut).max() <= 2


def test_no_halo_at_the_mask_edge(split, seg_look):
    """Across the soft edge the output moves monotonically from one look to the other: never further from the
    template than either look alone (a halo would be a band that matches neither)."""
    t, a, m = split
    edge = (m > 0.1) & (m < 0.9)
    assert edge.any()
    both = seg_look.apply(a).astype(int)
    warm, cool = lf.render(a, seg_look.label_luts[1]).astype(int), lf.render(a, seg_look.label_luts[0]).astype(int)
    lo, hi = np.minimum(warm, cool) - 1, np.maximum(warm, cool) + 1
    assert ((both >= lo) & (both <= hi))[edge].all()


def test_save_load_and_multi_cube_export(tmp_path, split, seg_look):
    _, a, m = split
    seg_look.save(tmp_path / "split.look.npz")
    back = lf.load_look(tmp_path / "split.look.npz")
    assert back.categories == seg_look.categories and sorted(back.label_luts) == [0, 1]
    assert np.array_equal(back.apply(a, mask=m), seg_look.apply(a, mask=m))
    direct = back.apply(a, mask=m, mode="direct").astype(int)
    assert np.abs(direct - seg_look.apply(a, mask=m, mode="direct")).max() == 0
    seg_look.save(tmp_path / "split.cube")
    files = sorted(p.name for p in tmp_path.glob("*.cube"))
    assert files == ["split.background.cube", "split.cube", "split.person.cube"]
    for name, lut in (("split.cube", seg_look.lut), ("split.person.cube", seg_look.label_luts[1]),
                      ("split.background.cube", seg_look.label_luts[0])):
        got = lf.read_lut(tmp_path / name)
        assert np.abs(got.table - lut.table).max() < 1e-5, name
    assert "[person]" in lf.read_lut(tmp_path / "split.person.cube").title


def test_a_per_segment_look_s_files_are_written_together_or_not_at_all(tmp_path, seg_look, monkeypatch):
    # they were written one by one: a full disk part-way left new segment files beside the old main file (a
    # mismatched set), and a segment file's name clashing with an input was found after the others were written
    import errno

    import livefilter.look.look as look_module
    from livefilter.errors import OutputError

    names = ["s.background.cube", "s.cube", "s.person.cube"]
    for name in names:
        (tmp_path / name).write_text("OLD")
    real, calls = look_module.write_lut, []

    def full_disk_on_the_second(path, lut, **kw):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, lut, **kw)

    monkeypatch.setattr(look_module, "write_lut", full_disk_on_the_second)
    with pytest.raises(OutputError, match=r"s.person.cube: cannot write the file \(No space left on device\)"):
        seg_look.save(tmp_path / "s.cube")
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # no temporary left
    assert all((tmp_path / name).read_text() == "OLD" for name in names)
    monkeypatch.setattr(look_module, "write_lut", real)
    (tmp_path / "in.person.png").write_text("an input")
    with pytest.raises(OutputError, match="same as an input"):
        seg_look.save(tmp_path / "in.png", inputs=(tmp_path / "in.person.png",))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names, "in.person.png"])
    seg_look.save(tmp_path / "s.cube")
    assert all("LUT_3D_SIZE" in (tmp_path / name).read_text() for name in names)


def test_a_template_without_people_keeps_the_global_look_for_people(tmp_path):
    rng = np.random.default_rng(2)
    y, x = np.mgrid[0:120, 0:160]
    a = np.clip(np.stack([x * 1.5, y * 2, 200 - x], -1) + rng.normal(0, 10, (120, 160, 3)), 0, 255).astype(np.uint8)
    look = fit_look(apply_float_look(a), a, segments=True)
    # no person in a gradient, and the background's own mapping is no better than the global one: global look
    assert look.meta["segments"]["shares"]["1"] < 0.1 and look.label_luts == {}
    assert look.categories == {0: "background", 1: "person"}
    assert all(lut is look.lut for lut in look.category_luts())
    assert look.segment_mask(a) is None and np.array_equal(look.apply(a), lf.render(a, look.lut))


def test_a_single_look_template_keeps_the_global_look(split):
    """The same look on person and background: no segment's own mapping fits clearly better (segment_min_gain),
    so the look is the global one, not two noisier halves of it."""
    _, a, _ = split
    look = fit_look(apply_float_look(a, warm_look), a, segments=True)
    assert look.label_luts == {} and look.meta["segments"]["own look"] == []
    errs = look.meta["segments"]["fit error"]
    assert set(errs) == {"0", "1"} and all(e["global"] - e["own"] < fit.DEFAULT.segment_min_gain
                                     for e in errs.values())
    # ... and then exactly the plain look: the global mapping is fitted from the plain fit's own pairs
    assert np.array_equal(look.lut.table, fit_look(apply_float_look(a, warm_look), a).lut.table)
    with pytest.raises(lf.InputError, match="segments=True"):
        fit_look(a, a[::-1].copy(), segments=True, labels=np.zeros((120, 160), np.int32))


def test_with_an_original_the_original_is_segmented(split, monkeypatch):
    """The render side segments ungraded frames, so a before/after fit finds the template's segments on the
    original (a grade that darkens or recolours the person would move the segmenter's boundary); from one photo
    on the template."""
    import livefilter.analysis.segments as segs

    t, a, _ = split
    seen = []
    real = segs.person_mask

    def spy(rgb, size=None):
        seen.append(rgb)
        return real(rgb, size)

    monkeypatch.setattr(segs, "person_mask", spy)
    fit_look(t, a, segments=True)  # at the fit's working size, the template's
    assert len(seen) == 1 and np.array_equal(seen[0], fit.load_template(a).work)
    seen.clear()
    fit_look(t, a, segments=True, settings=fit.FitSettings(segment_the_original=False))
    assert len(seen) == 1 and np.array_equal(seen[0], fit.load_template(t).work)


def test_cli_fit_segments_and_apply(tmp_path, split, capsys):
    from livefilter.cli import main

    t, a, m = split
    lf.write_image(tmp_path / "t.png", t)
    lf.write_image(tmp_path / "a.png", a)
    assert main(["fit", str(tmp_path / "t.png"), "--original", str(tmp_path / "a.png"), "--segments",
                 "-o", str(tmp_path / "s.cube")]) == 0
    out = capsys.readouterr().out
    assert "own look for background" in out and "person" in out and "wrote" in out and "s.person.cube" in out
    assert (tmp_path / "s.person.cube").is_file() and (tmp_path / "s.background.cube").is_file()
    # one look for a photo graded alike: each segment's own look fits no better, and that is the reason given (it
    # said "under 10 %" for segments of 38 % and 62 %)
    lf.write_image(tmp_path / "u.png", (a.astype(np.float32) * 0.85 + 20).astype(np.uint8))
    assert main(["fit", str(tmp_path / "u.png"), "--original", str(tmp_path / "a.png"), "--segments",
                 "-o", str(tmp_path / "u.cube")]) == 0
    said = capsys.readouterr().out
    # each segment with its share (they were named bare)
    assert re.search(r"own look for none; global look for background \d+% \(its own look fitted it ", said), said
    gains = [float(g) for g in re.findall(r"fitted it only ([0-9.]+) code values better, under 0.5", said)]
    assert len(gains) + said.count("its own look fitted it no better") == 2 and all(g < 0.5 for g in gains), said
    assert main(["fit", str(tmp_path / "t.png"), "--original", str(tmp_path / "a.png"), "--segments",
                 "-o", str(tmp_path / "s.look.npz")]) == 0
    # faces protected off: the portrait's face would get less of the look (apply protects faces by default)
    assert main(["apply", str(tmp_path / "s.look.npz"), str(tmp_path / "a.png"), "-o", str(tmp_path / "g.png"),
                 "--no-face-protect"]) == 0
    graded = lf.read_image(tmp_path / "g.png")  # PNG: exactly the look with its segments, the image segmented
    look = lf.load_look(tmp_path / "s.look.npz")
    assert np.array_equal(graded, look.apply(a))
    assert np.abs(graded.astype(int) - t).mean() < 1.5
    assert main(["info", str(tmp_path / "s.look.npz")]) == 0
    assert "person (label 1)" in capsys.readouterr().out


def test_person_weighted_sampling(split, monkeypatch):
    """sampling="person": salient-weighted sampling with the segmented person as the salient region, on both
    paths (the mask follows the template to the network's preset size)."""
    import livefilter.look.sampling as smp

    t, a, m = split
    seen = []
    real = smp.sample_salient

    def spy(rgb, n, seed=0, mask=None, valid=None):
        seen.append((mask.shape, float(mask.mean())))
        return real(rgb, n, seed, mask=mask, valid=valid)

    monkeypatch.setattr(smp, "sample_salient", spy)
    look = fit_look(t, a, sampling="person")
    assert look.meta["sampling"] == "person" and look.label_luts == {}
    one = fit_look(t, sampling="person")
    assert one.meta["sampling"] == "person"
    share = float((m >= 0.5).mean())
    assert len(seen) == 2 and all(abs(f - share) < 0.08 for _, f in seen), (seen, share)


def test_unlabelled_band_feeds_only_the_global_mapping():
    from livefilter.look.sampling import sample_pairs

    rng = np.random.default_rng(4)
    img = rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)
    labels = np.zeros((100, 100), np.int32)
    labels[:, 50:] = 1
    labels[:, 45:55] = -1  # the soft edge: 10 % of the pixels
    src, dst, per = sample_pairs(img, img, sampling="segments", samples=8000, labels=labels)
    assert sorted(per) == [0, 1]
    assert abs(len(per[0][0]) - 3600) <= 1 and abs(len(per[1][0]) - 3600) <= 1
    assert abs(len(src) - 8000) <= 2  # the global mapping: both segments and the band's 10 %


def test_live_pipeline_renders_a_per_segment_look_by_segmenting_the_frames(split, seg_look):
    """live: a per-segment look turns the segmenter on; each frame is rendered with the person's and the
    background's LUTs mixed by the frame's own soft mask (as Look.apply with that mask), not with the global LUT;
    a plain look afterwards turns the segmenter off again."""
    from livefilter.live.pipeline import LivePipeline
    from livefilter.live.sinks import NullSink
    from livefilter.live.sources import SyntheticSource

    _, a, _ = split
    with LivePipeline(SyntheticSource((64, 48)), [NullSink()], look=seg_look, backend="cpu", face_protect=False,
                      scene=False, analysis_every=1) as p:
        assert p.estimator.segmenter is not None
        out = p.process(a).copy()
        mask = p.estimator.mask
        assert mask is not None and mask.shape[0] == 1
        want = seg_look.apply(a, mask=mask)
        assert np.abs(out.astype(int) - want).max() <= 1
        background_everywhere = seg_look.apply(a, mask=np.zeros_like(mask))
        assert np.abs(out.astype(int) - background_everywhere).mean() > 5  # the person got the person's look
        p.set_template(lf.Look(lut=seg_look.lut)).result()
        assert p.estimator.segmenter is None and p.estimator.mask is None
        assert np.abs(p.process(a).astype(int) - seg_look.apply(a, mask=None)).max() <= 1


def test_from_one_photo_every_segment_gets_the_global_look(split, monkeypatch):
    """Through the de-filter guess a segment's own look measured worse than the global one (segments_from_guess):
    a one-photo fit with segments is the plain fit, renders it everywhere and says why; with the setting on it
    learns the segments' own looks from the guess."""
    from livefilter.look import fit

    t, a, _ = split
    with pytest.warns(UserWarning, match="every segment gets the global look"):
        look = fit_look(t, segments=True)
    assert look.label_luts == {} and not look.segmented and look.segment_mask(a) is None
    assert "--original" in look.meta["segments"]["note"]
    assert np.array_equal(look.lut.table, fit_look(t).lut.table)  # the same global look as a plain fit
    assert np.array_equal(look.apply(a), fit_look(t).apply(a))
    on = fit_look(t, segments=True, settings=fit.FitSettings(segments_from_guess=True))
    assert "note" not in on.meta["segments"] and set(on.meta["segments"]["fit error"]) == {"0", "1"}


def test_a_plain_look_renders_through_the_per_segment_call():
    """render_segments(frame, look.category_luts(), look.segment_mask(frame)) grades with any look: a look without
    categories gives its one LUT and no mask (it gave [], which render_segments refuses)."""
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    table = lf.identity_table(9)
    table[..., 0] = table[..., 0] ** 0.7
    look = lf.Look(lut=lf.Lut(table))
    assert look.category_luts() == [look.lut] and look.segment_mask(frame) is None
    out = render_segments(frame, look.category_luts(), look.segment_mask(frame))
    assert np.array_equal(out, lf.render(frame, look))
