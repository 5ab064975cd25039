"""A look's character in words (livefilter.look.character): each trait from a look built to have it, none from
identity, the largest first; shown beside each reading in fit / info, under each reading on the contact sheet and
in live's HUD."""

import numpy as np
import pytest

import livefilter as lf
from livefilter.look.character import character, hue_name, traits
from livefilter.look.readings import srgb_to_lab
from livefilter.luts.lut import Lut, identity_table
from livefilter.preview import LINE_H, contact_sheet


def _luma(x):
    return (x @ np.array([0.2126, 0.7152, 0.0722]))[..., None]


def _saturate(k):
    return lambda x: np.clip(_luma(x) + k * (x - _luma(x)), 0, 1)


LOOKS = {
    "warmer": lambda x: np.clip(x * [1.08, 1.0, 0.85], 0, 1),
    "cooler": lambda x: np.clip(x * [0.88, 1.0, 1.1], 0, 1),
    "greener": lambda x: np.clip(x * [0.92, 1.04, 0.92], 0, 1),
    "lifted blacks": lambda x: 0.12 + 0.88 * x,
    "dimmer whites": lambda x: 0.85 * x,
    "more contrast": lambda x: np.clip(0.5 + 1.3 * (x - 0.5), 0, 1),
    "less contrast": lambda x: 0.5 + 0.75 * (x - 0.5),
    "brighter": lambda x: x ** 0.8,
    "darker": lambda x: x ** 1.25,
    "more saturated": _saturate(1.4),
    "muted colours": _saturate(0.6),
    "black-and-white": _saturate(0.0),
}


@pytest.mark.parametrize("trait", list(LOOKS))
def test_each_trait_is_found_in_a_look_made_to_have_it(trait):
    words = [w for _, w in traits(LOOKS[trait])]
    assert trait in words, words


def test_identity_and_a_tiny_change_are_no_clear_change():
    assert character(Lut.identity()) == "no clear change of tone or colour"
    assert character(lambda x: np.clip(x * [1.01, 1.0, 0.99], 0, 1)) == "no clear change of tone or colour"


def test_split_toning_names_the_shadows_and_highlights_and_not_an_overall_cast():
    teal, orange = np.array([-0.08, 0.02, 0.03]), np.array([0.09, 0.0, -0.06])  # mid-grey untouched

    def teal_orange(x):
        y = _luma(x)
        return np.clip(x + np.clip(0.5 - y, 0, None) * 2 * teal + np.clip(y - 0.5, 0, None) * 2 * orange, 0, 1)

    words = character(teal_orange, shown=9).split(", ")
    assert "teal shadows" in words and "orange highlights" in words
    assert "warmer" not in words and "cooler" not in words


def test_a_colour_splash_names_the_colour_kept():
    def only_reds(x):
        lab = srgb_to_lab(x)
        red = (np.abs(((np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) - 40 + 180) % 360) - 180) < 25)[..., None]
        return np.where(red, x, np.repeat(_luma(x), 3, -1))

    assert character(only_reds).startswith("black-and-white but reds")


def test_a_toned_black_and_white_look_says_its_tone():
    sepia = lambda x: np.clip(_luma(x) * [1.07, 0.98, 0.82], 0, 1)  # noqa: E731
    words = character(sepia).split(", ")
    assert words[:2] == ["black-and-white", "sepia-toned"]
    assert not any(w.endswith(("shadows", "highlights")) for w in words)  # the tone grows with brightness: one tone


def test_one_family_of_colours_alone_is_named():
    def mute_blues(x):
        lab = srgb_to_lab(x)
        h = np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360
        blue = ((h > 240) & (h < 320))[..., None]
        return np.where(blue, _luma(x) + 0.4 * (x - _luma(x)), x)

    words = character(mute_blues).split(", ")
    assert "muted blues" in words and "muted colours" not in words


def test_the_largest_trait_comes_first_and_shown_limits_them():
    def strong_warm_slightly_brighter(x):
        return np.clip((x * [1.2, 1.0, 0.7]) ** 0.92, 0, 1)

    t = traits(strong_warm_slightly_brighter)
    assert t[0][1] == "much warmer" and [s for s, _ in t] == sorted((s for s, _ in t), reverse=True)
    assert len(character(strong_warm_slightly_brighter, shown=1).split(", ")) == 1


