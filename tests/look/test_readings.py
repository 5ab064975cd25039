"""One photo, several readings (livefilter.look.readings, the look library): candidates are distinct and ranked,
picking chooses, the .look.npz keeps them, the CLI offers them, and the library re-creates to the same bytes."""

import hashlib
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from PIL import Image

import livefilter as lf
from livefilter.analysis.scene import scene_similarity
from livefilter.cli import main
from livefilter.errors import InputError
from livefilter.look import library, load_template, readings
from livefilter.look.settings import MAX_CANDIDATES, FitSettings

from ..conftest import ROOT


@pytest.fixture(scope="module")
def one_photo_look():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lf.fit_look(ROOT / "livefilter" / "data" / "sample_after.jpg", candidates=4)


def test_candidates_are_distinct_and_ranked(one_photo_look):
    look = one_photo_look
    assert 2 <= len(look.candidates) <= 4
    kinds = [c.kind for c in look.candidates]
    assert kinds[0] == "automatic" and len(set(kinds)) == len(kinds)
    # the rest in the settings' order
    order = [k for k in FitSettings().pool_order if k in kinds]
    assert kinds[1:] == order
    # candidate 1 is the single automatic look (what a fit with one candidate gives)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = lf.fit_look(ROOT / "livefilter" / "data" / "sample_after.jpg", candidates=1)
    assert single.candidates == [] and np.array_equal(single.lut.table, look.lut.table)
    assert look.lut is look.candidates[0].lut and look.picked == 1
    for i, a in enumerate(look.candidates):
        assert a.confidence.get("level") in ("low", "medium", "high")
        assert np.isfinite(a.lut.table).all()
        for b in look.candidates[i + 1:]:
            assert readings.reading_difference(a.mapping, b.mapping) >= readings.MIN_DIFFERENCE
    # at least one keeps its whole look: the fitted look without the hedge toward doing nothing (whole, or bold: the
    # fitted look at 125 %)
    kept = {c.kind: c.confidence.get("kept") for c in look.candidates}
    assert kept.get("bold", 0) >= 1.0 or "whole" in kinds or look.meta["guess_weight"] >= 1.0


def test_pick_chooses_and_rejects_what_is_not_there(one_photo_look):
    look = one_photo_look
    n = len(look.candidates)
    second = look.pick(2)
    assert second.lut is look.candidates[1].lut and second.picked == 2 and second.candidates is look.candidates
    assert look.picked == 1  # picking gives a new look
    frame = np.asarray(Image.open(ROOT / "livefilter" / "data" / "sample_test.jpg").convert("RGB"))
    assert not np.array_equal(second.apply(frame), look.apply(frame))
    for bad in (0, n + 1):
        with pytest.raises(InputError, match=f"this look has {n}"):
            look.pick(bad)


def test_a_look_prints_as_one_line_not_its_tables(one_photo_look):
    # a notebook's `look` or `print(look.candidates)` showed every LUT entry (tens of thousands of numbers)
    look = one_photo_look.pick(2)
    text = repr(look)
    assert "\n" not in text and len(text) < 200
    assert f"reading 2 of {len(look.candidates)} ({look.candidates[1].kind})" in text
    assert f"confidence {look.candidates[1].confidence['level']}" in text
    assert len(repr(look.lut)) < 200 and "33^3" in repr(look.lut)
    assert all(len(repr(c)) < 120 and c.kind in repr(c) for c in look.candidates)
    assert "strength 0.5" in repr(look.with_strength(0.5))


def test_a_cube_of_one_reading_prints_which_it_is(one_photo_look, tmp_path):
    # `info` named the reading and its confidence, the loaded Look printed only its LUT's size
    look = one_photo_look.pick(2)
    back = repr(lf.load_look(look.save(tmp_path / "r2.cube")))
    assert f"reading 2 of {len(look.candidates)} ({look.candidates[1].kind})" in back
    assert f"confidence {look.candidates[1].confidence['level']}" in back


