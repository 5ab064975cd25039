"""The preview window seen for real: `live --preview` under Xvfb, driven with real key presses (xdotool), checked
on screenshots taken from the X server (Pillow's ImageGrab).

Checked: the HUD (fps, backend, look name, strength, face protection) by matching text rendered the way the HUD
draws it; space -> the before/after split (white divider down the middle); - and + -> strength 0.90 then 1.00;
d -> the degree view (viridis colours: the protected face dark, the rest yellow); f -> faces off (all yellow);
n -> the next look of the --template folder; q -> the process ends cleanly. Skips when Xvfb or xdotool is missing
(Debian: apt-get install -y xvfb xdotool; .ci/run installs them).

LIVEFILTER_SCREENSHOTS=DIR keeps the screenshots (docs/preview.png is the split view from one run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from livefilter.luts import write_lut

from ..conftest import ROOT

W, H = 640, 360
HUD_ROWS = 120  # the HUD's lines, wrapped at the window's width, stay above this row


def _need(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed (Debian: apt-get install -y xvfb xdotool)")
    return exe


@pytest.fixture
def xdisplay():
    xvfb = _need("Xvfb")
    _need("xdotool")
    from PIL import features

    if not features.check("xcb"):
        pytest.skip("Pillow was built without XCB: it cannot take X screenshots")
    r, w = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(w), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()  # Xvfb picks a free display and says which
    if not number:
        proc.kill()
        pytest.skip("Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Screen:
    def __init__(self, display: str):
        self.display = display
        self.env = dict(os.environ, DISPLAY=display)

    def xdotool(self, *args, check=True) -> str:
        r = subprocess.run(["xdotool", *map(str, args)], env=self.env, capture_output=True, text=True, timeout=90)
        if check:
            assert r.returncode == 0, r.stderr
        return r.stdout

    def window(self, proc, timeout: float = 600.0) -> tuple[int, int]:
        """The preview window's position, once it shows. Polled (not ``search --sync``, which waits without end
        and under load outlived its 90 s limit): the wait lasts while ``proc`` runs, so a slow start on a busy
        machine waits, and a process that ended fails at once with its stderr."""
        def find():
            found = self.xdotool("search", "--onlyvisible", "--name", "^livefilter$", check=False).split()
            return found[0] if found else None

        wid = wait_for(find, "its window", timeout, proc)
        geo = self.xdotool("getwindowgeometry", "--shell", wid)
        vals = dict(line.split("=") for line in geo.split())
        return int(vals["X"]), int(vals["Y"])

    def shot(self, at) -> np.ndarray:
        from PIL import ImageGrab

        x, y = at
        return np.asarray(ImageGrab.grab(xdisplay=self.display).convert("RGB"))[y: y + H, x: x + W]

    def key(self, name: str) -> None:
        self.xdotool("key", name)


def hud_text(text: str) -> np.ndarray:
    """The white core of ``text`` drawn as window.compose draws the HUD (white AA text on a darkened band)."""
    size, _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
    img = np.zeros((size[1] + 12, size[0] + 6, 3), np.uint8)
    cv2.putText(img, text, (3, size[1] + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return (img.min(axis=2) >= 200).astype(np.float32)


def hud_has(view: np.ndarray, text: str) -> float:
    """Best match (0..1) of ``text`` in the HUD's lines (top 120 rows: a line longer than the window wraps)."""
    strip = (view[:HUD_ROWS].min(axis=2) >= 200).astype(np.float32)
    return float(cv2.matchTemplate(strip, hud_text(text), cv2.TM_CCOEFF_NORMED).max())


def viridis_share(view: np.ndarray) -> tuple[float, float]:
    """Shares of the picture (below the HUD) that are yellow (degree ~1) and blue/purple (degree < 0.5)."""
    v = view[HUD_ROWS:].astype(int)
    r, g, b = v[..., 0], v[..., 1], v[..., 2]
    yellow = (r > 140) & (g > 130) & (b < r - 60)  # viridis' top (253, 231, 37) blended 0.65 over the frame
    dark = (b > r) & (b > 60)
    return float(yellow.mean()), float(dark.mean())


