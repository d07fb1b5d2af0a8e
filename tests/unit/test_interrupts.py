"""Ctrl-C that DuckDB caught first still ends a command as Ctrl-C, not as a failure."""

from __future__ import annotations

import threading
import time

import duckdb
import pytest

from exhub.cli import main as cli_main
from exhub.interrupts import is_duckdb_interrupt

pytestmark = pytest.mark.unit

# Seconds of hashing in constant memory; DuckDB checks for interrupts between its tasks.
LONG_QUERY = (
    "WITH p AS (SELECT id FROM t) "
    "SELECT sum(hash(a.id, b.id, c.id, d.id)) FROM p a, p b, p c, p d"
)


def interrupted_query_error() -> Exception:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS id FROM range(181)")
    threading.Timer(0.3, con.interrupt).start()
    started = time.monotonic()
    try:
        con.sql(LONG_QUERY).fetchall()
    except Exception as exc:  # noqa: BLE001 - the error DuckDB raises is what is under test
        return exc
    pytest.fail(f"the query ended on its own after {time.monotonic() - started:.1f} s")


def test_duckdbs_own_interrupt_errors_are_recognised():
    assert is_duckdb_interrupt(interrupted_query_error())
    assert is_duckdb_interrupt(RuntimeError("Query interrupted"))  # from a SET or the parser


@pytest.mark.parametrize(
    "error",
    [
        lambda: duckdb.connect().execute("SELECT * FROM no_such_table"),
        lambda: duckdb.connect().execute("SELEC 1"),
    ],
)
def test_other_duckdb_errors_are_failures(error):
    with pytest.raises(duckdb.Error) as raised:
        error()
    assert not is_duckdb_interrupt(raised.value)


def test_a_runtime_error_with_another_message_is_a_failure():
    assert not is_duckdb_interrupt(RuntimeError("query interrupted by the source"))
    assert not is_duckdb_interrupt(ValueError("Query interrupted"))


def test_the_cli_exits_130_when_duckdb_caught_the_ctrl_c(monkeypatch):
    caught = interrupted_query_error()

    def app_meets_ctrl_c():
        raise caught

    monkeypatch.setattr(cli_main, "_run_app", app_meets_ctrl_c)
    with pytest.raises(SystemExit) as exited:
        cli_main.run_here()
    assert exited.value.code == cli_main.EXIT_INTERRUPTED


def test_the_cli_lets_other_errors_through(monkeypatch):
    def app_fails():
        duckdb.connect().execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(cli_main, "_run_app", app_fails)
    with pytest.raises(duckdb.CatalogException):
        cli_main.run_here()
