"""A one-line progress bar with ETA on a terminal; silent when stderr is not a TTY (logs, CI, pipes)."""

from __future__ import annotations

import sys
import time

from ..nativelogs import stderr_isatty


class ProgressBar:
    """``bar(done, total)``: redraws at most 10 times a second; ``close()`` ends the line."""

    def __init__(self, label: str = "", unit: str = "frames", stream=None, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        if enabled is None:  # the CLI's stderr is the native-log filter's pipe: whether the real one is a terminal
            enabled = stderr_isatty() if stream is None else self.stream.isatty()
        self.enabled = enabled
        self.label, self.unit = label, unit
        self.t0 = time.monotonic()
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        el = now - self.t0
        rate = done / el if el > 0 else 0.0
        frac = min(done / total, 1.0) if total else 0.0
        eta = (total - done) / rate if rate > 0 and total else 0.0
        bar = "#" * int(frac * 24)
        self.stream.write(f"\r{self.label} [{bar:<24}] {frac * 100:5.1f}% {done}/{total} {self.unit} "
                          f"{rate:.1f}/s ETA {int(eta) // 60}:{int(eta) % 60:02d} ")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
