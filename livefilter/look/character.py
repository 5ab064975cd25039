"""A look's character in words: what it does to greys (a cast, tints in the shadows or highlights, brightness,
contrast, the black and white points) and to colours (saturation, a family's hue turned, black-and-white), each with
its degree ("slightly", "much"), measured in CIELAB on fixed probe colours.

Shown beside each reading (``fit``, ``info``, the contact sheet, live's HUD, ``apply``) so that a user choosing between
readings knows what each one does before looking, and by ``info`` for any look file (a .cube from elsewhere too).
The thresholds are about what shows in a photo side by side (a CIELAB difference of 3 is about 2-3 CIEDE2000);
checked against the looks' own names in ../shared (docs/decisions.md "look character").
"""

from __future__ import annotations

import functools

import numpy as np

from .. import srgb
from ..errors import InputError
from .readings import srgb_to_lab

# a difference at or above these is said (CIELAB units; contrast and saturation as ratios)
CAST = 3.0  # a grey's a*b* moved this far: a cast (the mid-tones) or a tint (shadows or highlights)
TINT_APART = 4.0  # a shadow or highlight tint: its distance from the mid-tones' over this is its weight
LEVEL = 3.0  # mid-grey lighter or darker by this much L*
POINT = 4.0  # black raised, or white lowered, by this much L*
CONTRAST = 0.10  # the mid-tones' L* slope up or down by this share
SATURATION = 0.12  # the colours' chroma up or down by this share
FAMILY = 0.25  # one family of colours (the reds, the greens...) alone: its chroma up or down by this share
GREY = 0.2  # chroma kept below this share: black-and-white
SHOWN = 4  # at most this many traits, the largest first
SLIGHT = 0.6  # from this share of its threshold a trait is said "slightly ..." (a gentle reading's look)
MUCH = 4.0  # from this many times its threshold a trait is said "much ..." (a bold reading's)
TURN = 40.0  # a family of colours whose hue turns this many degrees: "greens turn blue"

# Lab hue angle (degrees) -> a tint's name; each bin's upper bound (sRGB's red, orange, yellow, green, cyan, blue and
# magenta lie at 40, 63, 103, 136, 196, 306 and 328; a tint of red and green alike over blue, at 105-110, is yellow)
_HUES = ((15, "magenta"), (50, "red"), (75, "orange"), (115, "yellow"), (165, "green"), (235, "teal"), (315, "blue"),
         (360, "magenta"))
# an overall cast said as a change of the whole picture, and a black-and-white look's tone
_CASTS = {"red": "warmer", "orange": "warmer", "yellow": "warmer", "teal": "cooler", "blue": "cooler",
          "green": "greener", "magenta": "more magenta"}
_TONES = {"red": "sepia", "orange": "sepia", "yellow": "sepia", "teal": "blue", "blue": "blue", "green": "green",
          "magenta": "magenta"}
_SIDES = {"warm": {"magenta", "red", "orange", "yellow"}, "cool": {"green", "teal", "blue"}}
BAND_APART = 45.0  # a shadow or highlight tint this many degrees of hue from the mid-tones' is named on its own


def hue_name(a: float, b: float) -> str:
    """The name of the hue of CIELAB (a*, b*)."""
    h = float(np.degrees(np.arctan2(b, a)) % 360)  # (a float's % 360 can round to 360.0 itself)
    return next((name for top, name in _HUES if h < top), _HUES[-1][1])