def test_hue_names_of_srgb_primaries():
    named = {name: hue_name(*srgb_to_lab(np.array(rgb, float))[1:]) for name, rgb in
             (("red", (1, 0, 0)), ("yellow", (1, 1, 0)), ("green", (0, 0.6, 0)), ("teal", (0, 0.6, 0.6)),
              ("blue", (0, 0, 1)), ("magenta", (1, 0, 1)))}
    assert named == {"red": "red", "yellow": "yellow", "green": "green", "teal": "teal", "blue": "blue",
                     "magenta": "magenta"}
    # a tint of red and green alike over blue is yellow (it was "green" at 107-109 degrees), pink is magenta
    assert hue_name(*srgb_to_lab(np.array([0.9, 0.9, 0.8]))[1:]) == "yellow"
    assert hue_name(*srgb_to_lab(np.array([1.0, 0.6, 0.7]))[1:]) == "magenta"


def test_a_look_and_a_lut_say_their_character():
    table = np.clip(identity_table(17) * [1.08, 1.0, 0.85], 0, 1)
    assert "warmer" in lf.Look(lut=Lut(table)).character
    assert "warmer" in character(Lut(table))


def test_a_caption_second_line_is_drawn_below_the_first_and_wrapped_on_a_narrow_tile():
    img = np.full((40, 300, 3), 128, np.uint8)
    one = contact_sheet([("a", img)], height=40)
    two = contact_sheet([("a\nwarmer, lifted blacks", img), ("b", img)], height=40)
    assert two.shape[0] == one.shape[0] + LINE_H
    pad, rows = 8, slice(40 + 28, 40 + 28 + LINE_H)
    second = two[pad:][rows, pad:pad + 300]
    assert (second > 100).any()  # text under the first tile
    assert not (two[pad:][rows, pad + 300 + pad: pad + 600 + pad] > 100).any()  # none under the second
    # a portrait photo's tile: the line is cut after its commas and colons (then between words) onto more lines,
    # each as wide as the tile at most (putText clips at the cell's edge, so the pixels cannot tell)
    from livefilter.preview import _caption_lines, text_width

    caption = "3 cluster 2\nlow confidence: strongly muted colours, much darker, inverted (a negative)"
    for width in (135, 180, 320):
        lines = _caption_lines(caption, width, 0.47)
        assert all(text_width(text, scale) <= width - 12 for text, scale, _ in lines[1:]), (width, lines)
        assert " ".join(t for t, _, _ in lines[1:]) == caption.split("\n")[1]  # every word, in order
    sheet = contact_sheet([("1 bold\nwarmer, lifted blacks, muted colours", np.full((40, 50, 3), 128, np.uint8))],
                          height=40)
    assert sheet.shape[0] > one.shape[0] + LINE_H  # more lines than one


def test_info_says_what_any_look_file_does(tmp_path, capsys):
    from livefilter.cli import main

    path = tmp_path / "warm.cube"
    lf.write_lut(path, Lut(np.clip(identity_table(17) * [1.08, 1.0, 0.85], 0, 1)))
    assert main(["info", str(path)]) == 0
    assert "\ncharacter: warmer" in capsys.readouterr().out


def test_fit_with_the_original_says_what_its_one_look_does(tmp_path, sample_before, capsys):
    from livefilter.cli import main
    from livefilter.imageio import read_image, write_image

    warm = np.clip(read_image(sample_before) * np.array([1.1, 1.0, 0.8]), 0, 255).astype(np.uint8)
    write_image(tmp_path / "after.png", warm)
    code = main(["fit", str(tmp_path / "after.png"), "--original", str(sample_before), "-o", str(tmp_path / "l.cube")])
    out = capsys.readouterr().out
    assert code == 0 and "\ncharacter: " in out and "warmer" in out.split("\ncharacter: ")[1] and "readings:" not in out


