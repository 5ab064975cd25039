"""A MediaPipe Tasks model (the face detector, the person segmenter) held open for its owner's life."""

from __future__ import annotations

import os
import weakref

from ..errors import ModelError
from ..nativelogs import hold_quiet
from ..resources import REINSTALL


def base_options(path):
    """MediaPipe's BaseOptions for the model at ``path``, with its usage upload kept from leaving the machine.

    MediaPipe from 0.10.35 sends Google a usage record over HTTPS (play.googleapis.com/log: its version, Python's,
    the task, timings and call counts) when a task is closed, with no switch to turn it off (upstream issue
    google-ai-edge/mediapipe#6291). It trusts only the certificates in the bundle its Python options name: given
    none (an empty file), the upload's TLS handshake fails and the record is never sent (checked against a local
    server trusted through that bundle: it received the record; with an empty bundle, no request). A DNS lookup, a
    TCP connection and the start of a TLS handshake with play.googleapis.com still happen (docs/reference.md,
    "Privacy"). Earlier releases carry no upload and take no bundle: their options are left as they are
    (``to_ctypes`` is then never called, or its options have no ``ca_bundle_path``)."""
    from mediapipe.tasks.python.core.base_options import BaseOptions

    class NoUploadOptions(BaseOptions):
        def to_ctypes(self):
            options = super().to_ctypes()
            if hasattr(options, "ca_bundle_path"):
                options.ca_bundle_path = os.devnull.encode()
            return options

    return NoUploadOptions(model_asset_path=str(path))


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
