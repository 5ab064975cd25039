"""What the command line prints besides its own lines: Python's logging and warnings as one line each
("livefilter: ...", "livefilter: warning: ..."), and third-party native log lines filtered out of stderr."""

from __future__ import annotations

import logging
import sys

from ..nativelogs import NATIVE_LOG_LINE, quiet_native_logs, show_native_logs  # noqa: F401 (the CLI's names)


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