def test_a_grid_leaves_blank_cells_and_sizes_columns_to_their_widest_image():
    from livefilter.preview import BACKGROUND, contact_grid

    wide, tall = np.full((40, 80, 3), 200, np.uint8), np.full((40, 20, 3), 200, np.uint8)
    sheet = contact_grid([[("t", wide), ("a", wide)], [("", None), ("b", tall)]], height=40, pad=8)
    assert sheet.shape == (8 + (40 + 28) + 8 + (40 + 28) + 8, 8 + 80 + 8 + 80 + 8, 3)
    second = sheet[8 + 68 + 8:][:40]
    assert (second[:, 8:88] == BACKGROUND).all()  # the blank cell
    assert (second[:, 96:116] == 200).all() and (second[:, 116:176] == BACKGROUND).all()  # tall image, then blank


def test_the_sheet_has_a_row_per_test_photo(tmp_path, sample_after, sample_test, sample_before, capsys):
    """One test photo could be given: a user choosing a reading for their own pictures (a face, a room, a landscape)
    saw each reading on one of them."""
    from PIL import Image

    from livefilter.cli import main

    sheet = tmp_path / "sheet.png"
    code = main(["fit", str(sample_after), "-o", str(tmp_path / "l.cube"), "--preview", str(sheet),
                 "--test-photo", str(sample_test), str(sample_before)])
    out, err = capsys.readouterr()
    assert code == 0, err
    one = tmp_path / "one.png"
    assert main(["fit", str(sample_after), "-o", str(tmp_path / "m.cube"), "--preview", str(one),
                 "--test-photo", str(sample_test)]) == 0
    capsys.readouterr()
    two, single = Image.open(sheet), Image.open(one)
    assert two.width == single.width and two.height > 1.8 * single.height  # a second row of the same columns
    # the look file's scene is not kept in a .cube: no similarity lines; a .look.npz says in one line what apply and
    # live give each test photo (a line each repeated the same words)
    code = main(["fit", str(sample_after), "-o", str(tmp_path / "l.look.npz"), "--preview", str(sheet),
                 "--test-photo", str(sample_test), str(sample_before)])
    out, err = capsys.readouterr()
    assert code == 0, err
    said = [line for line in out.splitlines() if line.startswith("apply and live give ")]
    assert len(said) == 1 and f"{sample_test} " in said[0] and f"{sample_before} " in said[0], out
    assert "(each photo's scene against the template's), faces less" in said[0]


