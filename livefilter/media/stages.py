"""Items through a chain of threads: an iterator read in one thread, each stage in its own, the caller consuming
the results in order, with small bounded queues between them so the slowest stage sets the pace and memory stays
flat. The first error anywhere stops the rest and is raised in the caller's thread.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time

QUEUE_DEPTH = 3
_END = object()


class _Failed:
    def __init__(self, exc):
        self.exc = exc


def _stage(fn, qin, qout, stop):
    while True:
        try:
            item = qin.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                return  # the caller gave up (an error elsewhere): nothing more will come
            continue
        if item is _END or isinstance(item, _Failed):
            qout.put(item)
            return
        if stop.is_set():
            continue  # drain
        try:
            qout.put(fn(item))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            stop.set()
            qout.put(_Failed(exc))
            return


def _produce(it, qout, stop):
    try:
        for item in it:
            if stop.is_set():
                break
            qout.put(item)
    except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
        qout.put(_Failed(exc))
        return
    qout.put(_END)


def run_stages(items, stages, consume, stop: threading.Event, poll: float = 0.2) -> None:
    """``items`` (an iterator, read in a thread) -> each of ``stages`` in its own thread -> ``consume`` here.
    Bounded queues: at most QUEUE_DEPTH items wait between two stages. The first error anywhere stops the others
    and is raised here, after ``consume`` got every item that made it through before it."""
    qs = [queue.Queue(QUEUE_DEPTH) for _ in range(len(stages) + 1)]
    inner = threading.Event()  # stops the stages on an error; ``stop`` (the caller's) only ends the reading
    both = _Either(stop, inner)
    threads = [threading.Thread(target=_produce, args=(items, qs[0], both), name="lf-decode", daemon=True)]
    for k, fn in enumerate(stages):
        threads.append(threading.Thread(target=_stage, args=(fn, qs[k], qs[k + 1], inner), name=f"lf-stage{k}",
                                        daemon=True))
    for t in threads:
        t.start()
    failure = None
    try:
        while True:
            try:
                item = qs[-1].get(timeout=poll)
            except queue.Empty:
                continue
            if item is _END:
                break
            if isinstance(item, _Failed):
                failure = item.exc
                break
            consume(item)
    except BaseException:
        inner.set()
        raise
    finally:
        if failure is not None:
            inner.set()
        deadline = time.monotonic() + 10
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            for q in qs:  # unblock the threads waiting on full queues; they see ``inner`` and end
                with contextlib.suppress(queue.Empty):
                    while True:
                        q.get_nowait()
            time.sleep(0.005)
    if failure is not None:
        raise failure


class _Either:
    """is_set() of either event (the producer stops on the caller's stop or on an error)."""

    def __init__(self, a, b):
        self.a, self.b = a, b

    def is_set(self):
        return self.a.is_set() or self.b.is_set()
