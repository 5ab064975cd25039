"""The preview window (OpenCV): before/after split, strength, face protection, degree view, HUD.

Keys: space = before/after split, + / - = strength, f = face protection on/off, d = show the degree map,
c = next reading of a one-photo look, s = save the live look (at its strength) as .cube and .look.npz,
n = next template in the folder, q or Esc = quit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import numpy as np

from ..preview import text_width, wrap
from .sinks import SinkError


def display_problem() -> str | None:
    """Why a window cannot open here, or None. OpenCV's Qt window aborts the whole process (exit 134) when there
    is no X display, so this is asked before anything opens. Linux only: elsewhere a desktop is assumed."""
    if not sys.platform.startswith("linux"):
        return None
    display = os.environ.get("DISPLAY", "")
    if not display:
        return "no display (DISPLAY is not set)"
    host, _, rest = display.partition(":")
    number = rest.split(".")[0]
    if not host and number.isdigit() and not Path(f"/tmp/.X11-unix/X{number}").exists():
        return f"no X server on DISPLAY={display} (/tmp/.X11-unix/X{number} does not exist)"
    return None

HUD_SHADE = 0.25  # the picture behind the HUD's lines is darkened to this share of its brightness
# the degree view's colours said (viridis: yellow 1, dark purple 0); the view showed them unexplained
DEGREE_LEGEND = "degree map: yellow = the whole look, dark = none (d: back to the picture)"
KEYS = ("space: before/after  +/-: strength  f: faces  d: degree map  c: next reading  s: save  n: next template  "
        "q: quit")


def compose(frame_in: np.ndarray, frame_out: np.ndarray, degree, *, split: bool, show_degree: bool,
            hud: list[str]) -> np.ndarray:
    """The image shown: graded frame, optionally with the original on the left half or the degree map, + HUD."""
    view = frame_out.copy()
    h, w = view.shape[:2]
    if split and frame_in is not None and frame_in.shape == view.shape:
        view[:, : w // 2] = frame_in[:, : w // 2]
        view[:, w // 2 - 1: w // 2 + 1] = 255
    if show_degree:
        d = np.ones((h, w), np.float32) if degree is None else cv2.resize(degree, (w, h),
                                                                           interpolation=cv2.INTER_LINEAR)
        heat = cv2.applyColorMap((np.clip(d, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_VIRIDIS)[:, :, ::-1]
        view = cv2.addWeighted(view, 0.35, heat, 0.65, 0)
    y = 22
    for line in (part for text in hud for part in _wrap(text, w - 20)):
        # each line on a darkened band of the picture: white text alone was unreadable on a bright wall or sky. No
        # black outline drawn thicker under it: OpenCV 5 draws thick text wider, and the outline ran past the letters
        (tw, th), base = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        band = view[max(0, y - th - 5): y + base + 4, 4: 16 + tw]
        band[...] = (band * HUD_SHADE).astype(np.uint8)
        cv2.putText(view, line, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        y += 20
    return view


def _wrap(text: str, width: int) -> list[str]:
    """A HUD line cut between its fields (two spaces apart) into lines at most ``width`` pixels wide, so a small
    window shows the strength and the faces' state too."""
    lines: list[str] = []
    for field in text.split("  "):
        joined = f"{lines[-1]}  {field}" if lines else field
        if lines and _width(joined) <= width:
            lines[-1] = joined
        elif _width(field) <= width:
            lines.append(field)
        else:  # a field wider than the window (what a reading does): cut after its commas, as the sheet's captions
            lines += wrap(field, lambda t: _width(t) <= width)
    return lines


def _width(text: str) -> int:
    return text_width(text, 0.5)


