"""Contact sheets: labelled images side by side, so a person can see what a look does."""

from __future__ import annotations

import cv2
import numpy as np

LINE_H = 20  # a caption's further lines, in pixels


def contact_sheet(tiles: list[tuple[str, np.ndarray]], height: int = 320, pad: int = 8) -> np.ndarray:
    """Lay out (caption, uint8 RGB image) pairs in one row, each scaled to ``height``, captions below (a caption's
    second line, after a newline, smaller and dimmer)."""
    lines = max(len(caption.split("\n")) for caption, _ in tiles)
    caption_h = 28 + LINE_H * (lines - 1)
    cells = []
    for caption, img in tiles:
        h, w = img.shape[:2]
        width = max(1, round(w * height / h))
        interp = cv2.INTER_AREA if h > height else cv2.INTER_LINEAR
        cell = np.full((height + caption_h, width, 3), 24, np.uint8)
        cell[:height] = cv2.resize(img, (width, height), interpolation=interp)
        for i, text in enumerate(caption.split("\n")):
            size, grey = (0.55, 235) if i == 0 else (0.47, 180)
            # a caption wider than its tile (a portrait test photo's) is drawn smaller, not cut at the tile's edge
            text_w = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size, 1)[0][0]
            scale = size * min(1.0, max(0.6, (width - 12) / max(text_w, 1)))
            cv2.putText(cell, text, (6, height + 20 + LINE_H * i), cv2.FONT_HERSHEY_SIMPLEX, scale, (grey,) * 3, 1,
                        cv2.LINE_AA)
        cells.append(cell)
    total_w = sum(c.shape[1] for c in cells) + pad * (len(cells) + 1)
    sheet = np.full((height + caption_h + 2 * pad, total_w, 3), 24, np.uint8)
    x = pad
    for c in cells:
        sheet[pad:pad + c.shape[0], x:x + c.shape[1]] = c
        x += c.shape[1] + pad
    return sheet