def test_more_test_photos_than_the_sheet_takes_is_one_line(tmp_path, sample_after, sample_test, capsys):
    from livefilter.cli import main
    from livefilter.cli.fit import MAX_TEST_PHOTOS

    code = main(["fit", str(sample_after), "-o", str(tmp_path / "l.cube"), "--preview", str(tmp_path / "s.png"),
                 "--test-photo", *[str(sample_test)] * (MAX_TEST_PHOTOS + 1)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and f"at most {MAX_TEST_PHOTOS}" in err
    assert not (tmp_path / "l.cube").exists()
    code = main(["fit", str(sample_after), "-o", str(tmp_path / "l.cube"), "--preview", str(tmp_path / "s.png"),
                 "--test-photo", str(sample_test), str(tmp_path / "missing.jpg")])
    err = capsys.readouterr().err
    assert code == 2 and "missing.jpg" in err and len(err.strip().splitlines()) == 1


def test_a_white_balance_is_one_cast_not_three():
    """A cast that grows with brightness (a white balance: R x 1.1, B x 0.85) said "warmer, yellow highlights,
    yellow shadows"; a warm tint of the highlights alone turned the whole picture "greener"."""
    assert character(lambda x: np.clip(x * [1.1, 1.0, 0.85], 0, 1), shown=9) in ("warmer", "much warmer")

    def warm_highlights(x):
        return np.clip(x + np.clip(_luma(x) - 0.6, 0, None) * [0.25, 0.12, -0.25], 0, 1)

    words = character(warm_highlights, shown=9).split(", ")
    assert words[0] in ("orange highlights", "yellow highlights") and "greener" not in words


def test_a_negative_is_said_to_be_one():
    """1 - x read as "lifted blacks, dimmer whites, less contrast, brighter"."""
    words = character(lambda x: 1.0 - x, shown=9).split(", ")
    assert words[0] == "inverted (a negative)"
    assert not {"lifted blacks", "dimmer whites", "less contrast", "more contrast"} & set(words)
    # every hue of a negative turns: no family's turn or saturation is its own (they filled the four places)
    assert not any(" turn " in w or w.startswith(("richer", "muted")) for w in words), words


def test_test_photos_before_the_template_say_why_the_template_is_missing(tmp_path, sample_after, sample_test,
                                                                          capsys):
    from livefilter.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["fit", "--preview", str(tmp_path / "s.png"), "--test-photo", str(sample_test), str(sample_after),
              "-o", str(tmp_path / "l.cube")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "required: template (--test-photo takes every photo after it: give the template before it)" in err
    with pytest.raises(SystemExit):
        main(["fit", "-o", str(tmp_path / "l.cube")])
    assert "--test-photo" not in capsys.readouterr().err  # the hint only where --test-photo took it


def test_apply_says_which_reading_grades_and_what_it_does(tmp_path, sample_after, sample_test, capsys):
    """apply LOOK.look.npz --pick 3 graded without a word of which reading it took or what it does."""
    from livefilter.cli import main

    assert main(["fit", str(sample_after), "-o", str(tmp_path / "l.look.npz")]) == 0
    look = lf.load_look(tmp_path / "l.look.npz")
    capsys.readouterr()
    assert main(["apply", str(tmp_path / "l.look.npz"), str(sample_test), "-o", str(tmp_path / "a.jpg")]) == 0
    out = capsys.readouterr().out
    n = len(look.candidates)
    assert f"reading 1 of {n} (automatic): {look.character}; --pick N grades with another\n" in out
    assert main(["apply", str(tmp_path / "l.look.npz"), str(sample_test), "-o", str(tmp_path / "b.jpg"),
                 "--pick", "2"]) == 0
    out = capsys.readouterr().out
    assert f"reading 2 of {n} ({look.candidates[1].kind}): {look.pick(2).character}\n" in out
    look.save(tmp_path / "l.cube")
    assert main(["apply", str(tmp_path / "l.cube"), str(sample_test), "-o", str(tmp_path / "c.jpg")]) == 0
    assert f" of {n} (" not in capsys.readouterr().out  # a .cube holds one look


def test_the_degree_of_each_trait_tells_a_gentle_reading_from_a_bold_one():
    """The automatic, bold and gentle readings of one look read alike ('cooler, darker, dimmer whites'): they differ
    in how much, which the words did not say; a gentle reading under every threshold said 'no clear change'."""
    def cool(k):
        return lambda x: np.clip(x * (1 + k * np.array([-0.12, 0.0, 0.12])), 0, 1)

    words = [character(cool(k), shown=1) for k in (0.25, 0.6, 1.6)]
    assert words == ["slightly cooler", "cooler", "much cooler"], words


def test_a_hue_turned_is_said():
    """A reading that turned foliage purple and a blue cap green read 'darker, greener, more contrast, muted
    colours': the change a user sees first went unsaid."""
    def turn_greens(x):
        lab = srgb_to_lab(x)
        h = np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360
        green = ((h > 115) & (h < 165))[..., None]
        return np.where(green, x[..., [2, 0, 1]], x)  # greens' channels rotated: green to blue

    words = character(turn_greens, shown=9).split(", ")
    assert any(w.startswith("greens turn ") and w != "greens turn green" for w in words), words
    assert not any("turn" in w for w in character(LOOKS["warmer"], shown=9).split(", "))


def test_apply_says_a_face_kept_more_of_its_own_colour(tmp_path, sample_before, capsys):
    """The contact sheet shows each reading whole; apply then gave a face less of it without a word (a user picked
    a cold reading for the face on the sheet and got a warm face)."""
    from livefilter.cli import main

    cube = tmp_path / "cold.cube"
    lf.write_lut(cube, Lut(np.clip(identity_table(17) * [0.85, 1.0, 1.15], 0, 1)))
    assert main(["apply", str(cube), str(sample_before), "-o", str(tmp_path / "a.jpg")]) == 0
    assert "; a face keeps more of its own colour, --no-face-protect for the whole look)" in capsys.readouterr().out
    assert main(["apply", str(cube), str(sample_before), "-o", str(tmp_path / "b.jpg"), "--no-face-protect"]) == 0
    assert "own colour" not in capsys.readouterr().out


def test_info_reads_as_prose_and_says_reading_1s_reasons_once(tmp_path, sample_after, capsys):
    """info printed 'guess_weight: 0.41952594246086344' and 'look_prior: {'share': 0.5, 'change': 10.31}', and reading
    1's line repeated the confidence line's reasons word for word (a narrow template's sentence three times in fit)."""
    import re

    from livefilter.cli import main

    assert main(["fit", str(sample_after), "-o", str(tmp_path / "l.look.npz")]) == 0
    fit_out = capsys.readouterr().out
    assert main(["info", str(tmp_path / "l.look.npz")]) == 0
    out = capsys.readouterr().out
    look = lf.load_look(tmp_path / "l.look.npz")
    assert re.search(r"^guess_weight: 0\.\d{1,3}$", out, re.M), out
    assert re.search(r"^look_prior: share 0\.5, change \d+(\.\d{1,3})?$", out, re.M), out
    level = look.meta["confidence"]["level"]
    for text in (out, fit_out):
        assert re.search(rf"^\s+\*1 automatic: [^;]+; confidence {level}$", text, re.M), text


def test_edges_of_the_words():
    """A hue at 360 degrees after rounding raised StopIteration; a look that writes into its input changed the
    cached probe colours; a reading made in a script without a baked LUT had no words; a function giving NaN was
    'no clear change'."""
    from livefilter.look.character import reading_character
    from livefilter.look.readings import Reading

    assert hue_name(3.0, -1e-15) == "magenta"

    def in_place(x):
        x *= 0.5
        return x

    first = character(in_place)
    assert character(in_place) == first and character(Lut.identity()) == "no clear change of tone or colour"
    assert reading_character(Reading("bold", LOOKS["warmer"])) == character(LOOKS["warmer"])
    with pytest.raises(lf.InputError, match="not finite"):
        character(lambda x: x * np.nan)


def test_info_of_a_look_saved_with_reading_2_keeps_reading_1s_reasons(tmp_path, sample_before, capsys):
    """Reading 1's reasons were cut as the confidence line's, but that line says reading 2's when reading 2 is
    picked: reading 1's went unsaid and reading 2's came twice."""
    import cv2

    from livefilter.cli import main
    from livefilter.cli.info import _plain
    from livefilter.imageio import read_image

    grey = read_image(sample_before).astype(float) @ np.array([0.299, 0.587, 0.114])
    sepia = np.clip(grey[..., None] * [1.0, 0.9, 0.72], 0, 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "sepia.jpg"), sepia[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert main(["fit", str(tmp_path / "sepia.jpg"), "-o", str(tmp_path / "l.look.npz"), "--pick", "2"]) == 0
    capsys.readouterr()
    look = lf.load_look(tmp_path / "l.look.npz")
    why = look.meta["confidence"]["why"]
    assert why  # a narrow template: its reasons
    assert main(["info", str(tmp_path / "l.look.npz")]) == 0
    line1 = next(ln for ln in capsys.readouterr().out.splitlines() if ln.lstrip().startswith("1 automatic"))
    assert why[0] in line1
    assert (_plain(1534.7), _plain(18480.0), _plain(0.41952594246086344)) == ("1534.7", "18480", "0.42")
    assert _plain({"a": {"b": 1}, "c": 2.0}) == "a {'b': 1}, c 2"


def test_apply_says_the_words_at_the_strength_it_grades_at(tmp_path, sample_after, sample_test, capsys):
    from livefilter.cli import main

    assert main(["fit", str(sample_after), "-o", str(tmp_path / "l.look.npz")]) == 0
    look = lf.load_look(tmp_path / "l.look.npz")
    capsys.readouterr()
    assert main(["apply", str(tmp_path / "l.look.npz"), str(sample_test), "-o", str(tmp_path / "a.jpg"),
                 "--strength", "0.3", "--pick", "2"]) == 0
    words = character(look.pick(2).lut, strength=0.3)
    assert words != look.pick(2).character
    assert f"reading 2 of {len(look.candidates)} ({look.candidates[1].kind}): {words} (at strength 0.3)\n" in \
        capsys.readouterr().out