class PreviewWindow:
    """A pipeline callback that shows frames and maps keys to pipeline controls."""

    def __init__(self, pipeline, templates=(), title: str = "livefilter", show=True, save_dir="."):
        self.p = pipeline
        self.save_dir = save_dir
        self.templates = list(templates)
        self.t_index = 0
        self.title = title
        self.split = False
        self.show_degree = False
        self._show = show
        self._sized = False
        self._seen = False  # the window has been seen open (a backend without the property never reads as closed)
        #: the user closed the window (its close button): the run stops, as with q
        self.closed = False
        if show:
            try:
                # resizable, aspect kept, no Qt toolbar / status bar: the frame is shown 1:1 at first (resized to
                # the frame below; Qt's default first size, 400x300, scaled the HUD text unreadable)
                cv2.namedWindow(title, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
            except cv2.error as exc:
                raise SinkError(f"cannot open a preview window (no display?): {exc.err}") from None

    def hud(self, info) -> list[str]:
        st = self.p.stats.summary()
        render = st.get("render", {}).get("p50_ms", 0.0)
        analysis = st.get("analysis", {}).get("p50_ms", 0.0)
        return [
            f"{info.get('fps', 0):.1f} fps  render {render:.1f} ms  faces {analysis:.1f} ms  "
            f"latency {info.get('latency_ms', 0):.0f} ms",
            f"{self.p.backend.name}  look: {self.p.look_name or '-'}  strength {self.p.strength:.2f}  "
            + self._scene_hint() + self._faces_hint()
            + (f"  confidence {self.p.look_confidence}" if self.p.look_confidence else ""),
            self.p.status + self._reading_hint(),
            *([DEGREE_LEGEND] if self.show_degree else []),
        ]

    def _faces_hint(self) -> str:
        if self.p.whole_look:  # 'faces on' while faces took the whole black-and-white look
            return "faces and scene: whole look (black-and-white)"
        return f"faces {'on' if self.p.face_protect else 'off'}"

    def _scene_hint(self) -> str:
        """The scene similarity the look is rendered at, while it acts (LivePipeline.scene_acting)."""
        return f"scene {self.p.scene_score:.2f}  " if self.p.scene_acting and not self.p.whole_look else ""

    def _reading_hint(self) -> str:
        n, k = self.p.candidate  # one read: the look worker may swap the look meanwhile
        does = self.p.look_character
        return f"  (c: reading {n} of {k})" + (f"  {does}" if does else "") if k > 1 else ""

    def __call__(self, frame_out, info) -> None:
        if self.closed:  # the frames still coming while the run stops: not shown (imshow would open it again)
            return
        view = compose(self.p.last_frame, frame_out, info.get("degree"), split=self.split,
                       show_degree=self.show_degree, hud=self.hud(info))
        if self._show:
            if not self._sized:
                cv2.resizeWindow(self.title, view.shape[1], view.shape[0])
                self._sized = True
            cv2.imshow(self.title, cv2.cvtColor(view, cv2.COLOR_RGB2BGR))
            self.handle_key(cv2.waitKey(1) & 0xFF)
            self._check_closed()

    def _check_closed(self) -> None:
        """A window closed by its close button stops the run, as q does: the run went on unseen, recording,
        until a signal ended it. Closed: gone (Qt's property then raises, GTK's and Win32's read -1); a hidden or
        minimised window (macOS reads 0) is not closed."""
        try:
            shown = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE)
        except cv2.error:
            shown = -1.0
        if shown >= 1:
            self._seen = True
        elif shown < 0 and self._seen and not self.closed:
            self.closed = True
            self.p.stop()

    def handle_key(self, key: int) -> str | None:
        """Apply one key press; returns the action's name (or None)."""
        if not 0 < key < 255:  # 255: no key pressed
            return None
        ch = chr(key)
        if ch == " ":
            self.split = not self.split
            return "split"
        if ch in "+=":
            self.p.set_strength(self.p.strength + 0.1)
            return "stronger"
        if ch in "-_":
            self.p.set_strength(self.p.strength - 0.1)
            return "weaker"
        if ch == "f":
            self.p.set_face_protect(not self.p.face_protect)
            return "faces"
        if ch == "d":
            self.show_degree = not self.show_degree
            return "degree"
        if ch == "c":
            self.p.pick_next()
            return "reading"
        if ch == "s":
            self.p.save_look(self.save_dir)
            return "save"
        if ch == "n" and self.templates:
            self.t_index = (self.t_index + 1) % len(self.templates)
            self.p.set_template(self.templates[self.t_index])
            return "next"
        if ch in ("q", "\x1b"):
            self.p.stop()
            return "quit"
        return None

    def close(self) -> None:
        if self._show and not self.closed:
            cv2.destroyWindow(self.title)
