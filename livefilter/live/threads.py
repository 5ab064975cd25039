"""Thread helpers of the live pipeline: closing many things, the interpreter's switch interval while a pipeline
runs, and the look worker's low priority."""

from __future__ import annotations

import logging
import os
import sys
import threading

import numba

log = logging.getLogger("livefilter.live.pipeline")


def close_all(objs, keep: tuple = ()) -> list:
    """Close each of ``objs``, going on past failures: those of the types in ``keep`` are returned (for the caller
    to raise), the others logged."""
    kept = []
    for obj in objs:
        try:
            obj.close()
        except keep as exc:
            kept.append(exc)
        except Exception as exc:  # noqa: BLE001 - closing must go on for the others
            log.warning("closing %s failed: %s", getattr(obj, "name", obj), exc)
    return kept


_switch = {"users": 0, "saved": None}
_switch_lock = threading.Lock()


def fast_switching(on: bool) -> None:
    """Lower the interpreter's switch interval while at least one pipeline runs; the first start saves the value
    found, the last close puts it back (sys.setswitchinterval is process-wide)."""
    with _switch_lock:
        if on:
            if _switch["users"] == 0:
                _switch["saved"] = sys.getswitchinterval()
            _switch["users"] += 1
            sys.setswitchinterval(min(sys.getswitchinterval(), 0.0005))
        elif _switch["users"] > 0:
            _switch["users"] -= 1
            if _switch["users"] == 0:
                sys.setswitchinterval(_switch["saved"])


def background_thread() -> None:
    """Make the look worker yield to the render loop: lowest CPU priority and a single numba thread for baking.

    On 2 cores a fit + bake running at normal priority doubled the render loop's p99 frame time (measured with
    ``bench-live --swap``)."""
    numba.set_num_threads(1)  # thread-local in numba
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # Linux: per-thread nice
    except (AttributeError, OSError):
        pass