def wait_for(fn, what: str, timeout: float = 45.0, proc=None):
    """Poll ``fn`` until it returns something (generous: CI machines are shared and slow); with ``proc``, a
    process that ended fails the wait at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"live ended (exit {proc.returncode}) while waiting for {what}")
        last = fn()
        if last is not None:
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_preview_window_under_xvfb_split_hud_strength_faces_degree_next_quit(xdisplay, tmp_path, sample_after,
                                                                           sample_before):
    from livefilter.cli import main

    looks = tmp_path / "looks"
    looks.mkdir()
    assert main(["fit", str(sample_after), "--original", str(sample_before), "-o", str(looks / "a_teal.cube")]) == 0
    write_lut(looks / "b_plain.cube", __import__("livefilter").Lut.identity(9))
    screen = Screen(xdisplay)
    env = dict(screen.env, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "livefilter", "live", "--template", str(looks), "--synthetic",
                             "--preview", "--frame-size", f"{W}x{H}", "--backend", "cpu"], cwd=tmp_path, env=env,
                            stdout=open(tmp_path / "out.txt", "w"), stderr=open(tmp_path / "err.txt", "w"))
    keep = os.environ.get("LIVEFILTER_SCREENSHOTS")
    shots = {}
    try:
        at = screen.window(proc)
        screen.xdotool("mousemove", at[0] + W // 2, at[1] + H // 2)  # no window manager: focus follows the pointer

        def view_when(pred, what, timeout=45.0, again=None):
            def check():
                view = screen.shot(at)
                shots["last"] = view
                return view if pred(view) else None
            if again is not None:  # a key press X lost once (no window manager; CI, under load): pressed again
                try:
                    return wait_for(check, what, 15.0, proc)
                except AssertionError:
                    screen.xdotool("mousemove", at[0] + W // 2, at[1] + H // 2)
                    screen.key(again)
            return wait_for(check, what, timeout, proc)

        def showing(text, timeout=45.0):
            return view_when(lambda v: hud_has(v, text) > 0.9, f"HUD text {text!r}", timeout)

        # the look name is the LUT's title: the fitted look's template name, then the identity LUT's. The first
        # frame may wait for numba to compile the renderer (a cold or stale cache on a loaded machine)
        # the first HUD follows the fit and the start-up, slow on a busy machine: waited for while live runs
        shots["hud"] = showing("cpu  look: sample_after  strength 1.00  faces on", timeout=600.0)
        showing(" fps  render")
        mid = W // 2
        assert not (shots["hud"][HUD_ROWS:, mid - 1: mid + 1] == 255).all()

        screen.key("space")
        shots["split"] = view_when(lambda v: (v[HUD_ROWS:, mid - 1: mid + 1] == 255).all(), "the split divider",
                                   again="space")
        screen.key("space")
        screen.key("minus")
        showing("strength 0.90")
        screen.key("plus")
        showing("strength 1.00")

        screen.key("d")
        shots["degree"] = view_when(lambda v: viridis_share(v)[0] > 0.3 and viridis_share(v)[1] > 0.02,
                                    "the degree view with a protected face")
        screen.key("f")
        showing("faces off")
        shots["degree_faces_off"] = view_when(lambda v: viridis_share(v)[0] > 0.85, "the all-yellow degree view")
        screen.key("d")
        screen.key("n")
        showing("look: identity")
        screen.key("q")
        code = proc.wait(timeout=30)
    except AssertionError as exc:
        last = shots.get("last")
        scores = {t: round(hud_has(last, t), 2) for t in ("fps", "strength 1.00", "faces on", "faces off")} \
            if last is not None else {}
        raise AssertionError(f"{exc}; last screenshot: HUD scores {scores}, viridis shares "
                             f"{viridis_share(last) if last is not None else None}; live's stderr: "
                             f"{(tmp_path / 'err.txt').read_text()[-600:]}; stdout: "
                             f"{(tmp_path / 'out.txt').read_text()[-300:]}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            for name, img in shots.items():
                cv2.imwrite(str(Path(keep) / f"{name}.png"), np.ascontiguousarray(img[:, :, ::-1]))
    out, err = (tmp_path / "out.txt").read_text(), (tmp_path / "err.txt").read_text()
    assert code == 0, err[-800:]
    assert "frames" in out


def test_preview_window_c_cycles_the_readings_and_s_saves_the_live_one(xdisplay, tmp_path, sample_after):
    """live --template PHOTO fits its readings; 'c' shows the next one in the HUD, 's' saves it (with its strength)
    as .cube and .look.npz in the working folder."""
    import warnings

    import livefilter as lf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kinds = [c.kind for c in lf.fit_look(sample_after).candidates]  # what the live fit reads too
    screen = Screen(xdisplay)
    env = dict(screen.env, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "livefilter", "live", "--template", str(sample_after),
                             "--synthetic", "--preview", "--frame-size", f"{W}x{H}", "--backend", "cpu", "--pick", "2"],
                            cwd=tmp_path, env=env, stdout=open(tmp_path / "out.txt", "w"),
                            stderr=open(tmp_path / "err.txt", "w"))
    last = {}
    try:
        at = screen.window(proc)
        screen.xdotool("mousemove", at[0] + W // 2, at[1] + H // 2)

        def showing(text, timeout=45.0):
            def check():
                last["view"] = screen.shot(at)
                return last["view"] if hud_has(last["view"], text) > 0.9 else None
            return wait_for(check, f"HUD text {text!r}", timeout, proc)

        # the look's name in the HUD says which reading is live: "sample_after [2/4 whole]"
        showing(f"[2/4 {kinds[1]}]", timeout=600.0)  # after the readings' fit (150 s ran out at load 4)
        screen.key("c")
        showing(f"[3/4 {kinds[2]}]")
        screen.key("minus")
        showing("strength 0.90  scene")  # a look from a photo: the scene similarity it is rendered at
        screen.key("s")
        showing("saved sample_after")
        screen.key("q")
        code = proc.wait(timeout=30)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; live's stderr: {(tmp_path / 'err.txt').read_text()[-600:]}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, (tmp_path / "err.txt").read_text()[-800:]
    cubes = sorted(tmp_path.glob("*.cube"))
    npzs = sorted(tmp_path.glob("*.look.npz"))
    assert len(cubes) == 1 and len(npzs) == 1, list(tmp_path.iterdir())
    saved = lf.load_look(npzs[0])
    assert saved.meta["strength"] == 0.9 and saved.meta["reading"]["kind"] == kinds[2]
    assert np.abs(lf.read_lut(cubes[0]).table - saved.lut.table).max() < 1e-5


def test_waiting_for_the_window_ends_when_the_process_does(tmp_path, monkeypatch):
    """Before: the window was awaited with ``xdotool search --sync`` (no end of its own; 90 s, then the test
    errored for the machine's load, not for the product). Now a live process that ended fails the wait at once."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "xdotool").write_text("#!/bin/sh\ncase \"$*\" in *--sync*) sleep 600;; esac\nexit 1\n")
    (fake / "xdotool").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait(timeout=30)
    t0 = time.monotonic()
    with pytest.raises(AssertionError, match="exit 3"):
        Screen(":0").window(proc)
    assert time.monotonic() - t0 < 10


def _close_as_a_window_manager_does(display: str, wid: int) -> None:
    """Send the window WM_DELETE_WINDOW, as a window manager's close button does (xdotool's windowclose destroys the
    X window instead, which the toolkit does not see as a close)."""
    import ctypes
    import ctypes.util

    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                    ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]

    class Event(ctypes.Union):
        _fields_ = [("xclient", ClientMessage), ("pad", ctypes.c_long * 24)]

    name = ctypes.util.find_library("X11")
    if name is None:
        pytest.skip("libX11 is not installed")
    x = ctypes.cdll.LoadLibrary(name)
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XInternAtom.restype = ctypes.c_ulong
    x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]
    d = x.XOpenDisplay(display.encode())
    assert d, f"cannot open display {display}"
    ev = Event()
    ev.xclient.type = 33  # ClientMessage
    ev.xclient.window = wid
    ev.xclient.message_type = x.XInternAtom(d, b"WM_PROTOCOLS", 0)
    ev.xclient.format = 32
    ev.xclient.data[0] = x.XInternAtom(d, b"WM_DELETE_WINDOW", 0)
    x.XSendEvent(d, wid, 0, 0, ctypes.byref(ev))
    x.XCloseDisplay(d)  # flushes


