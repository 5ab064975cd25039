"""Third-party native log lines (MediaPipe / LiteRT / TensorFlow Lite / absl / glog, OpenCV, Ray's C++) kept off
stderr: the command line filters them around a whole run, the models from their loading to their closing, so a
Python program using livefilter sees only its own lines. The filter is a child process reading fd 2 through a pipe:
a crash report still gets through."""

from __future__ import annotations

import contextlib
import os
import re
import select
import subprocess
import sys
import threading
from pathlib import Path

# What MediaPipe / LiteRT / TensorFlow Lite / absl / glog print on the process's stderr from C++ (measured: 8 lines
# per demo run: "INFO: [environment.cc:36] Creating LiteRT environment...", "INFO: Created TensorFlow Lite XNNPACK
# delegate for CPU.", "WARNING: Logging before InitGoogle() is written to STDERR", "W0000 00:00:...
# inference_runner_litert.cc:1433] Input tensor memory is not aligned..."). GLOG_minloglevel, TF_CPP_MIN_LOG_LEVEL
# and ABSL_MIN_LOG_LEVEL (=3) each left all 8 lines, so the lines are filtered out of file descriptor 2 instead.
# OpenCV's own log lines ("[ WARN:0@0.585] global cap_v4l.cpp:915 open VIDEOIO(V4L2:/dev/video0): can't open camera
# by index" when there is no camera) and those of the FFmpeg inside OpenCV (a camera's "[mjpeg @ 0x55...] ..."; video
# files are read with PyAV, whose FFmpeg log is off unless -v) go too: our own line says what went wrong, in words.
# Each pattern is the exact shape of those lines (a source file and line, a thread id, OpenCV's "WARN:0"), not a
# bare "INFO: " or "[ERROR] ": a program's own lines in those shapes pass.
NATIVE_LOG_LINE = re.compile(rb"^(INFO: (?:\[[\w./-]+\.(?:cc|cpp|h):\d+\] |(?:Created|Initialized) TensorFlow Lite"
                             rb"|Replacing \d+ out of \d+ node)"
                             rb"|WARNING: (?:Logging before InitGoogle|All log messages before absl::InitializeLog)"
                             rb"|[IWEF]\d{4} [\d:.]+ +\d+ [\w.-]+:\d+\] "
                             rb"|\[ ?(?:WARN|INFO|ERROR|DEBUG|VERBOSE|FATAL):\d+(?:@[\d.]+)?\] "
                             rb"|\[[\w,.-]+ @ (?:0x)?[0-9a-fA-F]+\] "
                             # Ray's C++ lines: "[2026-12-05 00:28:13,486 E 17283 17283] core_worker.cc:2465: ..."
                             rb"|\[\d{4}-\d\d-\d\d [\d:,.]+ [IWEF] \d+ \d+\] "
                             # a LiteRT line whose "INFO: " another worker process's line split off
                             rb"|\[[\w./-]+\.(?:cc|cpp|h):\d+\] "
                             # the libpng inside OpenCV: "libpng error: Read Error" (a damaged HaldCLUT: our own line
                             # says it), "libpng warning: tEXt: CRC error"
                             rb"|libpng (?:error|warning): )")


_lock = threading.Lock()
_depth = 0  # blocks open: the first one in filters fd 2, the last one out restores it (in any thread)
_filter = None  # the filter in place: (restore fd 2, wait for the pump, the real stderr's fd)
_shown = False


def show_native_logs(on: bool = True) -> None:
    """Let the native log lines through (the command line's -v): :func:`quiet_native_logs` does nothing then."""
    global _shown
    _shown = bool(on)


@contextlib.contextmanager
def quiet_native_logs():
    """Drop third-party native log lines from stderr (fd 2) while the block runs; everything else passes. Blocks
    nest, in one thread or several (the command line's around a whole run, a model's around its loading and each of
    its calls): fd 2 is filtered from the first one in to the last one out. fd 2 is switched only under the lock,
    so a block entered in one thread while another's last block ends gets a filter of its own."""
    global _depth, _filter
    with _lock:
        if _shown:
            entered = False
        else:
            if _depth == 0:
                _filter = _filter_stderr()
            entered = _filter is not None
            _depth += entered
    try:
        yield
    finally:
        if entered:
            ended = None
            with _lock:
                _depth -= 1
                if _depth == 0:
                    restore, ended, _ = _filter
                    _filter = None
                    restore()
            if ended is not None:
                ended()


def hold_quiet():
    """Enter :func:`quiet_native_logs` until the returned function is called (safe to call twice, from any thread):
    a model's life, from its loading to its closing, as one block."""
    block = quiet_native_logs()
    block.__enter__()
    once = threading.Lock()

    def release():
        if once.acquire(blocking=False):
            block.__exit__(None, None, None)

    return release


