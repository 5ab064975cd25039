"""The command line's first second: a Ctrl+C while the package imports (numpy, numba, PyAV, onnxruntime: about a
second) ends with the one line a later Ctrl+C gives, not a 20 to 40-line traceback from inside those imports. Only
when the program is the ``livefilter`` command (its script or ``python -m livefilter``); a program importing
livefilter keeps its own hook. :func:`started` (``cli.main``) puts the hook back."""

from __future__ import annotations

import os
import sys

_before = None


def interrupted(exc: BaseException | None) -> KeyboardInterrupt | None:
    """The Ctrl+C / SIGTERM / SIGHUP an exception was raised in handling, if any (a signal that came while a native
    module was being imported surfaces as that import's failure: pybind11's "ImportError: initialization failed")."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _hook(kind, value, tb):
    if issubclass(kind, KeyboardInterrupt):  # Python still exits as interrupted (130)
        print("livefilter: interrupted", file=sys.stderr)
        return
    if interrupted(value) is not None:  # Python would exit 1: the shell's code for Ctrl+C instead
        print("livefilter: interrupted", file=sys.stderr)
        sys.stderr.flush()
        os._exit(130)  # nothing of the program's ran yet: no file of its to finish
    (_before or sys.__excepthook__)(kind, value, tb)


def _the_command() -> bool:
    """Whether this program is the ``livefilter`` command: its script, or ``python -m livefilter`` (not another
    ``python -m PKG`` whose package imports livefilter: sys.argv[0] is "-m" while either is imported)."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if name in ("livefilter", "livefilter.exe", "livefilter-script.py"):
        return True
    argv = getattr(sys, "orig_argv", [])
    return name == "-m" and any(a == "-m" and b.split(".")[0] == "livefilter" for a, b in zip(argv, argv[1:]))


def quiet_interrupt_while_starting() -> None:
    global _before
    if _the_command() and sys.excepthook is not _hook:
        _before, sys.excepthook = sys.excepthook, _hook


def started() -> None:
    """The command line is running (its own Ctrl+C handling from here): the hook before it back."""
    global _before
    if sys.excepthook is _hook:
        sys.excepthook = _before or sys.__excepthook__
    _before = None


quiet_interrupt_while_starting()  # on import: livefilter/__init__.py imports this module first