@functools.lru_cache(maxsize=1)
def _probes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greys from black to white (21), a ring of moderately saturated colours (24 hues at two levels) and the ring's
    greys, sRGB."""
    greys = np.repeat(np.linspace(0.0, 1.0, 21)[:, None], 3, 1)
    h = np.arange(24) / 24.0
    ring = []
    for v in (0.8, 0.55):  # HSV with saturation 0.5: room to go both more and less saturated
        k = (np.array([5.0, 3.0, 1.0])[None] + h[:, None] * 6) % 6
        ring.append(v - v * 0.5 * np.clip(np.minimum(k, 4 - k), 0, 1))
    ring = np.concatenate(ring)
    # each colour's grey of the same luminance: a colour's chroma is measured from where the look takes its grey,
    # so that a cast or a tone is not read as saturation (a sepia look keeps no colour of its own)
    y = srgb.decode(ring) @ np.array([0.2126729, 0.7151522, 0.0721750])
    probes = greys, ring, np.repeat(srgb.encode(y)[:, None], 3, 1)
    for a in probes:  # cached: a look function that writes into its input must not change them for the next call
        a.flags.writeable = False
    return probes


def traits(look) -> list[tuple[float, str]]:
    """What ``look`` (a function of (n, 3) sRGB floats in [0, 1]) does, as (how far past its threshold, phrase),
    largest first, each phrase with its degree ("slightly cooler" from SLIGHT of its threshold, "much cooler" from
    MUCH times it); empty for a look that changes nothing visibly."""
    greys, ring, ring_greys = _probes()
    outs = [np.asarray(look(p.copy()), np.float64) for p in (greys, ring, ring_greys)]
    if not all(np.isfinite(o).all() for o in outs):  # (a LUT is finite; a function given by a script may not be)
        raise InputError("the look gave colours that are not finite (NaN or infinite)")
    g_in, g_out = srgb_to_lab(greys), srgb_to_lab(np.clip(outs[0], 0, 1))
    c_in, c_out = srgb_to_lab(ring), srgb_to_lab(np.clip(outs[1], 0, 1))
    neutral = srgb_to_lab(np.clip(outs[2], 0, 1))[:, 1:]
    found: list[tuple[float, str, str]] = []  # (ratio to the threshold, phrase, how its degree is said)
    own = c_out[:, 1:] - neutral  # each colour's own colour, from where the look takes its grey
    kept = np.hypot(*own.T) / np.hypot(*c_in[:, 1:].T)
    chroma = float(np.median(kept))
    mono = chroma < GREY
    L = g_in[:, 0]
    slope = (np.interp(70.0, L, g_out[:, 0]) - np.interp(30.0, L, g_out[:, 0])) / 40.0
    inverted = slope < 0  # a negative: its end points and contrast are the inversion's, not a fade's
    if inverted:
        found.append((np.inf, "inverted (a negative)", ""))
    found += _tints(g_out, L, mono)
    names = [hue_name(*c) for c in c_in[:, 1:]]
    members = {n: np.array([m == n for m in names]) for n in dict.fromkeys(names)}
    family = {n: float(np.mean(kept[m])) for n, m in members.items()}
    if mono:  # a colour kept where the rest goes grey (a colour splash: "black-and-white but reds")
        most = max(family, key=family.get)
        found.append((np.inf, "black-and-white" + (f" but {most}s" if family[most] >= 0.5 else ""), ""))
    else:  # all colours, or some alone ("muted greens and blues", "richer reds") where all change less
        overall = (abs(chroma - 1) / SATURATION, "more saturated" if chroma > 1 else "muted colours",
                   "much" if chroma > 1 else "strongly")
        alone = []
        if overall[0] < 1 and not inverted:  # (a negative turns every hue: no family is its own)
            for sign, word, much in ((-1, "muted", "strongly"), (1, "richer", "much")):
                picked = sorted((n for n, r in family.items() if sign * (r - 1) >= FAMILY),
                                key=lambda n: -sign * (family[n] - 1))
                if picked:
                    side = next((k for k, m in _SIDES.items() if len(picked) > 2 and set(picked) <= m), None)
                    what = f"{side} colours" if side else " and ".join(n + "s" for n in picked[:2])
                    alone.append((sign * (family[picked[0]] - 1) / FAMILY, f"{word} {what}", much))
        found += alone or [overall]
    if not mono and not inverted:
        found += _hue_turns(c_in[:, 1:], own, kept, members)
    if not inverted:
        mid = np.interp(50.0, L, g_out[:, 0]) - 50.0
        found.append((abs(mid) / LEVEL, "brighter" if mid > 0 else "darker", "much"))
        found.append((abs(slope - 1) / CONTRAST, "more contrast" if slope > 1 else "less contrast", "much"))
        found.append(((g_out[0, 0] - g_in[0, 0]) / POINT, "lifted blacks", "strongly"))
        found.append(((g_in[-1, 0] - g_out[-1, 0]) / POINT, "dimmer whites", "much"))
    return sorted(((r, _degree(r, phrase, much)) for r, phrase, much in found if r >= SLIGHT), key=lambda t: -t[0])


def _degree(r: float, phrase: str, much: str) -> str:
    """The phrase with its degree: "slightly" ("faint" for a tint) under its threshold, ``much`` ("much",
    "strongly", "strong") from MUCH times it; none for a phrase without degrees (black-and-white and its tone, a
    negative, a hue turned)."""
    if not much or not np.isfinite(r):
        return phrase
    if r < 1:
        return ("faint " if much == "strong" else "slightly ") + phrase
    return f"{much} {phrase}" if r >= MUCH else phrase


def _hue_turns(hue_in: np.ndarray, own: np.ndarray, kept: np.ndarray, members: dict) -> list:
    """Families of colours whose hue the look turns TURN degrees or more ("greens turn blue"), the two turned most;
    colours the look greys out are not counted."""
    turns = []
    for name, m in members.items():
        m = m & (kept >= 0.4)
        if not m.any():
            continue
        turn = np.angle(np.mean(np.exp(1j * (np.arctan2(own[m, 1], own[m, 0])
                                             - np.arctan2(hue_in[m, 1], hue_in[m, 0])))), deg=True)
        to = hue_name(*own[m].mean(0))
        if abs(turn) >= TURN and to != name:
            turns.append((abs(turn) / TURN, f"{name}s turn {to}", ""))
    return sorted(turns, key=lambda t: -t[0])[:2]


def _tints(g_out: np.ndarray, L: np.ndarray, mono: bool) -> list[tuple[float, str, str]]:
    """The greys' tints: the mid-tones' as a cast of the whole picture ("warmer"; a black-and-white look's tone),
    the shadows' and highlights' named on their own where their hue is another, or they are tinted and the mid-tones
    not, or twice as strongly (a cast that grows with brightness, as a white balance does, is one cast)."""
    shadows, mid, highlights = (g_out[(L >= lo) & (L <= hi), 1:].mean(0) for lo, hi in ((15, 38), (40, 62), (64, 88)))
    found = []
    c_mid = float(np.hypot(*mid))
    if c_mid >= SLIGHT * CAST:
        name = hue_name(*mid)
        found.append((c_mid / CAST, *((f"{_TONES[name]}-toned", "") if mono else (_CASTS[name], "much"))))
    for band, where in ((shadows, "shadows"), (highlights, "highlights")):
        c = float(np.hypot(*band))
        if c < SLIGHT * CAST:
            continue
        turn = abs((np.degrees(np.arctan2(band[1], band[0]) - np.arctan2(mid[1], mid[0])) + 180) % 360 - 180)
        if c_mid < SLIGHT * CAST or turn > BAND_APART or c >= 2 * c_mid:
            found.append((float(np.hypot(*(band - mid))) / TINT_APART, f"{hue_name(*band)} {where}", "strong"))
    return found


def character(look, shown: int = SHOWN, strength: float = 1.0) -> str:
    """What ``look`` does in a few words ("warmer, teal shadows, lifted blacks"); ``look`` is a function of (n, 3)
    sRGB floats in [0, 1] or anything with ``apply_float`` (a :class:`~livefilter.Lut`); ``strength``: the share of it
    rendered (as render's strength: apply --strength 0.3 of a 'much cooler' look is 'cooler')."""
    full = look.apply_float if hasattr(look, "apply_float") else look
    fn = full if strength == 1.0 else (lambda x: x + strength * (np.asarray(full(x), np.float64) - x))
    words = [w for _, w in traits(fn)[:shown]]
    return ", ".join(words) if words else "no clear change of tone or colour"


def reading_character(reading) -> str:
    """What a :class:`~livefilter.look.readings.Reading` does: of its baked LUT, or of its mapping where it has none
    (a reading made in a script)."""
    return character(reading.lut if reading.lut is not None else reading.mapping)
