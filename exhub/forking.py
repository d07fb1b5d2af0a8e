"""Whether this process may fork now: a forked process keeps only the forking thread.

Another thread's locks are copied held if that thread held them at the fork, and the copy
waits for them forever. A thread that only ever waits in a system call holding nothing (the
worker's watch on its caller's connection) is marked safe; any other thread rules a fork
out. So does a library that started native threads Python cannot see: DuckDB's fork handler
joins, in the forked process, pool threads that process does not have, and never returns.
"""

from __future__ import annotations

import threading

_SAFE = "exhub_fork_safe"
_native_threads: set[str] = set()


def fork_safe(thread: threading.Thread) -> threading.Thread:
    """Mark a thread that never holds a lock a forked process could need."""
    setattr(thread, _SAFE, True)
    return thread


def native_threads_started(library: str) -> None:
    """Record that ``library`` may run threads of its own from now on (for good)."""
    _native_threads.add(library)


def may_fork() -> bool:
    """True when every thread but this one is marked fork-safe and no library runs its own."""
    if _native_threads:
        return False
    current = threading.current_thread()
    return all(t is current or getattr(t, _SAFE, False) for t in threading.enumerate())
