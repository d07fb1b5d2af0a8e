"""Keep a run's resident memory close to what it really holds.

Arrow's default pool (mimalloc) keeps freed buffers for reuse, and glibc keeps freed heap
pages after pandas and numpy temporaries are gone. At 5M rows that was about 250 MB of the
peak RSS of a sync, for no measurable speed gain (docs/benchmarks.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from functools import cache

import pyarrow as pa


def use_system_allocator() -> None:
    """Let Arrow free batches back to the system (``ARROW_DEFAULT_MEMORY_POOL`` still decides)."""
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        pa.set_memory_pool(pa.system_memory_pool())


@cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)  # glibc only
    if trim is not None:
        trim.argtypes = [ctypes.c_size_t]
    return trim


def return_freed_memory() -> None:
    """Hand freed heap pages back to the system after a phase that used many temporaries."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
