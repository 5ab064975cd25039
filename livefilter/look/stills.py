"""A video as the template: a few of its stills, spread over it, read as several photos in one look (a film's look
from its frames, not from one screenshot)."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError, VideoDecodeError
from ..media.codec import cut_short, decode, is_hdr
from ..media.hdr import TRANSFER_NAME
from ..media.probe import VIDEO_EXTS, probe, timestamp
from .coverage import colour_share

log = logging.getLogger(__name__)

#: stills a video's look is read from, and the times looked at to choose them (the most colourful: a title card or
#: a fade to black says little of the look)
STILLS, LOOKED_AT = 5, 12
#: a still whose colours fill less than this share of the colour cube's bins is not taken (black, a blank)
MIN_SHARE = 0.01
#: nor a title card: one colour (an 8^3 bin) covering at least MAX_FLAT of it (white text on black 0.96, on dark blue
#: 0.95 measured; their anti-aliased edges passed MIN_SHARE; of the 387 shared photos the flattest is 0.71, median
#: 0.15) with grey marks far from it (the text: at least 3 bins away, chroma under CARD_CHROMA). A flat picture with
#: a coloured subject (a person in a white studio) or none far from its colour (fog) stays a picture.
MAX_FLAT = 0.85
CARD_CHROMA = 0.15
#: two pictures whose 64-pixel thumbnails differ by less than this (mean, code values) are one picture: a photo and
#: its re-saved JPEG copy 0.43, stills of a still shot 0.01-0.03, frames 40 ms apart of a moving clip 3.9 and more;
#: several copies of one picture are not several readings of its look
SAME_PICTURE = 2.0
#: two pictures whose 64-pixel thumbnails, one moved against the other by up to SCENE_SHIFT pixels (6 % of the
#: width), differ by less than this are shots of one scene (a burst, a tripod's series): a photo and a copy of it moved
#: by 1-4 %, 5 % lighter or darker, noisier and re-saved as JPEG 7.5 (median; 90th percentile 13.1); the closest two
#: of the 387 shared photos 24.8. Their network guesses err alike, so averaged and taken further they read worse than
#: one of them alone (docs/decisions.md 'crop ensemble for reading 1', 'burst shots')
SAME_SCENE, SCENE_SHIFT = 14.0, 4


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """The 64-pixel-wide float32 thumbnail :func:`same_picture` and :func:`same_scene` compare (made once a picture:
    69 ms for a 12 MP photo)."""
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (64, max(1, round(64 * h / w))), interpolation=cv2.INTER_AREA).astype(np.float32)


def _colours(small: np.ndarray) -> tuple[float, bool]:
    """A still's share of the colour cube (coverage.colour_share) and whether it is a title card (MAX_FLAT), from
    its :func:`thumbnail`."""
    t = small.reshape(-1, 3) / 255.0
    cells = np.minimum((t * 8).astype(np.int64), 7)
    counts = np.bincount(cells @ np.array([64, 8, 1]), minlength=512)
    top = np.array(np.unravel_index(counts.argmax(), (8, 8, 8)))
    far = t[np.abs(cells - top).max(axis=1) >= 3]
    card = (counts.max() >= MAX_FLAT * len(t) and len(far) > 0
            and float((far.max(axis=1) - far.min(axis=1)).mean()) < CARD_CHROMA)
    return colour_share(t), card


def same_picture(ta: np.ndarray, tb: np.ndarray) -> bool:
    """Whether two pictures, given as their :func:`thumbnail`, are one (a copy, resized, re-saved or mirrored; a
    still shot's frames)."""
    return ta.shape == tb.shape and min(float(np.abs(ta - t).mean()) for t in (tb, tb[:, ::-1])) < SAME_PICTURE


def same_scene(ta: np.ndarray, tb: np.ndarray) -> bool:
    """Whether two pictures, given as their :func:`thumbnail`, are shots of one scene moved by a few pixels
    (SAME_SCENE)."""
    if ta.shape != tb.shape:
        return False
    h, w, m = ta.shape[0], ta.shape[1], SCENE_SHIFT
    if min(h, w) <= 4 * m:
        return False  # too narrow to move
    return min(float(np.abs(ta[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
                             - tb[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)]).mean())
               for dy in range(-m, m + 1) for dx in range(-m, m + 1)) < SAME_SCENE


def is_video(path) -> bool:
    return isinstance(path, (str, Path)) and Path(path).suffix.lower() in VIDEO_EXTS


def video_stills(path, count: int = STILLS, looked_at: int = LOOKED_AT) -> list[tuple[str, np.ndarray]]:
    """Up to ``count`` stills of the video at ``path`` as (label "PATH at M:SS.s", uint8 RGB), in time order: of
    ``looked_at`` times spread over it (its first and last 5 % left out), those showing the most colours, one of
    each :func:`same_picture` (a still shot gives one), turned as players show the video (a phone's portrait
    clip stands up). An HDR
    video's stills are brought to SDR as its frames are graded (media/hdr.py)."""
    info = probe(path, chunk_seconds=0)  # a VideoError (an InputError) for a file that is not a usable video
    if problem := cut_short(info):  # its stills are taken from what it holds
        log.warning("%s: %s", path, problem.replace("graded up to", "its stills taken up to"))
    if is_hdr(info):
        log.warning("%s: an HDR video (%s): its stills brought to SDR (BT.709) as an SDR screen shows them", path,
                    TRANSFER_NAME[info.colour["color_trc"]])
    span = max(info.duration_s, 0.0)
    turns = (info.rotation // 90) % 4  # counter-clockwise quarter turns: the stills as players show the video
    found, damaged = {}, False
    for k in range(looked_at):
        t = span * (0.05 + 0.9 * (k + 0.5) / looked_at)
        frames = decode(info, start=info.start_pts + int(round(t / info.time_base)))
        try:
            pts, rgb = next(frames)
        except StopIteration:
            continue
        except VideoDecodeError as exc:  # a damaged frame is no still to learn a look from: left out, said once
            if not damaged:
                log.warning("%s: %s: the stills there are left out", path, exc.problem)
            damaged = True
            continue
        finally:
            frames.close()
        rgb = np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb
        small = thumbnail(rgb)
        if pts not in found and not any(same_picture(small, seen) for *_, seen, _ in found.values()):  # a still shot
            found[pts] = (*_colours(small), small, rgb)
    usable = sorted((p for p in found if found[p][0] >= MIN_SHARE and not found[p][1]),
                    key=lambda p: -found[p][0])[:count]
    if not usable:
        raise InputError("no still of the video shows a picture to learn a look from (black or blank frames, title "
                         "cards)", path)
    return [(f"{path} at {timestamp(info.seconds(p))}", found[p][-1]) for p in sorted(usable)]