def test_closing_the_preview_window_stops_the_run_and_keeps_the_recording(xdisplay, tmp_path):
    """The window's close button hid the window and the run went on unseen, recording, until a signal ended it. It
    stops the run as q does: the recording finished, one line saying why, exit 0."""
    from livefilter.luts import Lut

    look_cube = tmp_path / "look.cube"
    write_lut(look_cube, Lut.identity(5))
    screen = Screen(xdisplay)
    env = dict(screen.env, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "livefilter", "live", "--template", str(look_cube), "--synthetic",
                             "--preview", "--record", "rec.mp4", "--frame-size", f"{W}x{H}", "--backend", "cpu",
                             "--no-face-protect"], cwd=tmp_path, env=env, stdout=open(tmp_path / "out.txt", "w"),
                            stderr=open(tmp_path / "err.txt", "w"))
    try:
        screen.window(proc)
        wid = int(screen.xdotool("search", "--onlyvisible", "--name", "^livefilter$").split()[0])
        time.sleep(1.0)
        _close_as_a_window_manager_does(xdisplay, wid)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = (tmp_path / "out.txt").read_text()
    assert code == 0, (tmp_path / "err.txt").read_text()[-800:]
    assert "stopped (the preview window was closed)" in out and "wrote rec.mp4" in out, out
    assert (tmp_path / "rec.mp4").stat().st_size > 0 and not list(tmp_path.glob(".rec.*"))
