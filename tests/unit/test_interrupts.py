"""Ctrl-C that DuckDB caught first still ends a command as Ctrl-C, not as a failure."""

from __future__ import annotations

import os
import signal
import threading
import time

import duckdb
import pytest

from exhub.cli import main as cli_main
from exhub.interrupts import ctrl_c_interrupts, ended_by_ctrl_c, is_duckdb_interrupt

pytestmark = pytest.mark.unit

# Minutes of hashing unless interrupted; DuckDB notices between the chunks `range()` yields.
LONG_QUERY = "SELECT sum(hash(range)) FROM range(100000000000)"


def interrupted_query_error() -> Exception:
    con = duckdb.connect()
    threading.Timer(0.3, con.interrupt).start()
    started = time.monotonic()
    try:
        con.sql(LONG_QUERY).fetchall()
    except Exception as exc:  # the error DuckDB raises is what is under test
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


def import_met_ctrl_c() -> ImportError:
    # What importing DuckDB's extension raises when Ctrl-C lands in its initialisation.
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as pressed:
            raise ImportError("Encountered an error while initializing the extension.") from pressed
    except ImportError as exc:
        return exc


def test_an_error_caused_by_ctrl_c_is_ctrl_c():
    assert ended_by_ctrl_c(import_met_ctrl_c())
    assert ended_by_ctrl_c(KeyboardInterrupt())
    assert ended_by_ctrl_c(interrupted_query_error())
    try:
        try:
            raise interrupted_query_error()
        except duckdb.Error:
            raise OSError("closing the connection failed") from None
    except OSError as cleanup:
        assert not ended_by_ctrl_c(cleanup)  # `from None`: the Ctrl-C was handled
    assert not ended_by_ctrl_c(ImportError("No module named 'duckdb'"))


def test_the_cli_exits_130_when_ctrl_c_broke_an_import(monkeypatch):
    def app_meets_ctrl_c():
        raise import_met_ctrl_c()

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


def test_ctrl_c_marks_the_connection_interrupted_for_every_thread_it_runs_on():
    """The query runs where Python never sees Ctrl-C: only the connection's mark can stop it."""
    con = duckdb.connect()
    outcome: list[BaseException | None] = []

    def run_long_query():
        try:
            con.sql(LONG_QUERY).fetchall()
            outcome.append(None)
        except Exception as exc:  # DuckDB's own stop is under test
            outcome.append(exc)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    query = threading.Thread(target=run_long_query)
    try:
        with pytest.raises(KeyboardInterrupt), ctrl_c_interrupts(con):
            query.start()
            time.sleep(0.3)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(60)  # Ctrl-C ends this wait
        query.join(60)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert not query.is_alive(), "the query ran on after Ctrl-C"
    assert outcome and is_duckdb_interrupt(outcome[0])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler put back
