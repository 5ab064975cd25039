"""A MediaPipe Tasks model (the face detector, the person segmenter) held open for its owner's life."""

from __future__ import annotations

import weakref

from ..errors import ModelError
from ..nativelogs import hold_quiet
from ..resources import REINSTALL


def open_task(owner, create, what: str, path):
    """``create()``'s MediaPipe task, and a function that closes it (once; safe from any thread).

    MediaPipe / LiteRT's native log lines are kept off stderr from the loading to the closing as one block: LiteRT
    warns on whichever call meets an unaligned tensor, and a filter set up around each call cost 0.17 ms on a 2 ms
    face detection with a thread pump (its pump is now a process: 20 ms to start). The task is closed by the
    returned function, when ``owner`` is collected, or at interpreter exit: MediaPipe's own finaliser prints a
    traceback then."""
    release = hold_quiet()
    try:
        task = create()
    except (RuntimeError, ValueError) as exc:
        release()
        raise ModelError(f"{what} model cannot be loaded ({exc}); {REINSTALL}", path) from None
    return task, weakref.finalize(owner, _shut, task, release)


def _shut(task, release) -> None:
    try:
        task.close()  # LiteRT's INFO line on closing: still filtered
    finally:
        release()
