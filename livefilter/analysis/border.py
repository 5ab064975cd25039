"""A uniform border around a picture: a movie still's letterbox bars, a posted photo's white or black frame.

A one-photo fit leaves it out (livefilter.look.template): its colour says nothing of the look, and it biased every
reading (80 validation looks given black bars of 14 % top and bottom: reading 1 8.63 ΔE00 against 7.86 with the bars
left out, best of 4 7.64 against 6.66; docs/decisions.md 'template border'). The scene similarity needs no such
care: a photo and itself with black bars or a white frame are the same scene to it (s = 1 on 40 validation photos).

A border is a run of lines at both of two opposite edges (top and bottom, then left and right inside them), each line
within BORDER_TOLERANCE of its edge's colour on all but BORDER_OUTLIERS of its pixels, in a neutral colour (channels
within BORDER_NEUTRAL), the two edges' colours alike, and each run ending at a straight edge: within BORDER_BLEND
lines (JPEG's ringing, a resize's blending) a line is off the border's colour on at least BORDER_EDGE of its pixels.
A sky at the top alone, a coloured wall or a product shot's white backdrop (it goes on around the subject) is not
one: on the 387 photos of ../shared none was taken for one, while the 10 with a real frame or bars were found, and
95 of 96 of them given black bars were (94 a white frame, 95 JPEG-compressed bars). A border is looked for on a copy of
about 512 px: on a larger image one thinner than a line of that copy (a 1-3 px outline on a 12 MP photo) is averaged
into the picture's first line there and stays, which costs nothing measurable; next to black bars, a dark picture's
own first lines within the copy's BORDER_BLEND lines can be cut with them.
"""

from __future__ import annotations

import numpy as np

BORDER_TOLERANCE = 10  # code values, on a copy of about 512 px (JPEG noise, the area resize's blending)
BORDER_OUTLIERS = 0.05
BORDER_NEUTRAL = 24  # code values between a border colour's channels (black, white, grey; a warm paper white)
BORDER_EDGE = 0.5  # share of the line past the border that is off its colour: a straight edge, not a backdrop
BORDER_BLEND = 8  # working lines between the uniform run and the picture's edge, at most
BORDER_KEEP = 0.25  # the picture inside keeps at least this share of each side, or nothing is cut


def _off(lines: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """The share of each line's pixels ((n, length, 3) lines) off ``colour`` by more than BORDER_TOLERANCE."""
    return (np.abs(lines.astype(np.int16) - colour).max(axis=2) > BORDER_TOLERANCE).mean(axis=1)


def _edge_run(lines: np.ndarray) -> tuple[int, np.ndarray]:
    """How many of ``lines`` ((n, length, 3), the edge's first) are a border in the first one's colour (0 if none),
    and that colour; the lines before the straight edge are the border."""
    colour = np.median(lines[0], axis=0).astype(np.int16)
    start = 0
    for start in range(0, len(lines), 16):  # blocks: most photos end their run on the first line
        bad = np.flatnonzero(_off(lines[start:start + 16], colour) > BORDER_OUTLIERS)
        if bad.size:
            start += int(bad[0])
            break
    else:
        return 0, colour
    edge = np.flatnonzero(_off(lines[start:start + BORDER_BLEND], colour) >= BORDER_EDGE) if start else ()
    return (start + int(edge[0]) if len(edge) else 0), colour


def _border_pair(a: np.ndarray) -> tuple[int, int, np.ndarray, np.ndarray]:
    """The border lines at the top and the bottom of ``a`` (rows), (0, 0) when there is no pair, and their
    colours."""
    n_top, c_top = _edge_run(a)
    n_bot, c_bot = _edge_run(a[::-1])
    neutral = max(np.ptp(c_top), np.ptp(c_bot)) <= BORDER_NEUTRAL
    alike = np.abs(c_top - c_bot).max() <= 2 * BORDER_TOLERANCE
    inside = len(a) - n_top - n_bot
    if min(n_top, n_bot) == 0 or not (neutral and alike) or inside < BORDER_KEEP * len(a):
        return 0, 0, c_top, c_bot
    return n_top, n_bot, c_top, c_bot


def _exact(lines: np.ndarray, n: int, scale: float, colour: np.ndarray) -> int:
    """The border's width in ``lines`` (the image's own, the edge's first) from its width ``n`` on the small copy
    (``scale`` image lines each): near there, the first line off the border's colour on at least BORDER_EDGE of its
    pixels after one in the border's colour, where border and picture met before the resize averaged them (an outline
    at the image's very edge is not that edge)."""
    lo, hi = max(0, int(np.floor((n - 1) * scale))), int(np.ceil((n + 1) * scale)) + 1
    off = _off(lines[lo:hi], colour) >= BORDER_EDGE
    on = np.flatnonzero(~off)
    edge = np.flatnonzero(off[on[0]:]) + on[0] if on.size else ()
    return lo + int(edge[0]) if len(edge) else int(np.ceil(n * scale))


def border_of(small: np.ndarray, image: np.ndarray) -> tuple | None:
    """A uniform border around ``image`` (uint8 RGB), found on ``small`` (its copy of about 512 px, area-resized)
    and given in the image's pixels (top, bottom, left, right); None without one."""
    top, bottom, c_top, c_bot = _border_pair(small)
    inner = small[top:len(small) - bottom].transpose(1, 0, 2)
    left, right, c_left, c_right = _border_pair(inner)
    if not (top or left):
        return None
    sy, sx = image.shape[0] / small.shape[0], image.shape[1] / small.shape[1]
    if (sy, sx) == (1.0, 1.0):
        return top, bottom, left, right
    t = _exact(image, top, sy, c_top) if top else 0
    b = _exact(image[::-1], bottom, sy, c_bot) if bottom else 0
    cols = image[t:image.shape[0] - b].transpose(1, 0, 2)
    box = (t, b, _exact(cols, left, sx, c_left) if left else 0, _exact(cols[::-1], right, sx, c_right) if right else 0)
    return box if any(box) else None


def inside(a, box, shape=None):
    """``a`` (an image or a per-pixel map, (H, W, ...)) without the border ``box`` (top, bottom, left, right), a
    view; ``shape``: the (H, W) the box was measured on, when ``a`` has another size (the box is scaled to it).
    None stays None."""
    if a is None or box is None:
        return a
    a = np.asarray(a)
    h, w = a.shape[:2]
    if shape is not None:
        sy, sx = h / shape[0], w / shape[1]
        box = (round(v * s) for v, s in zip(box, (sy, sy, sx, sx)))
    t, b, left, r = box
    return a[t:h - b, left:w - r]