def test_look_npz_round_trip_keeps_the_candidates(one_photo_look, tmp_path):
    path = one_photo_look.pick(3).save(tmp_path / "l.look.npz")
    back = lf.load_look(path)
    assert back.picked == 3 and len(back.candidates) == len(one_photo_look.candidates)
    for a, b in zip(one_photo_look.candidates, back.candidates):
        assert (a.kind, a.note, a.confidence) == (b.kind, b.note, b.confidence)
        assert np.array_equal(a.lut.table, b.lut.table)
        x = np.random.default_rng(0).random((500, 3))
        assert np.allclose(a.mapping(x), b.mapping(x), atol=1e-6)
    assert np.array_equal(back.lut.table, one_photo_look.candidates[2].lut.table)
    assert np.array_equal(back.pick(1).lut.table, one_photo_look.lut.table)


def test_with_an_original_there_is_one_reading(sample_after, sample_before):
    with pytest.warns(UserWarning, match="candidates=4: a look learnt with its original has one reading"):
        look = lf.fit_look(sample_after, sample_before, candidates=4)  # (it gave none without a word)
    assert look.candidates == [] and look.pick(1) is look
    with pytest.raises(InputError, match="has 1"):
        look.pick(2)


def _jpeg(rgb, quality):
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])


def test_a_toned_jpeg_gets_a_black_and_white_reading(sample_test):
    """A sepia photo saved as JPEG: its chroma noise keeps it off the monochrome path, so reading 1 reads it as colour,
    but a black-and-white reading is among the candidates and it turns a colour photo toned grey."""
    photo = np.asarray(Image.open(sample_test).convert("RGB"))
    grey = photo @ np.array([0.299, 0.587, 0.114])
    sepia = _jpeg((grey[..., None] * np.array([1.0, 0.9, 0.72])).astype(np.uint8), 75)
    tpl = load_template(sepia)
    assert 0.005 <= tpl.grey < FitSettings().monochrome_reading  # not taken for black-and-white, but close
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        look = lf.fit_look(sepia, candidates=4)
        none = lf.fit_look(sepia, settings=FitSettings(monochrome_reading=0.0))
        colour = lf.fit_look(photo, candidates=4)
    assert look.meta["original"] != "monochrome path"
    kinds = [c.kind for c in look.candidates]
    assert "monochrome" in kinds and kinds.index("monochrome") < 4
    assert "monochrome" not in [c.kind for c in none.candidates]
    assert "monochrome" not in [c.kind for c in colour.candidates]  # a colour photo is not offered one
    # nor a flat template, even with a kept weight given (the monochrome path refuses flat templates too)
    flat = np.full((64, 64, 3), (200, 190, 170), np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "monochrome" not in [c.kind for c in lf.fit_look(flat, guess_weight=0.7).candidates]
    frame = np.asarray(Image.open(ROOT / "livefilter" / "data" / "sample_before.jpg").convert("RGB"))
    bw = look.pick(kinds.index("monochrome") + 1)
    out = bw.apply(frame).astype(float)
    # toned grey: warm, and a function of the frame's grey alone (as the frame's own grey version gives)
    grey_frame = np.repeat((frame @ np.array([0.299, 0.587, 0.114]))[..., None], 3, 2).round().astype(np.uint8)
    assert (out[..., 0] - out[..., 2]).mean() > 8
    assert np.abs(out - bw.apply(grey_frame)).mean() < 2
    assert np.abs(out - look.apply(frame)).mean() > 10  # unlike reading 1, which reads the template as colour


def test_no_reading_of_a_black_and_white_photo_turns_colours_into_their_opposites(sample_after):
    # its bold reading took the desaturation past grey: red became cyan, green magenta, blue yellow
    grey = np.asarray(Image.open(sample_after).convert("L").convert("RGB"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        look = lf.fit_look(grey, candidates=6)
    assert look.meta["original"] == "monochrome path" and "bold" not in [c.kind for c in look.candidates]
    patches = np.array([[[204, 51, 51], [51, 204, 51], [51, 51, 204], [200, 160, 60]]], np.uint8)
    chroma_in = patches - patches.mean(-1, keepdims=True)
    for i, c in enumerate(look.candidates, 1):
        out = look.pick(i).apply(patches).astype(float)
        chroma_out = out - out.mean(-1, keepdims=True)
        assert (chroma_out * chroma_in).sum(-1).min() > -50, (c.kind, out)  # at most a trace of the opposite


def test_the_black_and_white_reading_takes_cluster_2s_place():
    order = readings.POOL_ORDER
    assert readings.offered_order(order, ["bold", "cluster 2", "gentle"]) == order
    shown = readings.offered_order(order, ["bold", "cluster 2", "gentle", "monochrome"])
    assert shown[:4] == ("bold", "monochrome", "gentle", "cluster 2") and sorted(shown[4:]) == sorted(order[3:])
    assert readings.offered_order(("gentle",), ["monochrome"]) == ("gentle", "monochrome")


def test_a_lone_far_look_is_no_family_of_the_neighbours():
    # 12 ordinary looks in two families, and one look far from all (a colour negative) with little weight
    rng = np.random.default_rng(0)
    offs = np.concatenate([rng.normal(0.0, 0.01, (7, 6)), rng.normal(0.1, 0.01, (5, 6)), np.full((1, 6), 0.9)])
    w = np.array([0.1] * 7 + [0.056] * 5 + [0.02])
    loose = readings._families(offs, w, 0.0)
    assert [12] in [list(m) for m in loose]  # without a floor the outlier is cluster 2 on its own
    fams = readings._families(offs, w, 0.05)
    assert sorted(sorted(m.tolist()) for m in fams) == [list(range(7)), list(range(7, 12))]
    assert all(w[m].sum() >= 0.05 for m in fams)
    assert [m.tolist() for m in readings._families(offs[[0, 12]], w[[0, 12]], 0.05)] == [[0]]
    # a heavy look and a tail of light ones, each farther out: the peeling stops once min_support is left out (left
    # to go on, it peeled the tail down to the heavy look alone, 0.55 of the weight)
    tail = np.zeros((11, 6))
    tail[1:, 0] = np.geomspace(0.05, 2.0, 10)
    tw = np.array([0.55] + [0.045] * 10)
    fams = readings._families(tail, tw, 0.1)
    assert [m.tolist() for m in fams] == [list(range(7))] and sum(tw[m].sum() for m in fams) > 0.8


@pytest.mark.parametrize("kind", ["flat", "tiny", "2x2", "grey", "huge"])
def test_hard_templates_yield_finite_candidates(kind, photo):
    rng = np.random.default_rng(0)
    img = {"flat": np.full((64, 64, 3), (120, 90, 60), np.uint8),
           "tiny": photo[100:106, 100:108].copy(),
           "2x2": rng.integers(0, 256, (2, 2, 3)).astype(np.uint8),  # fewer pixels than the library's 5 bands
           "grey": np.repeat(photo.mean(2, keepdims=True).astype(np.uint8), 3, 2),
           "huge": np.repeat(np.repeat(photo, 6, 0), 6, 1)}[kind]
    if kind == "flat":
        img = np.clip(img.astype(int) + rng.integers(-1, 2, img.shape), 0, 255).astype(np.uint8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        look = lf.fit_look(img, candidates=4)
    assert 1 <= len(look.candidates) <= 4
    for c in look.candidates:
        assert np.isfinite(c.lut.table).all()
    if len(look.candidates) < 4:  # fewer: a line says which were near-duplicates
        assert any("near-duplicates" in str(w.message) for w in caught)


def test_candidates_out_of_range_is_an_error(photo):
    for bad in (0, MAX_CANDIDATES + 1):
        with pytest.raises(InputError, match="candidates"):
            lf.fit_look(photo, candidates=bad)


def test_cli_fit_candidates_pick_preview_and_info(tmp_path, sample_after, sample_test, capsys):
    code = main(["fit", str(sample_after), "-o", str(tmp_path / "l.look.npz"), "--candidates", "4",
                 "--preview", str(tmp_path / "sheet.png"), "--test-photo", str(sample_test)])
    out, err = capsys.readouterr()
    assert code == 0, err
    look = lf.load_look(tmp_path / "l.look.npz")
    n = len(look.candidates)
    assert f"readings: {n}" in out and "*1 automatic" in out
    # each reading's line says what it does, then its confidence
    from livefilter.look.character import character
    assert all(f"{i} {c.kind}" + (f" ({c.note})" if c.note else "") + f": {character(c.lut)}; confidence "
               f"{c.confidence['level']}" in out for i, c in enumerate(look.candidates, 1))
    assert "--preview SHEET.png" not in out  # the hint only where no sheet was asked for
    # the sheet shows each reading whole: what apply and live give the test photo (its scene similarity) is said
    s = scene_similarity(sample_after, sample_test)
    assert s < 1 and f"{sample_test}: its scene differs from the template's (similarity {s:.2f}): apply and live " \
        f"give it {s:.0%} of the look" in out
    sheet = Image.open(tmp_path / "sheet.png")
    assert sheet.width > sheet.height * (n + 1)  # the template, the test photo and every reading in a row
    code = main(["fit", str(sample_after), "-o", str(tmp_path / "two.cube"), "--pick", "2"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"*2 {look.candidates[1].kind}" in out
    # the lines on top describe the reading the file holds (they said reading 1's share kept and confidence)
    second = look.candidates[1]
    assert out.startswith(f"wrote {tmp_path / 'two.cube'} (reading 2 of {len(look.candidates)}, {second.kind}")
    assert f"confidence {second.confidence['level']}; " in out.splitlines()[0]
    assert out.splitlines()[1].startswith("reading 1's confidence: ")
    assert "see them side by side: add --preview SHEET.png --test-photo" in out
    assert f"live --template {sample_after} --preview" in out  # a .cube keeps one reading: live fits the photo
    cube = lf.read_lut(tmp_path / "two.cube")
    assert np.abs(cube.table - look.candidates[1].lut.table).max() < 1e-5
    code = main(["fit", str(sample_after), "-o", str(tmp_path / "one.cube"), "--preview", str(tmp_path / "s.png"),
                 "--test-photo", str(sample_test)])
    out, err = capsys.readouterr()
    assert code == 0 and "wrote" in out and "apply and live give it" not in out, err  # a .cube keeps no scene
    code = main(["fit", str(sample_after), "-o", str(tmp_path / "x.cube"), "--pick", str(n + 1)])
    out, err = capsys.readouterr()
    assert code == 2 and len(err.strip().splitlines()) == 1 and f"--pick {n + 1}" in err
    assert not (tmp_path / "x.cube").exists()
    code = main(["info", str(tmp_path / "l.look.npz")])
    out, err = capsys.readouterr()
    assert code == 0 and f"readings: {n}" in out
    assert f"character: {character(look.lut)}\n" in out and f"1 automatic: {character(look.lut)}; " in out
    assert all(f"{i} {c.kind}" in out for i, c in enumerate(look.candidates, 1))
    # apply --pick grades with another reading of the saved look (its scene similarity kept)
    from livefilter.batch.images import grade_image

    code = main(["apply", str(tmp_path / "l.look.npz"), str(sample_test), "-o", str(tmp_path / "picked.png"),
                 "--no-face-protect", "--pick", "2"])
    assert code == 0, capsys.readouterr().err
    got, test = lf.read_image(tmp_path / "picked.png").astype(int), lf.read_image(sample_test)
    saved = lf.load_look(tmp_path / "l.look.npz")
    want = [grade_image(saved.pick(k), test, face_protect=False).astype(int) for k in (2, 1)]
    assert np.abs(got - want[0]).max() <= 1 and np.abs(got - want[1]).mean() > 0.5
    # --no-scene: the full look outside faces, as the reading's own LUT gives it
    code = main(["apply", str(tmp_path / "l.look.npz"), str(sample_test), "-o", str(tmp_path / "flat.png"),
                 "--no-face-protect", "--pick", "2", "--no-scene"])
    assert code == 0, capsys.readouterr().err
    flat = lf.read_image(tmp_path / "flat.png").astype(int)
    assert np.abs(flat - saved.pick(2).apply(test).astype(int)).max() <= 1
    assert np.abs(flat - got).mean() > 0.3  # the scene similarity had held some of the look back
    code = main(["apply", str(tmp_path / "l.look.npz"), str(sample_test), "-o", str(tmp_path / "x.png"),
                 "--pick", str(n + 1)])
    _, err = capsys.readouterr()
    assert code == 2 and f"--pick {n + 1}" in err and "l.look.npz" in err and not (tmp_path / "x.png").exists()


def test_cli_test_photo_needs_a_preview(tmp_path, sample_after, sample_test, capsys):
    code = main(["fit", str(sample_after), "-o", str(tmp_path / "l.cube"), "--test-photo", str(sample_test)])
    _, err = capsys.readouterr()
    assert code == 2 and "--preview" in err


def test_delta_e00_matches_skimage():
    skimage_color = pytest.importorskip("skimage.color")
    rng = np.random.default_rng(1)
    a, b = rng.random((2000, 3)), rng.random((2000, 3))
    la, lb = readings.srgb_to_lab(a), readings.srgb_to_lab(b)
    assert np.abs(la - skimage_color.rgb2lab(a[None])[0]).max() < 0.01  # D65 white point constants differ a little
    ref = skimage_color.deltaE_ciede2000(la[None], lb[None])[0]
    assert np.abs(readings.delta_e00(la, lb) - ref).max() < 1e-9


def test_shipped_library_matches_its_notice():
    path = library.LIBRARY_PATH
    notice = (ROOT / "models" / "NOTICE").read_text()
    assert hashlib.sha256(path.read_bytes()).hexdigest() in notice
    lib = library.LookLibrary(path)
    assert path.stat().st_size <= 10 * 1024 * 1024 and len(lib.names) == len(lib.folders)


def test_library_build_is_deterministic(shared_data, tmp_path):
    """Two builds from the same data write the same bytes (a few photos here; the full build: the slow test)."""
    builds = [subprocess.Popen([sys.executable, str(ROOT / "tools" / "build_look_library.py"), "--photos", "2",
                                "--synthetic", "4", "--out", str(tmp_path / name)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for name in ("a.npz", "b.npz")]  # side by side: each is one core's work
    for build in builds:
        _, err = build.communicate(timeout=600)
        assert build.returncode == 0, err
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    lib = library.LookLibrary(tmp_path / "a.npz")
    assert lib.entries.shape[0] == 2 * library_entries_per_photo() and np.isfinite(lib.offsets).all()


def library_entries_per_photo() -> int:
    sys.path.insert(0, str(ROOT / "tools"))
    from build_look_library import ENTRIES_PER_PHOTO

    return ENTRIES_PER_PHOTO


@pytest.mark.slow
def test_shipped_library_re_creates_to_the_same_bytes(shared_data):
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "build_look_library.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0 and "same bytes" in res.stdout, res.stdout + res.stderr


def test_the_automatic_reading_adds_a_capped_share_of_the_library_reading(sample_after, tmp_path):
    """Reading 1 = the fitted look + FitSettings.library_share x the neighbour reading's change, that addition at
    most FitSettings.library_cap long per colour (a one-photo network fit); library_share 0 gives the fitted look
    alone. The saved look keeps the cap; a look saved before the cap loads uncapped, as it was made."""
    from livefilter.imageio import read_image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = lf.fit_look(sample_after, candidates=1, settings=FitSettings(candidates=1, library_share=0.0))
        look = lf.fit_look(sample_after, candidates=1)
    assert plain.meta["library_share"] is None and look.meta["library_share"] == FitSettings().library_share
    lib, nb = readings.nearest_looks(load_template(read_image(sample_after)).without_border().work, FitSettings())
    mean = readings.neighbour_mean(lib, nb)
    x = np.random.default_rng(2).random((1000, 3))
    share, cap = FitSettings().library_share, FitSettings().library_cap
    add = share * (mean(x) - x)
    length = np.linalg.norm(add, axis=1, keepdims=True)
    capped = add * np.minimum(1.0, cap / length)
    assert (length > cap).any() and (length < cap).any()  # the sample photo's look has both kinds of colour
    assert np.allclose(look.mapping(x), plain.mapping(x) + capped, atol=1e-6)
    assert np.linalg.norm(look.mapping(x) - plain.mapping(x), axis=1).max() <= cap + 1e-9
    again = lf.load_look(look.save(tmp_path / "l.look.npz"))
    assert np.allclose(again.mapping(x), look.mapping(x), atol=1e-9)
    old = {k: v for k, v in look.mapping.to_dict().items() if k != "cap"}
    from livefilter.look.coverage import mapping_from_any

    assert np.allclose(mapping_from_any(old)(x), plain.mapping(x) + add, atol=1e-6)


def test_with_strength_keeps_a_1d_curve(tmp_path):
    """A look saved at a strength (the live 's' key) blends in output space, a 1D gamma curve included."""
    curves = np.linspace(0, 1, 256)[:, None].repeat(3, 1) ** (1 / 2.2)
    look = lf.Look(lut=lf.Lut.from_curves(curves))
    half = look.with_strength(0.5)
    x = np.array([[0.05, 0.2, 0.5]])
    assert np.allclose(half.lut.apply_float(x), 0.5 * x + 0.5 * x ** (1 / 2.2), atol=2e-3)


def test_a_saved_pick_survives_the_file_and_a_bad_one_is_one_line(one_photo_look, tmp_path):
    import json
    import zipfile

    path = one_photo_look.pick(3).save(tmp_path / "l.look.npz")
    assert lf.load_look(path).picked == 3
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    arrays["meta"] = np.array(json.dumps(meta | {"picked": 9}))
    np.savez(tmp_path / "bad.look.npz", **arrays)
    with pytest.raises(InputError, match="picked reading 9"):
        lf.load_look(tmp_path / "bad.look.npz")
    assert zipfile.is_zipfile(path)


def test_an_exported_reading_says_which_it_is_and_its_own_confidence(one_photo_look, tmp_path, capsys):
    # a .cube of reading 3 said reading 1's confidence ("medium" for a "low" reading) and not which reading it held
    third = one_photo_look.candidates[2]
    path = one_photo_look.pick(3).save(tmp_path / "l3.cube")
    header = [ln for ln in path.read_text().splitlines() if ln.startswith("#")]
    assert f"# reading: 3 of {len(one_photo_look.candidates)} ({third.kind}" in "\n".join(header)
    assert f"# confidence: {third.confidence['level']}" in "\n".join(header)
    assert main(["info", str(path)]) == 0
    said = capsys.readouterr().out
    assert f"confidence: {third.confidence['level']}" in said and "reading:   3 of" in said
    # reading 1's file: as before, the fit's confidence
    one = one_photo_look.save(tmp_path / "l1.cube").read_text()
    assert f"# confidence: {one_photo_look.meta['confidence']['level']} (colours cover" in one
    assert "# reading:" not in one
    # a .look.npz keeps them all: its confidence line is the picked reading's too (it was reading 1's, noted)
    assert main(["info", str(one_photo_look.pick(3).save(tmp_path / "l3.look.npz"))]) == 0
    assert f"\nconfidence: {third.confidence['level']}" in capsys.readouterr().out
    # one reading saved alone (live's s, with_strength): its own confidence and "N of K", not a dict
    alone = one_photo_look.pick(3).with_strength(0.5).save(tmp_path / "alone.look.npz")
    assert main(["info", str(alone)]) == 0
    said = capsys.readouterr().out
    assert f"\nconfidence: {third.confidence['level']}" in said and "\nreading:   3 of " in said, said
    assert said.count("\nstrength:") == 1 and "\nchange:    mean distance" in said  # two "strength" lines were
    # no library look is named by its internal number
    assert not any(re.search(r"synthetic \d", c.note) for c in one_photo_look.candidates)


def test_cli_pick_beyond_the_readings_asked_is_refused_before_the_fit(tmp_path, sample_after, capsys):
    code = main(["fit", str(sample_after), "-o", str(tmp_path / "l.cube"), "--candidates", "2", "--pick", "3"])
    _, err = capsys.readouterr()
    assert code == 2 and "--candidates" in err and not (tmp_path / "l.cube").exists()


def test_fit_says_a_black_and_white_reading_is_given_whole(tmp_path, capsys):
    """The sheet shows each reading whole; a black-and-white one is what apply and live give too (faces and unlike
    scenes get all of it), and fit said instead what share of it the test photo's scene would get."""
    photo = lf.read_image(ROOT / "livefilter" / "data" / "sample_after.jpg")
    grey = np.repeat((photo.astype(float) @ [0.299, 0.587, 0.114]).round().astype(np.uint8)[..., None], 3, -1)
    Image.fromarray(grey).save(tmp_path / "bw.png")
    test = ROOT / "livefilter" / "data" / "sample_test.jpg"
    code = main(["fit", str(tmp_path / "bw.png"), "-o", str(tmp_path / "bw.look.npz"), "--preview",
                 str(tmp_path / "s.png"), "--test-photo", str(test)])
    out, err = capsys.readouterr()
    assert code == 0 and lf.load_look(tmp_path / "bw.look.npz").monochrome, err
    assert (f"{test}: a black-and-white look: apply and live give every picture all of it, faces and unlike scenes "
            "too") in out and "of the look" not in out, out


def test_readings_derived_from_the_fit_share_its_confidence_and_the_sheet_says_each(tmp_path, capsys, monkeypatch):
    """The gentle reading (half the fitted look) was always "medium": a user choosing by confidence took it over a
    "low" automatic reading it rarely beats. The contact sheet's tiles said no confidence (the terminal's list had
    to be read beside it)."""
    from livefilter import preview

    automatic = readings.Reading("automatic", lambda x: x ** 1.5, {"level": "low", "kept": 0.4})
    pool, _ = readings.candidate_readings(automatic, None, FitSettings(), gentle=lambda x: x ** 1.2,
                                          bold=lambda x: x ** 2.0)
    assert {r.kind: r.confidence["level"] for r in pool} == {"automatic": "low", "bold": "low", "gentle": "low"}
    captions = []

    def sheet(rows, **kw):
        captions.extend(c for c, _ in rows[0])
        return np.zeros((8, 8, 3), np.uint8)

    monkeypatch.setattr(preview, "contact_grid", sheet)
    code = main(["fit", str(ROOT / "livefilter" / "data" / "sample_after.jpg"), "-o", str(tmp_path / "l.cube"),
                 "--preview", str(tmp_path / "s.png")])
    out, err = capsys.readouterr()
    assert code == 0, err
    listed = re.findall(r"^\s+\*?(\d) ([\w ]+?)(?: \([^)]*\))?: ([^;]+); confidence (low|medium|high)", out, re.M)
    # each tile: its number and kind (the file's "saved"), and below its confidence and what it does, as the
    # terminal says it
    assert len(listed) >= 2 and [c for c in captions if c[0].isdigit()] == [
        f"{n} {kind}" + (" (saved)" if n == "1" else "") + f"\n{level} confidence: {does}"
        for n, kind, does, level in listed], (out, captions)


def test_pick_on_a_file_of_one_reading_says_which_it_holds(tmp_path, capsys):
    """`apply reading2.cube --pick 3` said "there is no reading 3: this look has 1 (1..1)" of a file whose header says
    it is reading 2 of 4; `fit --pick 5` did not say how to have 5."""
    sample = ROOT / "livefilter" / "data" / "sample_after.jpg"
    assert main(["fit", str(sample), "-o", str(tmp_path / "two.cube"), "--pick", "2"]) == 0
    capsys.readouterr()
    assert main(["apply", str(tmp_path / "two.cube"), str(sample), "-o", str(tmp_path / "o.png"), "--pick", "3"]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(r"livefilter: error: .*two\.cube: --pick 3: this file holds reading 2 of \d \(\w+\) alone; "
                        r"--pick chooses among the readings a \.look\.npz keeps\n", err), err
    assert main(["fit", str(sample), "-o", str(tmp_path / "x.cube"), "--pick", "5"]) == 2
    assert "--pick 5: only 4 readings asked for (--candidates 5 asks for 5)" in capsys.readouterr().err
    assert main(["fit", str(sample), "-o", str(tmp_path / "x.cube"), "--pick", str(MAX_CANDIDATES + 3)]) == 2
    assert f"(--candidates goes up to {MAX_CANDIDATES})" in capsys.readouterr().err
