"""How a run stops on Ctrl+C (SIGINT), SIGTERM and SIGHUP (the terminal or SSH session closed): cleanly, with what
was written finalised or removed, instead of the default action (killed, an unfinished hidden temp file left)."""

from __future__ import annotations

import contextlib
import signal
import threading
import time

#: the signals that stop a run cleanly
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def _handled_by(handler):
    """``handler`` for the STOP_SIGNALS while the block runs, the handlers before it put back after. A signal the
    process was told to ignore stays ignored (``nohup``'s SIGHUP, a background job's SIGINT: a closed terminal
    stopped a run started with nohup)."""
    old = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS if signal.getsignal(sig) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


class Stopped(KeyboardInterrupt):
    """A run ended by SIGTERM or SIGHUP where the command has no graceful stop of its own (fit, info, export): raised
    where the program is, as Ctrl+C's KeyboardInterrupt is, so that temporary files are removed on the way out
    (the default action killed the process: fit left its hidden temporaries)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.signal = name


@contextlib.contextmanager
def interrupt_on_signals():
    """SIGTERM and SIGHUP raise :class:`Stopped` while the block runs (Ctrl+C raises KeyboardInterrupt already);
    the commands that stop gracefully put their own handlers in place inside it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Stopped(signal.Signals(signum).name) if signum != signal.SIGINT else KeyboardInterrupt

    with _handled_by(handler):
        yield


class StopEvent(threading.Event):
    signal: str | None = None


@contextlib.contextmanager
def stop_event_on_signals():
    """An Event set by the first Ctrl+C, SIGTERM or SIGHUP (a video in progress then ends cleanly: its temporary file
    removed, or finalised with --keep-partial); a second signal interrupts at once."""
    stop = StopEvent()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.signal = signal.Signals(signum).name
        stop.set()

    with _handled_by(handler):
        yield stop


#: seconds after the signal that stopped a live run in which another is taken as the same request, not as
#: "interrupt at once": `timeout -s INT` and a signal to the process group deliver it twice, and an impatient Ctrl+C
#: comes twice; the second one cut the recording's finalisation (2 of 11 runs under `timeout` lost the file and left
#: an unplayable hidden temporary)
REPEAT_GRACE = 2.0


@contextlib.contextmanager
def stop_on_signals(pipeline=None):
    """Ctrl+C (SIGINT), SIGTERM and SIGHUP (a closed terminal or SSH session) end a run gracefully: the render
    loop finishes the frame in hand and stops, devices are released and a recording is finalised with every frame
    counted (an exception raised between a sink's write and the frame count made the two disagree by one; the
    default action of SIGTERM / SIGHUP would kill the process and leave an unfinished hidden temp file). The block
    should hold the pipeline's closing too (its recording's finalisation). A signal within :data:`REPEAT_GRACE`
    seconds of the one that stopped the run is the same request; a later one while stopping interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    first: list[float] = []

    def handler(signum, frame):
        if pipeline is None:
            raise KeyboardInterrupt
        if not first:  # the request that stops the run (before it starts, or as it ends on its own, too)
            first.append(time.monotonic())
            if pipeline.running:  # a run that ended on its own (--duration, q, its window closed) says so instead
                pipeline.stopped_by_signal = signal.Signals(signum).name
            pipeline.stop()
        elif time.monotonic() - first[0] >= REPEAT_GRACE:
            raise KeyboardInterrupt  # asked again, later: interrupt at once

    with _handled_by(handler):
        yield
