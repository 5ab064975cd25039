"""What the command line prints besides its own lines: Python's logging and warnings as one line each
("livefilter: ...", "livefilter: warning: ..."), and third-party native log lines filtered out of stderr."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading


class _LineFormat(logging.Formatter):
    """"livefilter: MESSAGE"; FFmpeg's own lines (PyAV's "libav.*" loggers) as "livefilter: FFmpeg h264: MESSAGE"."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name.startswith("libav."):
            return f"livefilter: FFmpeg {record.name[6:]}: {record.getMessage()}"
        return f"livefilter: {record.getMessage()}"


def log_to_stderr(debug: bool, verbose: bool) -> None:
    """Log lines on stderr as "livefilter: MESSAGE": INFO and above (DEBUG with ``debug``, LIVEFILTER_DEBUG=1);
    ``verbose`` (-v): our own debug lines too (why a render backend was not used...) and FFmpeg's warnings."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LineFormat())
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, handlers=[handler])
    if verbose:
        logging.getLogger("livefilter").setLevel(logging.DEBUG)
        import av.logging  # PyAV keeps FFmpeg's log off unless asked

        av.logging.set_level(av.logging.WARNING)


def show_warning(message, category, filename, lineno, file=None, line=None):
    """warnings.showwarning for the command line: one line, no source line."""
    print(f"livefilter: warning: {message}", file=sys.stderr)


# What MediaPipe / LiteRT / TensorFlow Lite / absl / glog print on the process's stderr from C++ (measured: 8 lines
# per demo run: "INFO: [environment.cc:36] Creating LiteRT environment...", "INFO: Created TensorFlow Lite XNNPACK
# delegate for CPU.", "WARNING: Logging before InitGoogle() is written to STDERR", "W0000 00:00:...
# inference_runner_litert.cc:1433] Input tensor memory is not aligned..."). GLOG_minloglevel, TF_CPP_MIN_LOG_LEVEL
# and ABSL_MIN_LOG_LEVEL (=3) each left all 8 lines, so the lines are filtered out of file descriptor 2 instead.
# OpenCV's own log lines ("[ WARN:0@0.585] global cap_v4l.cpp:915 open VIDEOIO(V4L2:/dev/video0): can't open camera
# by index" when there is no camera) and those of the FFmpeg inside OpenCV (a camera's "[mjpeg @ 0x55...] ..."; video
# files are read with PyAV, whose FFmpeg log is off unless -v) go too: our own line says what went wrong, in words.
NATIVE_LOG_LINE = re.compile(rb"^(INFO: |WARNING: Logging before InitGoogle|[IWEF]\d{4} [\d:.]+ +\d+ [\w.-]+:\d+\] "
                             rb"|\[ ?(?:WARN|INFO|ERROR|DEBUG|VERBOSE|FATAL)(?::\d+)?(?:@[\d.]+)?\] "
                             rb"|\[[\w,.-]+ @ (?:0x)?[0-9a-fA-F]+\] "
                             # Ray's C++ lines: "[2026-12-05 00:28:13,486 E 17283 17283] core_worker.cc:2465: ..."
                             rb"|\[\d{4}-\d\d-\d\d [\d:,.]+ [IWEF] \d+ \d+\] "
                             # a LiteRT line whose "INFO: " another worker process's line split off
                             rb"|\[[\w.-]+\.(?:cc|cpp|h):\d+\] )")


@contextlib.contextmanager
def quiet_native_logs():
    """Drop third-party native log lines from stderr (fd 2) while the block runs; everything else passes."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        r, w = os.pipe()
        os.dup2(w, 2)
        os.close(w)
    except OSError:  # no usable fd 2 (embedded interpreters): nothing to filter
        yield
        return

    def pump():
        with os.fdopen(r, "rb", buffering=0) as pipe, os.fdopen(os.dup(saved), "wb", buffering=0) as out:
            for line in iter(pipe.readline, b""):
                if not NATIVE_LOG_LINE.match(line):
                    out.write(line)

    t = threading.Thread(target=pump, name="lf-stderr", daemon=True)
    t.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the pump drains what is left and ends
        t.join(timeout=2)
        os.close(saved)
