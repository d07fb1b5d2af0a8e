"""Python's cyclic garbage collector paused while the stack imports.

Importing exhub's stack (pyarrow, pandas, pyiceberg, SQLAlchemy) and then Great Expectations
allocates about a million long-lived objects. Each time an import crosses the collector's
threshold, a full collection walks every object allocated so far, so the collector's cost
grows with what is already loaded: measured on the benchmark machine, it made an incremental
sync 1.5 s slower (5.3 s → 3.8 s) and a full one 1.2 CPU-s. Import code creates no garbage
worth collecting; once the imports are done the objects are moved to the permanent
generation (``gc.freeze``) so later collections skip them, and the collector is switched
back on.

Pauses nest and may overlap across threads (the CLI's imports, then Great Expectations'
import on its prewarm thread): the collector runs again when the last one ends, and only if
it was enabled when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


def hold() -> None:
    """Begin a pause (the collector stops if this is the first)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1


def release() -> None:
    """End a pause; the last one freezes what was loaded and restarts the collector."""
    global _holders
    with _lock:
        if _holders == 0:
            raise RuntimeError("gc_pause.release() without a matching hold()")
        _holders -= 1
        if _holders == 0:
            gc.freeze()
            if _was_enabled:
                gc.enable()


@contextmanager
def paused() -> Iterator[None]:
    """The collector is off for the body (and for any pause that overlaps it)."""
    hold()
    try:
        yield
    finally:
        release()
