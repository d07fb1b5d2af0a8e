"""Telling Ctrl-C apart from a failure when DuckDB was running.

DuckDB consumes the pending KeyboardInterrupt itself and raises its own error instead: a
``duckdb.InterruptException`` from queries, a bare ``RuntimeError("Query interrupted")`` from
other entry points (a ``SET`` while connecting, the parser). Any DuckDB call can meet Ctrl-C,
so both the query gateway and the CLI's entry point ask here. Standard library only: the
entry point must stay light, so the class is recognised by name rather than imported.
"""

from __future__ import annotations

DUCKDB_INTERRUPT_MESSAGE = "Query interrupted"


def is_duckdb_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB's report of a Ctrl-C (not a failure of the query)."""
    if any(
        cls.__name__ == "InterruptException" and cls.__module__.lstrip("_") == "duckdb"
        for cls in type(exc).__mro__
    ):
        return True
    return type(exc) is RuntimeError and str(exc) == DUCKDB_INTERRUPT_MESSAGE
