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
    assert words[0] == "black-and-white" and words[1] in ("orange-toned", "yellow-toned", "red-toned")


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
    assert t[0][1] == "warmer" and [s for s, _ in t] == sorted((s for s, _ in t), reverse=True)
    assert len(character(strong_warm_slightly_brighter, shown=1).split(", ")) == 1


def test_hue_names_of_srgb_primaries():
    named = {name: hue_name(*srgb_to_lab(np.array(rgb, float))[1:]) for name, rgb in
             (("red", (1, 0, 0)), ("yellow", (1, 1, 0)), ("green", (0, 0.6, 0)), ("teal", (0, 0.6, 0.6)),
              ("blue", (0, 0, 1)), ("magenta", (1, 0, 1)))}
    assert named == {"red": "red", "yellow": "yellow", "green": "green", "teal": "teal", "blue": "blue",
                     "magenta": "purple"}  # sRGB's magenta lies between blue and pink: "purple" as a tint


def test_a_look_and_a_lut_say_their_character():
    table = np.clip(identity_table(17) * [1.08, 1.0, 0.85], 0, 1)
    assert "warmer" in lf.Look(lut=Lut(table)).character
    assert "warmer" in character(Lut(table))


def test_a_caption_second_line_is_drawn_below_the_first():
    img = np.full((40, 60, 3), 128, np.uint8)
    one = contact_sheet([("a", img)], height=40)
    two = contact_sheet([("a\nwarmer, lifted blacks", img), ("b", img)], height=40)
    assert two.shape[0] == one.shape[0] + LINE_H
    pad, rows = 8, slice(40 + 28, 40 + 28 + LINE_H)
    second = two[pad:][rows, pad:pad + 60]
    assert (second > 100).any()  # text under the first tile
    assert not (two[pad:][rows, pad + 60 + pad: pad + 120 + pad] > 100).any()  # none under the second


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
    assert code == 0 and "\ncharacter: warmer" in out and "readings:" not in out
