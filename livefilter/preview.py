"""Contact sheets: labelled images side by side, so a person can see what a look does."""

from __future__ import annotations

import re

import cv2
import numpy as np

LINE_H = 20  # a caption's further lines, in pixels
BACKGROUND = 24
FONT = cv2.FONT_HERSHEY_SIMPLEX


def contact_sheet(tiles: list[tuple[str, np.ndarray]], height: int = 320, pad: int = 8) -> np.ndarray:
    """Lay out (caption, uint8 RGB image) pairs in one row, each scaled to ``height``, captions below (a caption's
    second line, after a newline, smaller and dimmer)."""
    return contact_grid([tiles], height, pad)


def contact_grid(rows: list[list[tuple[str, np.ndarray | None]]], height: int = 320, pad: int = 8) -> np.ndarray:
    """Rows of (caption, uint8 RGB image) cells, each image scaled to ``height``, a column as wide as its widest
    image; a cell of None is left blank (a template shown once, above the rows of its test photos)."""
    def tile_w(img):
        return max(1, round(img.shape[1] * height / img.shape[0]))

    widths = [max((tile_w(row[j][1]) for row in rows if j < len(row) and row[j][1] is not None), default=1)
              for j in range(max(map(len, rows)))]
    # a caption may use its column's width (a portrait photo's below a landscape one's); a row's further lines in one
    # size, smaller than its smallest first line
    texts = []
    for row in rows:
        cells = [(c, w) for (c, img), w in zip(row, widths) if img is not None]
        size = min([0.47] + [0.85 * _top_scale(c.split("\n")[0], w) for c, w in cells])
        texts.append([_caption_lines(c, w, size) if img is not None else [] for (c, img), w in zip(row, widths)])
    row_h = [height + 28 + LINE_H * (max(map(len, row), default=1) - 1) for row in texts]
    sheet = np.full((sum(row_h) + pad * (len(rows) + 1), sum(widths) + pad * (len(widths) + 1), 3), BACKGROUND,
                    np.uint8)
    y = pad
    for row, lines, h_row in zip(rows, texts, row_h):
        x = pad
        for (_, img), cell_lines, width in zip(row, lines, widths):
            if img is not None:
                cell = sheet[y:y + h_row, x:x + width]
                w = tile_w(img)
                interp = cv2.INTER_AREA if img.shape[0] > height else cv2.INTER_LINEAR
                cell[:height, :w] = cv2.resize(img, (w, height), interpolation=interp)
                for k, (text, scale, grey) in enumerate(cell_lines):
                    cv2.putText(cell, text, (6, height + 20 + LINE_H * k), FONT, scale, (grey,) * 3, 1, cv2.LINE_AA)
            x += width + pad
        y += h_row + pad
    return sheet


def _top_scale(text: str, width: int) -> float:
    """A caption's first line: drawn smaller when wider than its tile (a portrait photo's), down to 0.6 of its size."""
    return 0.55 * min(1.0, max(0.6, (width - 12) / max(text_width(text, 0.55), 1)))


def _caption_lines(caption: str, width: int, size: float) -> list[tuple[str, float, int]]:
    """A caption's lines as (text, scale, grey) for a tile ``width`` pixels wide: the first as _top_scale draws it,
    the next ones at ``size``, wrapped after their commas and colons ("low confidence: more contrast, darker" on a
    portrait tile), then between words where one part alone is wider than the tile, so none is cut at its edge."""
    room = max(width - 12, 1)
    first, *rest = caption.split("\n")
    out = [(first, _top_scale(first, width), 235)]
    for text in rest:
        out += [_fitted(line, size, room) for line in wrap(text, lambda t: text_width(t, size) <= room)]
    return out


def wrap(text: str, fits) -> list[str]:
    """``text`` cut into lines that ``fits`` (a test of one line) after its commas and colons, then between words
    where one part alone does not fit ("low confidence: more contrast, darker" on a narrow tile or window)."""
    parts = []
    for part in re.findall(r"[^,:]+[,:]?", text):
        part = part.strip()
        parts += part.split(" ") if not fits(part) else [part]
    lines: list[str] = []
    for part in parts:
        if lines and fits(joined := f"{lines[-1]} {part}"):
            lines[-1] = joined
        else:
            lines.append(part)
    return lines or [""]


def _fitted(line: str, size: float, room: int) -> tuple[str, float, int]:
    """A further caption line, drawn smaller (down to 0.6 of ``size``) where it is still wider than ``room``."""
    return line, size * min(1.0, max(0.6, room / max(text_width(line, size), 1))), 180


def text_width(text: str, scale: float) -> int:
    return cv2.getTextSize(text, FONT, scale, 1)[0][0]
