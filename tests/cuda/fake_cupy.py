"""A stand-in for the few CuPy calls livefilter's CUDA backend makes, on the CPU, so the backend's host logic
(input checks, buffer sizing, strip offsets, asynchronous copies, the one host wait per frame, constants) runs in
CI without a GPU. Device memory is numpy; copies and kernels are queued on their stream and run when a host wait
needs them, in an order CUDA allows but a careless host program would not expect (``Log.schedule``: "others
first" runs the other streams' work before the waited one's, "lazy" runs a stream's work only when something
waits for it), so a missing ``wait_event`` shows as a wrong picture; the kernel runs the float
reference (livefilter.render.render_float) on its rows, on what was uploaded: the table read through the uploaded
input-code positions (``seen_by_kernel``), so an upload that is not the LUT shows as a wrong picture. What it
cannot check is CuPy itself: tools/gpu_check.py runs the real thing.
"""

from __future__ import annotations

import ctypes
import types

import numpy as np


class Log:
    def __init__(self):
        self.allocs = 0
        self.host_waits = 0
        self.launches = []
        self.copies = []  # (kind, stream id, nbytes)
        self.compile_error: Exception | None = None
        self.launch_error: Exception | None = None  # raised by every kernel launch while set (a device failure)
        self.args: dict = {}  # kernel class name -> the last launch's argument tuple
        self.schedule = "others first"  # or "lazy" (see the module docstring)
        self.skip_waits: set = set()  # ids of events whose wait_event is dropped (tests showing a wait matters)


class MemoryPointer:
    def __init__(self, buf: np.ndarray, off: int = 0, log: Log | None = None):
        self.buf, self.off, self.log = buf, off, log

    def __add__(self, k: int) -> MemoryPointer:
        return MemoryPointer(self.buf, self.off + k, self.log)

    def _check(self, nbytes):
        assert 0 <= self.off and self.off + nbytes <= self.buf.nbytes, "device copy out of bounds"

    def copy_from_host_async(self, ptr: int, nbytes: int, stream=None):
        assert stream is not None, "copies must name their stream"
        self._check(nbytes)
        dst = self.buf.ctypes.data + self.off
        stream.enqueue(lambda: ctypes.memmove(dst, ptr, nbytes))
        self.log.copies.append(("h2d", id(stream), nbytes))

    def copy_to_host_async(self, ptr: int, nbytes: int, stream=None):
        assert stream is not None, "copies must name their stream"
        self._check(nbytes)
        src = self.buf.ctypes.data + self.off
        stream.enqueue(lambda: ctypes.memmove(ptr, src, nbytes))
        self.log.copies.append(("d2h", id(stream), nbytes))


def seen_by_kernel(table: np.ndarray, coords: np.ndarray):
    """The LUT the kernel computes from an uploaded table (n, n, n, 3) and its coords (3, 256): input code v of
    channel c at position coords[c, v] in the table, then trilinear / tetrahedral, as a Lut whose 256-entry shaper
    holds those positions (over [0, 1])."""
    from livefilter.luts.lut import Lut

    n = table.shape[0]
    return Lut(table, shaper=np.asarray(coords, np.float64).T / (n - 1))


class DeviceArray:
    def __init__(self, a: np.ndarray, log: Log):
        self.a = a
        self.shape, self.dtype, self.nbytes = a.shape, a.dtype, a.nbytes
        self.data = MemoryPointer(a.reshape(-1).view(np.uint8), 0, log)


