"""The process's memory allocator, set for long runs of large per-frame buffers."""

from __future__ import annotations

import ctypes
import os

# glibc raises its mmap threshold to the size of each large block freed, so the per-frame buffers (6 MB at 1080p)
# come from the threads' heap arenas, which fragment; a fixed 1 MiB threshold maps and unmaps each of them: +1.6 %
# resident memory over 3,000 1080p frames instead of +13 % (docs/decisions.md, 'malloc threshold').
MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def steady_memory() -> bool:
    """Fix glibc's mmap threshold (see MMAP_THRESHOLD) for this process; False where the C library has no
    mallopt (musl, macOS, Windows) or a user set MALLOC_MMAP_THRESHOLD_ themselves."""
    if os.environ.get("MALLOC_MMAP_THRESHOLD_"):
        return False
    try:
        return bool(ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False
