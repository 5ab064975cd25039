"""A look from several photos in it (fit A B C): the photos' automatic readings averaged and taken further from doing
nothing; readings ranked and distinct; what goes with one photo refused; the CLI and the .look.npz carry it."""

import warnings

import numpy as np
import pytest

import livefilter as lf
from livefilter.cli import main
from livefilter.errors import InputError, VideoDecodeError
from livefilter.imageio import read_image, write_image
from livefilter.look.fit import MAX_TEMPLATES, SEVERAL_READINGS
from livefilter.look.look import BAKE_RANGE

from ..conftest import ROOT

DATA = ROOT / "livefilter" / "data"


def _teal_orange(rgb: np.ndarray) -> np.ndarray:
    """A strong creative grade: shadows to teal, highlights to orange, a little contrast."""
    x = rgb.astype(np.float64) / 255
    y = x.mean(-1, keepdims=True)
    out = x + (0.5 - y) * np.array([-0.18, 0.02, 0.16]) + (y - 0.5) * np.array([0.16, 0.04, -0.14])
    return (np.clip(0.5 + 1.1 * (out - 0.5), 0, 1) * 255 + 0.5).astype(np.uint8)


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    d = tmp_path_factory.mktemp("several")
    paths = []
    for name in ("sample_before.jpg", "sample_test.jpg"):
        img = read_image(DATA / name)
        for k, part in enumerate((img, img[:, ::-1][: img.shape[0] * 3 // 4])):  # the photo and a mirrored crop
            paths.append(d / f"{name[:-4]}_{k}.png")
            write_image(paths[-1], _teal_orange(part))
    return paths[:3]


def _fit(t, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lf.fit_look(t, **kw)


def test_the_photos_readings_are_averaged_and_taken_further(templates):
    look = _fit(templates)
    singles = [_fit(t, candidates=1).lut.table for t in templates]
    ident = lf.identity_table(33)
    strengths = dict(SEVERAL_READINGS)
    average = np.mean(singles, axis=0)
    for r in look.candidates:
        want = np.clip(ident + strengths[r.kind] * (average - ident), *BAKE_RANGE)
        assert np.abs(r.lut.table - want).max() < 1e-5, r.kind
    kinds = [c.kind for c in look.candidates]
    assert kinds[0] == "automatic" and kinds == [k for k, _ in SEVERAL_READINGS if k in kinds]
    assert look.lut is look.candidates[0].lut
    # a strong grade: the average is more than 2 dE00 from the rest, so all three are offered
    assert kinds == ["automatic", "bold", "gentle"]
    assert look.meta["confidence"]["photos"] == 3 and len(look.meta["templates"]) == 3
    # the several photos' look is further from doing nothing than one photo's (less hedged)
    assert np.abs(look.lut.table - ident).mean() > np.abs(singles[0] - ident).mean() * 1.2


def test_what_goes_with_one_photo_is_refused(templates):
    for kw, what in (({"original": DATA / "sample_before.jpg"}, "an original"), ({"segments": True}, "segments"),
                     ({"guess_weight": 0.5}, "a kept weight")):
        with pytest.raises(InputError, match=what):
            _fit(templates, **kw)
    with pytest.raises(InputError, match=f"2 to {MAX_TEMPLATES}, got 9"):
        _fit(templates * 3)
    with pytest.raises(InputError, match="are the same picture"):  # it would count twice
        _fit([templates[0], templates[1], templates[0]])
    copy = templates[0].with_suffix(".copy.jpg")  # re-saved: the same picture
    write_image(copy, read_image(templates[0]), quality=80)
    with pytest.raises(InputError, match="are the same picture"):
        _fit([templates[0], copy])
    rgb = read_image(templates[0])
    bars = np.zeros((rgb.shape[0] // 5, rgb.shape[1], 3), np.uint8)
    boxed = templates[0].with_suffix(".bars.png")  # letterboxed: the same picture inside its bars
    write_image(boxed, np.concatenate([bars, rgb, bars]))
    with pytest.raises(InputError, match="are the same picture"):
        _fit([templates[0], boxed])
    mirrored = templates[0].with_suffix(".mirror.png")  # mirrored: the same colours, nothing new of the look
    write_image(mirrored, np.ascontiguousarray(rgb[:, ::-1]))
    with pytest.raises(InputError, match="are the same picture"):
        _fit([templates[0], mirrored])
    with pytest.raises(InputError, match="not a list"):
        _fit([templates[:2], templates[2:]])
    assert _fit(templates[:1], candidates=1).meta["template"] == str(templates[0])  # a list of one: one photo


def test_the_cli_learns_from_several_photos(templates, tmp_path, capsys):
    out = tmp_path / "look.look.npz"
    assert main(["fit", *map(str, templates), "-o", str(out), "--preview", str(tmp_path / "sheet.png")]) == 0
    said, err = capsys.readouterr()
    assert "asked" not in err  # the default asks for what several photos give: no count line
    assert "from 3 photos: their readings averaged, 150% of the average's change" in said
    assert "confidence: medium (3 photos, their readings averaged" in said
    look = lf.load_look(out)
    assert [c.kind for c in look.candidates] == ["automatic", "bold", "gentle"]
    assert "scene" not in look.meta  # several scenes: the scene similarity stays 1
    assert main(["info", str(out)]) == 0
    assert f"templates: {templates[0]} (" in capsys.readouterr().out
    assert main(["fit", *map(str, templates), "-o", str(tmp_path / "bold.cube"), "--pick", "2", "--candidates",
                 "9"]) == 0
    # more asked than several photos give: said, with how many they give
    assert "3 readings of 9 asked: a look from several photos has at most 3" in capsys.readouterr().err
    assert np.allclose(lf.read_lut(tmp_path / "bold.cube").table, look.candidates[1].lut.table, atol=1e-4)
    assert read_image(tmp_path / "sheet.png").shape[1] > 5 * 200  # 3 templates, the test photo, 3 readings
    code = main(["fit", *map(str, templates), "--original", str(templates[0]), "-o", str(tmp_path / "x.cube")])
    assert code == 2 and "--original goes with one photo" in capsys.readouterr().err
    code = main(["fit", *map(str, templates * 3), "-o", str(tmp_path / "x.cube")])
    assert code == 2 and f"a look is learnt from at most {MAX_TEMPLATES}" in capsys.readouterr().err
    assert not (tmp_path / "x.cube").exists()


def _clip(path, frames_of, n=40, rotation=0):
    import av

    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=10)
        vs.width, vs.height, vs.pix_fmt = 256, 170, "yuv420p"
        if rotation:
            vs.set_display_rotation(rotation)
        for i in range(n):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(frames_of(i)), format="rgb24")
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)


def test_a_video_is_read_from_its_most_colourful_stills(tmp_path, capsys):
    import cv2

    shots = [cv2.resize(_teal_orange(read_image(DATA / n)), (256, 170))
             for n in ("sample_before.jpg", "sample_test.jpg")]
    src = tmp_path / "film.mp4"
    _clip(src, lambda i: shots[0] * 0 if 8 <= i < 32 else shots[i // 32])  # a long fade to black between two shots
    look = _fit(str(src))
    assert look.meta["video"] == str(src) and "several" in look.meta
    times = [t["template"].rsplit(" at ", 1)[1] for t in look.meta["templates"]]
    seconds = [float(t.split(":")[-1]) for t in times]
    assert all(s < 0.8 or s >= 3.2 for s in seconds), times  # no black still: the shots only
    out = tmp_path / "film.look.npz"
    assert main(["fit", str(src), "-o", str(out), "--preview", str(tmp_path / "sheet.png")]) == 0
    said = capsys.readouterr().out
    assert f"stills: {', '.join(times)} of {src} (the most colourful of 12" in said
    assert f"from {len(times)} stills: their readings averaged" in said
    code = main(["fit", str(src), str(DATA / "sample_after.jpg"), "-o", str(tmp_path / "x.cube")])
    assert code == 2 and "a video is read from its stills: give it alone" in capsys.readouterr().err
    code = main(["live", "--template", str(src), "--synthetic", "--record", str(tmp_path / "rec.mp4"), "--size",
                 "320x180", "--frames", "5", "--backend", "cpu", "--no-face-protect"])
    err = capsys.readouterr().err
    assert code == 0 and "scene similarity off" not in err, err  # live learns it too, no one scene kept
    with pytest.raises(InputError, match="a video is read from its stills"):
        _fit([str(src), str(DATA / "sample_after.jpg")])
    still = tmp_path / "still.mp4"  # one shot: one picture, read as one photo (its readings, no boost)
    _clip(still, lambda i: shots[1])
    look = _fit(str(still))
    assert "several" not in look.meta and look.meta["video"] == str(still) and len(look.candidates) > 1
    # its lines name the still (they said "template: ..."), and the stills line why there is one
    assert main(["fit", str(still), "--candidates", "9", "-o", str(tmp_path / "still.cube")]) == 0
    said, err = capsys.readouterr()
    assert "(the most colourful of 12 times spread over it; 1 of the 5 wanted: the others showed" in said
    assert f"warning: {still} at 00:00:" in err and "template:" not in err, err
    black = tmp_path / "black.mp4"
    _clip(black, lambda i: shots[0] * 0)
    assert main(["fit", str(black), "-o", str(tmp_path / "x.cube")]) == 2
    assert "no still of the video shows a picture" in capsys.readouterr().err


def _title_card(i: int) -> np.ndarray:
    """White "text" (strokes with soft edges, as a font's anti-aliasing gives) on black: a film's title card."""
    import cv2

    card = np.zeros((170, 256, 3), np.uint8)
    cv2.putText(card, "A FILM BY", (30, 95), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2, cv2.LINE_AA)
    return card


def test_title_cards_are_never_a_video_s_stills(tmp_path, capsys):
    """A title card (white text on black) was taken as a still, and a video of one read as a strong black-and-white
    look: its anti-aliased edges gave it enough colours. A still mostly of one colour is not taken."""
    import cv2

    from livefilter.look.stills import video_stills

    shot = cv2.resize(_teal_orange(read_image(DATA / "sample_test.jpg")), (256, 170))
    film = tmp_path / "film.mp4"
    _clip(film, lambda i: _title_card(i) if i < 28 else shot)  # the card for 2.8 s of 4
    stills = video_stills(film)
    assert stills and all(float(label.rsplit(":", 1)[1]) >= 2.8 for label, _ in stills), [s[0] for s in stills]
    card = tmp_path / "card.mp4"
    _clip(card, _title_card)
    assert main(["fit", str(card), "-o", str(tmp_path / "x.cube")]) == 2
    err = capsys.readouterr().err
    assert "no still of the video shows a picture" in err and "title cards" in err
    assert not (tmp_path / "x.cube").exists()
    from livefilter.look.stills import _colours, thumbnail

    studio = np.full((170, 256, 3), 236, np.uint8)  # as flat, but its far marks are a coloured subject: a picture
    studio[60:110, 100:150] = (180, 140, 120)
    assert _colours(thumbnail(_title_card(0)))[1] and not _colours(thumbnail(studio))[1]


def test_a_damaged_stretch_of_a_video_gives_no_still(tmp_path, caplog):
    """A keyframe damaged (bytes lost in a copy): the frames decoded from it up to the next keyframe are garbage the
    decoder does not flag, and fit learnt from a still of green blocks without a word. They are left out, said."""
    import av

    from livefilter.look.stills import video_stills
    from livefilter.media.codec import decode
    from livefilter.media.probe import probe

    shot = _teal_orange(read_image(DATA / "sample_test.jpg"))[:170, :256]
    film = tmp_path / "film.mp4"
    _clip(film, lambda i: np.roll(shot, 3 * i, axis=1))  # one keyframe: x264's default is one every 250 frames
    with av.open(str(film)) as c:
        first = next(p for p in c.demux(video=0) if p.size)
    data = bytearray(film.read_bytes())
    at = first.pos + first.size // 2
    data[at:at + 64] = bytes(64)  # inside the first keyframe's slice data: it decodes, flagged damaged
    film.write_bytes(bytes(data))
    info = probe(film, chunk_seconds=0)
    with pytest.raises(VideoDecodeError, match="corrupt video data at 00:00:00.500"):
        next(decode(info, start=info.start_pts + round(0.5 / info.time_base)))  # decoded from the damaged frame 0
    with caplog.at_level("WARNING", logger="livefilter"), pytest.raises(InputError, match="no still of the video"):
        video_stills(film)
    assert [r.getMessage() for r in caplog.records] == [f"{film}: corrupt video data at 00:00:00.400: the stills "
                                                        "there are left out"]


def test_a_phone_video_s_stills_stand_up_and_are_called_stills(tmp_path, capsys):
    # a phone's portrait clip is stored landscape with a display rotation: its stills were read (and shown on the
    # sheet) lying on their side, and its look's lines said "5 photos"
    import cv2

    from livefilter.look.stills import video_stills

    shots = [cv2.resize(_teal_orange(read_image(DATA / n)), (256, 170))
             for n in ("sample_before.jpg", "sample_test.jpg")]
    src = tmp_path / "phone.mp4"
    _clip(src, lambda i: shots[i // 20], rotation=90)
    stills = video_stills(src)
    assert len(stills) > 1 and all(rgb.shape == (256, 170, 3) for _, rgb in stills)
    # as players show it: a quarter turn counter-clockwise of the stored frame (within the codec's error)
    assert np.abs(stills[0][1].astype(int) - np.rot90(shots[0], 1)).mean() < 4
    code = main(["fit", str(src), "-o", str(tmp_path / "p.look.npz"), "--pick", "4"])
    assert code == 2 and f"--pick 4: a look from {len(stills)} stills of a video has at most 3 readings" \
        in capsys.readouterr().err
    assert not (tmp_path / "p.look.npz").exists()
    assert main(["fit", str(src), "-o", str(tmp_path / "p.look.npz")]) == 0
    said = capsys.readouterr().out
    assert f"({len(stills)} stills, their readings averaged" in said
    assert " photos" not in said.replace("YOUR_PHOTO", "")
    assert lf.load_look(tmp_path / "p.look.npz").meta["original"] == f"{len(stills)} stills"
    assert main(["info", str(tmp_path / "p.look.npz")]) == 0
    assert "original:" not in capsys.readouterr().out  # no original was given: "several" says how many stills
    # live takes a video template too: an original with it is refused naming the video (a one-still video as well)
    code = main(["live", "--template", str(src), "--original", str(DATA / "sample_before.jpg"), "--synthetic",
                 "--frames", "3", "--backend", "cpu", "--record", str(tmp_path / "rec.mp4")])
    assert code == 2 and f"{src}: a video is read from its stills' look alone: an original" in capsys.readouterr().err
    with pytest.raises(InputError, match="segments"):
        _fit(str(src), segments=True)
    with pytest.raises(InputError, match="a video is read from its stills' look alone"):  # in a list, as alone
        _fit([str(src)], original=str(DATA / "sample_before.jpg"))
    with pytest.raises(InputError, match="a saliency mask"):  # an array given: refused, not a ValueError
        _fit(str(src), saliency_mask=np.ones((8, 8), np.float32))


def test_black_and_white_photos_are_not_taken_past_their_look(tmp_path):
    # the monochrome path is not hedged: taken 1.5 or 2.5 times as far, its desaturation went past grey and the
    # colours of every photo came out inverted (a red parrot teal)
    paths = []
    for k, name in enumerate(("sample_before.jpg", "sample_test.jpg", "sample_after.jpg")):
        img = read_image(DATA / name).astype(np.float64)
        grey = img @ np.array([0.3, 0.59, 0.11])
        paths.append(tmp_path / f"bw{k}.png")
        write_image(paths[-1], np.repeat(np.clip(grey * 1.1 - 8, 0, 255)[..., None], 3, -1).astype(np.uint8))
    look = _fit(paths)
    test = read_image(DATA / "sample_test.jpg")
    for r in look.candidates:
        out = lf.render(test, r.lut).astype(np.float64)
        chroma_in, chroma_out = test - test.mean(-1, keepdims=True), out - out.mean(-1, keepdims=True)
        corr = np.corrcoef(chroma_in.ravel(), chroma_out.ravel())[0, 1]
        assert np.abs(chroma_out).mean() < 0.2 * np.abs(chroma_in).mean() or corr > 0.5, (r.kind, corr)
    assert look.meta["confidence"]["level"] != "high" or all(
        t["confidence"]["level"] == "high" for t in look.meta["templates"])
    with pytest.warns(UserWarning, match="read as black-and-white, the other photos in colour"):
        lf.fit_look([paths[0], _colour(tmp_path)])


def _colour(tmp_path):
    path = tmp_path / "colour.png"
    write_image(path, _teal_orange(read_image(DATA / "sample_test.jpg")))
    return path


def test_a_grey_still_among_colour_ones_is_named_by_its_time(tmp_path):
    """The warning named "template 1" for a video's black-and-white still (a still has no file of its own)."""
    import cv2

    colour = cv2.resize(_teal_orange(read_image(DATA / "sample_test.jpg")), (256, 170))
    grey = np.repeat(cv2.cvtColor(cv2.resize(read_image(DATA / "sample_before.jpg"), (256, 170)),
                                  cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    film = tmp_path / "film.mp4"
    _clip(film, lambda i: grey if i < 20 else colour)
    with pytest.warns(UserWarning, match=rf"{film} at 00:00:0[0-9.]+: read as black-and-white, the other stills in "
                                         "colour"):
        lf.fit_look(str(film))


def test_shots_of_one_scene_are_read_once(tmp_path):
    # a burst (the scene moved by a few pixels, a little lighter, noisier) counted as several photos of the look: their
    # network guesses err alike, and averaged and taken further they read worse than one of them (docs/decisions.md)
    img = _teal_orange(read_image(DATA / "sample_test.jpg"))
    h, w = img.shape[:2]
    s, t = w // 40, h // 60
    rng = np.random.default_rng(0)
    moved = np.clip(img[t:, s:].astype(np.float64) * 1.04 + rng.normal(0, 3, img[t:, s:].shape), 0, 255)
    burst = [np.ascontiguousarray(img[: h - t, : w - s]), moved.astype(np.uint8)]
    other = _teal_orange(read_image(DATA / "sample_before.jpg"))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        one = lf.fit_look(burst, candidates=4)
        two = lf.fit_look([*burst, other], candidates=3)
    lines = [str(x.message) for x in said]
    assert lines.count("template 2: a shot of the scene in template 1 (moved by a few pixels): that scene is read "
                       "once") == 2, lines
    assert "several" not in one.meta and len(one.candidates) == 4  # one photo's readings
    assert "scene" in one.meta  # kept as one photo's is, unless asked not to
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "scene" not in lf.fit_look(burst, candidates=1, scene=False).meta
        # a video's stills: each entry named by its own still's time, the merged one left out
        from livefilter.look.fit import fit_video

        clip = fit_video("clip.mp4", [("clip.mp4 at 0:01.0", burst[0]), ("clip.mp4 at 0:02.0", burst[1]),
                                      ("clip.mp4 at 0:03.0", other)], candidates=1)
    assert [e["template"] for e in clip.meta["templates"]] == ["clip.mp4 at 0:01.0", "clip.mp4 at 0:03.0"]
    assert one.meta["template_sha256"] == lf.fit_look(burst[0], candidates=1, scene=False).meta["template_sha256"]
    assert two.meta["several"]["photos"] == 2  # the burst once, and the other photo
