"""The native-log filter's pump (livefilter.nativelogs): what comes down the pipe that fd 2 was switched to goes on
to the real stderr, less the lines ``native`` matches. Run as a script by a child Python (``python -I -S`` this
file: it imports nothing of livefilter), or called in a thread where no child can be started."""

from __future__ import annotations

import os
import re
import signal
import sys


def pump(read, write, ack, native: re.Pattern, mark: bytes) -> None:
    """Forward ``read()``'s bytes to ``write`` line by line, dropping ``native`` lines (and an empty line right after
    one), until ``read()`` gives b"".
    A ``mark`` line is not forwarded: ``ack()`` says everything before it is through (it may end another writer's
    unfinished line: that part goes on). A partial line starting with a carriage return (a progress bar's redraw)
    is forwarded at once: it has no line end to wait for."""
    pending, dropped = b"", False
    while data := read():
        pending += data
        while (end := pending.find(b"\n")) >= 0:
            line, pending = pending[:end + 1], pending[end + 1:]
            if line.endswith(mark):
                ack()
                line = line[:-len(mark)]
            if not line:
                continue
            # an empty line right after a dropped one is its end (OpenCV ends an error with one): dropped too
            drop = native.match(line) is not None or (dropped and line in (b"\n", b"\r\n"))
            if not drop:
                write(line)
            dropped = drop
        if pending.startswith(b"\r"):
            write(pending)
            pending, dropped = b"", False
    if pending:
        write(pending)


def main() -> None:
    """argv: the native pattern (latin-1), the mark (latin-1), the fd to acknowledge a mark on. The terminal's
    Ctrl+C and hang-up reach the whole process group: ignored here, the pump ends when every writer has closed the
    pipe (so what the process being filtered printed as it was stopped or crashed still arrives)."""
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    native, mark = re.compile(sys.argv[1].encode("latin-1")), sys.argv[2].encode("latin-1")
    ack_fd = int(sys.argv[3])

    def write(b):
        os.write(1, b)

    pump(lambda: os.read(0, 65536), write, lambda: os.write(ack_fd, b"1"), native, mark)


if __name__ == "__main__":
    main()
