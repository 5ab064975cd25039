"""What the command line's exit status says: 0 ok, 1 a failure (an unexpected error, a file that failed part-way),
2 bad usage or bad input (one line on stderr, no traceback), 128 + N a run ended by signal N (130: Ctrl+C). `live`
ends by a signal as a matter of course: 0 once its recording is complete."""

from __future__ import annotations

import signal

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2


def signal_exit(name: str | None) -> int:
    """The shell's code for a run ended by signal ``name`` (128 + its number; Ctrl+C when unknown)."""
    return 128 + (signal.Signals[name].value if name else signal.SIGINT.value)
