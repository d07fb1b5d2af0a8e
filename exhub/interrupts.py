"""Telling Ctrl-C apart from a failure when DuckDB was running.

DuckDB consumes the pending KeyboardInterrupt itself and raises its own error instead: a
``duckdb.InterruptException`` from queries, a bare ``RuntimeError("Query interrupted")`` from
other entry points (a ``SET`` while connecting, the parser). Any DuckDB call can meet Ctrl-C,
so both the query gateway and the CLI's entry point ask here. Standard library only: the
entry point must stay light, so the class is recognised by name rather than imported.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Protocol

DUCKDB_INTERRUPT_MESSAGE = "Query interrupted"


class Interruptible(Protocol):
    """A DuckDB connection, as far as stopping it goes."""

    def interrupt(self) -> None:
        """Mark the running query interrupted; DuckDB's threads stop at their next chunk."""


def ended_by_ctrl_c(exc: BaseException) -> bool:
    """Whether Ctrl-C is what ``exc`` reports, directly or as the cause of another error.

    Besides DuckDB's own errors, a C extension that meets Ctrl-C while Python imports it
    (DuckDB's does) raises ImportError "from" the KeyboardInterrupt.
    """
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt) or is_duckdb_interrupt(error):
            return True
        seen.add(id(error))
        if error.__cause__ is not None:
            error = error.__cause__
        else:  # ``raise ... from None`` says the error before was dealt with
            error = None if error.__suppress_context__ else error.__context__
    return False


def is_duckdb_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB's report of a Ctrl-C (not a failure of the query)."""
    if any(
        cls.__name__ == "InterruptException" and cls.__module__.lstrip("_") == "duckdb"
        for cls in type(exc).__mro__
    ):
        return True
    return type(exc) is RuntimeError and str(exc) == DUCKDB_INTERRUPT_MESSAGE


@contextmanager
def ctrl_c_interrupts(connection: Interruptible) -> Iterator[None]:
    """Make Ctrl-C stop what ``connection`` is running, on every one of DuckDB's threads.

    DuckDB notices Ctrl-C on the thread that waits for the query, then waits for the tasks
    still running to end, without telling them to stop: a task one of its worker threads
    took (a single-threaded scan, say) runs on to its end, minutes if the query is long.
    Here Ctrl-C first marks the connection interrupted, which every task checks between
    chunks, then goes on as Python's own Ctrl-C. Outside the main thread (where Python never
    sees signals) this changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        connection.interrupt()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
