"""Whether this process may fork now: a forked process keeps only the forking thread.

Another thread's locks are copied held if that thread held them at the fork, and the copy
waits for them forever. A thread that only ever waits in a system call holding nothing (the
worker's watch on its caller's connection) is marked safe; any other thread rules a fork
out.
"""

from __future__ import annotations

import threading

_SAFE = "exhub_fork_safe"


def fork_safe(thread: threading.Thread) -> threading.Thread:
    """Mark a thread that never holds a lock a forked process could need."""
    setattr(thread, _SAFE, True)
    return thread


def may_fork() -> bool:
    """True when every thread but this one is marked fork-safe."""
    current = threading.current_thread()
    return all(t is current or getattr(t, _SAFE, False) for t in threading.enumerate())
