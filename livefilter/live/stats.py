"""Rolling timings of the live pipeline's stages and its frame rate."""

from __future__ import annotations

import collections
import threading

import numpy as np


class Stats:
    """Rolling per-stage timings (ms) and frame rate; safe across threads (the render loop and the analysis
    worker add, the preview window reads): summaries work on a copy taken under the lock."""

    def __init__(self, window: int = 600):
        self.stages: dict[str, collections.deque] = collections.defaultdict(lambda: collections.deque(maxlen=window))
        self.times = collections.deque(maxlen=window)
        self.frames = 0
        self._lock = threading.Lock()

    def add(self, stage: str, ms: float) -> None:
        with self._lock:
            self.stages[stage].append(ms)

    def tick(self, t: float) -> None:
        with self._lock:
            self.times.append(t)
            self.frames += 1

    @property
    def fps(self) -> float:
        with self._lock:
            if len(self.times) < 2:
                return 0.0
            n, first, last = len(self.times), self.times[0], self.times[-1]
        return (n - 1) / max(last - first, 1e-9)

    def summary(self) -> dict:
        with self._lock:
            frames = self.frames
            stages = [(k, list(v)) for k, v in self.stages.items()]
        out = {"frames": frames, "fps": round(self.fps, 2)}
        for k, v in stages:
            if v:
                a = np.asarray(v)
                p50, p95, p99 = (round(float(np.percentile(a, q)), 3) for q in (50, 95, 99))
                out[k] = {"p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "max_ms": round(float(a.max()), 3)}
        return out