def make(log: Log | None = None):
    """A fake ``cupy`` module and ``cupyx`` module sharing one :class:`Log`."""
    log = log or Log()
    current = []
    streams = []

    def step(s) -> bool:
        """Run the head of stream s's queue; False when it waits for an event not yet reached."""
        op = s.queue[0]
        if op[0] == "wait" and op[1].fired < op[2]:
            return False
        s.queue.pop(0)
        if op[0] == "run":
            op[1]()
        elif op[0] == "record":
            op[1].fired = max(op[1].fired, op[2])
        return True

    def drain(s, until=None) -> None:
        """Run stream s's work in order (until ``until()`` holds), running what its waits wait for first."""
        while s.queue and not (until and until()):
            op = s.queue[0]
            if op[0] == "wait" and op[1].fired < op[2]:
                ev, t = op[1], op[2]
                drain(ev.where[t], until=lambda ev=ev, t=t: ev.fired >= t)
            step(s)

    def host_wait(s, until=None) -> None:
        log.host_waits += 1
        if log.schedule == "others first":
            progressed = True
            while progressed:
                progressed = False
                for other in streams:
                    if other is not s and other.queue and step(other):
                        progressed = True
        drain(s, until)

    class Stream:
        def __init__(self, non_blocking=False):
            self.non_blocking = non_blocking
            self.queue = []
            streams.append(self)

        def __enter__(self):
            current.append(self)
            return self

        def __exit__(self, *a):
            current.pop()

        def enqueue(self, fn) -> None:
            self.queue.append(("run", fn))

        def synchronize(self):
            host_wait(self)

        def wait_event(self, event):
            if id(event) not in log.skip_waits:
                self.queue.append(("wait", event, event.ticket))  # the event's latest record, as CUDA does

    class Event:
        def __init__(self, block=False, disable_timing=False, interprocess=False):
            self.ticket = self.fired = 0
            self.where = {}

        def record(self, stream=None):
            s = stream if stream is not None else current[-1]
            self.ticket += 1
            self.where[self.ticket] = s
            s.queue.append(("record", self, self.ticket))

        def synchronize(self):
            t = self.ticket
            if t:
                host_wait(self.where[t], until=lambda: self.fired >= t)
            else:
                log.host_waits += 1

    class Kernel:
        max_threads_per_block = 1024

        def __call__(self, grid, block, args, shared_mem=0):
            from livefilter.render import render_float

            assert current, "the kernel must be launched inside a stream context"
            if log.launch_error is not None:
                raise log.launch_error
            log.args[type(self).__name__] = args
            (src, dst, w, y0, y1, lut, n, coords, deg, dh, dw, ky, kx, strength, c0, tetra) = args
            for v, t in ((w, np.int32), (y0, np.int32), (y1, np.int32), (n, np.int32),
                         (dh, np.int32), (dw, np.int32), (ky, np.float32), (kx, np.float32),
                         (strength, np.float32), (c0, np.int32), (tetra, np.int32)):
                assert type(v) is t, f"kernel argument {v!r} must be {t.__name__}"
            h = src.shape[0]
            assert lut.shape == (n, n, n, 3) and lut.dtype == np.float32
            assert coords.shape == (3, 256) and coords.dtype == np.float32
            assert grid[0] * block[0] >= w and grid[1] * block[1] >= y1 - y0
            assert (dh == 0) or (ky == np.float32(dh) / np.float32(h) and kx == np.float32(dw) / np.float32(w))
            log.launches.append((int(y0), int(y1), id(current[-1])))

            def run():  # on the device, when the stream gets to it: reads the buffers as they are then
                full = render_float(src.a, seen_by_kernel(lut.a, coords.a), degree=deg.a if dh else None,
                                    strength=float(strength), interp="tetrahedral" if tetra else "trilinear",
                                    channels="bgr" if c0 else "rgb")
                dst.a[y0:y1] = full[y0:y1]

            current[-1].enqueue(run)

    class MultiKernel:
        """lf_render_multi: K LUTs mixed by a soft label mask; runs livefilter.render.render_segments_float."""

        max_threads_per_block = 1024

        def __call__(self, grid, block, args, shared_mem=0):
            from livefilter.render import render_segments_float

            assert current, "the kernel must be launched inside a stream context"
            if log.launch_error is not None:
                raise log.launch_error
            log.args[type(self).__name__] = args
            (src, dst, w, y0, y1, luts, k, n, coords, seg, mh, mw, my, mx, deg, dh, dw, ky, kx, strength, c0,
             tetra) = args
            for v, t in ((w, np.int32), (y0, np.int32), (y1, np.int32), (k, np.int32), (n, np.int32),
                         (mh, np.int32), (mw, np.int32), (my, np.float32), (mx, np.float32),
                         (dh, np.int32), (dw, np.int32), (ky, np.float32), (kx, np.float32),
                         (strength, np.float32), (c0, np.int32), (tetra, np.int32)):
                assert type(v) is t, f"kernel argument {v!r} must be {t.__name__}"
            h = src.shape[0]
            assert luts.shape == (k, n, n, n, 3) and seg.shape == (k - 1, mh, mw) and coords.shape == (k, 3, 256)
            assert grid[0] * block[0] >= w and grid[1] * block[1] >= y1 - y0
            assert my == np.float32(mh) / np.float32(h) and mx == np.float32(mw) / np.float32(w)
            assert (dh == 0) or (ky == np.float32(dh) / np.float32(h) and kx == np.float32(dw) / np.float32(w))
            log.launches.append((int(y0), int(y1), id(current[-1])))

            def run():
                full = render_segments_float(src.a, [seen_by_kernel(t, c) for t, c in zip(luts.a, coords.a)],
                                             seg.a, degree=deg.a if dh else None, strength=float(strength),
                                             interp="tetrahedral" if tetra else "trilinear",
                                             channels="bgr" if c0 else "rgb")
                dst.a[y0:y1] = full[y0:y1]

            current[-1].enqueue(run)

    class RawModule:
        def __init__(self, code=None, options=()):
            assert "lf_render" in code
            self.options = options

        def get_function(self, name):
            if log.compile_error is not None:
                raise log.compile_error
            return {"lf_render": Kernel, "lf_render_multi": MultiKernel}[name]()

    def empty(shape, dtype):
        log.allocs += 1
        return DeviceArray(np.zeros(shape, dtype), log)

    def asarray(a):
        return DeviceArray(np.array(a), log)

    def empty_pinned(shape, dtype):
        log.allocs += 1
        return np.zeros(shape, dtype)

    runtime = types.SimpleNamespace(getDeviceCount=lambda: 1,
                                    getDeviceProperties=lambda i: {"name": b"Fake GPU (numpy)"})
    cuda = types.SimpleNamespace(Stream=Stream, Event=Event, runtime=runtime, get_elapsed_time=lambda a, b: 0.05)
    cupy = types.ModuleType("cupy")
    cupy.cuda, cupy.RawModule, cupy.empty, cupy.asarray, cupy.log = cuda, RawModule, empty, asarray, log
    cupyx = types.ModuleType("cupyx")
    cupyx.empty_pinned = empty_pinned
    return cupy, cupyx
