"""A video as the template: a few of its stills, spread over it, read as several photos in one look (a film's look
from its frames, not from one screenshot)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError, VideoDecodeError
from ..media.codec import decode
from ..media.probe import VIDEO_EXTS, probe, timestamp
from .coverage import colour_share

#: stills a video's look is read from, and the times looked at to choose them (the most colourful: a title card or
#: a fade to black says little of the look)
STILLS, LOOKED_AT = 5, 12
#: a still whose colours fill less than this share of the colour cube's bins is not taken (black, a title card)
MIN_SHARE = 0.01


def is_video(path) -> bool:
    return isinstance(path, (str, Path)) and Path(path).suffix.lower() in VIDEO_EXTS


def video_stills(path, count: int = STILLS, looked_at: int = LOOKED_AT) -> list[tuple[str, np.ndarray]]:
    """Up to ``count`` stills of the video at ``path`` as (label "PATH at M:SS.s", uint8 RGB), in time order: of
    ``looked_at`` times spread over it (its first and last 5 % left out), those showing the most colours. An HDR
    video's stills are brought to SDR as its frames are graded (media/hdr.py)."""
    info = probe(path, chunk_seconds=0)  # a VideoError (an InputError) for a file that is not a usable video
    span = max(info.duration_s, 0.0)
    found = {}
    for k in range(looked_at):
        t = span * (0.05 + 0.9 * (k + 0.5) / looked_at)
        frames = decode(info, start=info.start_pts + int(round(t / info.time_base)))
        try:
            pts, rgb = next(frames)
        except (StopIteration, VideoDecodeError):
            continue
        finally:
            frames.close()
        if pts not in found and not any(np.array_equal(rgb, other) for _, other in found.values()):  # a still shot
            small = cv2.resize(rgb, (64, max(1, round(64 * rgb.shape[0] / rgb.shape[1]))), interpolation=cv2.INTER_AREA)
            found[pts] = (colour_share(small.reshape(-1, 3) / 255.0), rgb)
    usable = sorted((p for p in found if found[p][0] >= MIN_SHARE), key=lambda p: -found[p][0])[:count]
    if not usable:
        raise InputError("no still of the video shows colours to learn a look from (black or blank frames)", path)
    return [(f"{path} at {timestamp(info.seconds(p))}", found[p][1]) for p in sorted(usable)]