def stderr_isatty() -> bool:
    """Whether the real stderr is a terminal (while a filter is up, fd 2 is its pipe)."""
    with _lock:
        saved = _filter[2] if _filter is not None else None
    try:
        return os.isatty(saved) if saved is not None else bool(sys.stderr and sys.stderr.isatty())
    except (OSError, ValueError):
        return False


def _flush_stderr() -> None:
    with contextlib.suppress(AttributeError, OSError, ValueError):  # sys.stderr is None with fd 2 closed (2>&-)
        sys.stderr.flush()


_MARK = b"\x1b[livefilter: everything before this line is through]\n"  # argv holds no NUL


def _filter_stderr():
    """Route fd 2 through a pump that drops NATIVE_LOG_LINE lines; returns (restore fd 2, wait until the pump has
    passed on what was written before, the real stderr's fd), or None without a usable fd 2 (closed, an embedded
    interpreter) or a pump to read it."""
    _flush_stderr()
    try:
        saved = os.dup(2)
    except (OSError, ValueError):
        return None
    r, w = os.pipe()
    ack_r, ack_w = os.pipe()
    # the pump is started before fd 2 goes to the pipe: a pipe nobody reads would block every write once full
    if not (_process_pump(r, saved, ack_w) or _thread_pump(r, saved, ack_w)):
        for fd in (r, w, saved, ack_r, ack_w):
            os.close(fd)
        return None
    sync = os.dup(w)  # to send the mark through after fd 2 is restored
    os.dup2(w, 2)
    os.close(w)

    def restore():
        _flush_stderr()
        os.dup2(saved, 2)

    def ended():
        # not the pump's end: a process started meanwhile (multiprocessing's resource tracker, a Ray worker) keeps
        # the pipe as its stderr, and waiting for the pipe to close made every folder `apply` 2 s slower
        with contextlib.suppress(OSError):
            os.write(sync, _MARK)
        os.close(sync)
        with contextlib.suppress(OSError, ValueError):
            if os.name != "posix" or select.select([ack_r], [], [], 2)[0]:  # a stuck terminal: 2 s at most
                os.read(ack_r, 1)
        os.close(ack_r)
        os.close(saved)
        with _pumps_lock:
            _pumps[:] = [p for p in _pumps if p.poll() is None]

    return restore, ended, saved


# The pump as a child process (livefilter/_stderr_pump.py): it outlives a crash of this one, so a crash report
# (faulthandler's "Fatal Python error: Segmentation fault" and its traceback) and the lines just before it still
# reach stderr; a thread pump died with the process and they were lost, all of them. About 20 ms to start, once a
# filter (nested blocks share it).
_PUMP = Path(__file__).with_name("_stderr_pump.py")


def _process_pump(r: int, saved: int, ack_w: int) -> bool:
    """Start the pump process on the pipe's read end ``r``, writing to ``saved``, acknowledging on ``ack_w``; False
    where a child Python cannot be started (a frozen application's executable is the application itself)."""
    if getattr(sys, "frozen", False) or not sys.executable or not _PUMP.is_file():
        return False
    try:
        # in a session of its own: a signal to the whole process group (Ctrl+C in its first milliseconds, before
        # it ignores it; `timeout`'s SIGTERM) no longer ends it while the process it filters still has lines to say
        pump = subprocess.Popen([sys.executable, "-I", "-S", str(_PUMP), NATIVE_LOG_LINE.pattern.decode("latin-1"),
                                 _MARK.decode("latin-1"), str(ack_w)], stdin=r, stdout=saved, stderr=saved,
                                pass_fds=(ack_w,), start_new_session=os.name == "posix")
    except (OSError, ValueError):
        return False
    os.close(r)
    os.close(ack_w)
    with _pumps_lock:  # reaped when it has ended: a Popen dropped while its process ran warned "subprocess N is still
        _pumps[:] = [p for p in _pumps if p.poll() is None] + [pump]  # running" (a ResourceWarning) on every apply
    return True


# the pump processes started that had not ended when last looked at (not waited for at exit: one a worker's
# process still holds the pipe of, multiprocessing's resource tracker, ends after this process)
_pumps: list = []
_pumps_lock = threading.Lock()  # (not _lock: a pump starts under it)


def _thread_pump(r: int, saved: int, ack_w: int) -> bool:
    """The pump as a thread (where no child process can be started); False if no thread can start."""
    from ._stderr_pump import pump

    out = os.dup(saved)

    def run():
        try:
            pump(lambda: os.read(r, 65536), lambda b: os.write(out, b), lambda: os.write(ack_w, b"1"),
                 NATIVE_LOG_LINE, _MARK)
        finally:
            for fd in (r, out, ack_w):
                os.close(fd)

    try:
        threading.Thread(target=run, name="lf-stderr", daemon=True).start()
    except RuntimeError:
        os.close(out)
        return False
    return True
