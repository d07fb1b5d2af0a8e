"""Great Expectations in a process forked for the run: same result as on a thread."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from decimal import Decimal

import pyarrow as pa
import pytest

from exhub import forking
from exhub.validate import gx_import, suite_runs
from exhub.validate.expectations import suite_table
from exhub.validate.suite_runs import fork_suite_run
from tests.unit.contracts.test_realistic_rows import REGISTRY, ROWS

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def probe() -> dict:
    """Every forked case, run in an interpreter that has not started DuckDB."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.unit.validate.forked_suite_probe"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_forked_suite_gives_the_threads_result_from_another_process(probe):
    forked, threaded = probe["forked"], probe["thread"]
    assert probe["may_fork"]  # a fresh interpreter with GX imported may fork
    assert forked["pid"] != probe["probe_pid"] and threaded["pid"] == probe["probe_pid"]
    assert forked["rows"] == threaded["rows"] == 3  # every batch sent reached the suite
    assert not forked["success"]  # the broken row fails expectations there too
    assert forked["outcome"] == threaded["outcome"]


def test_a_failing_or_dying_suite_process_is_an_error_not_a_hang(probe):
    assert "ValueError: metric provider exploded" in probe["failed"]
    assert "exit code -9" in probe["died"]
    assert "GX context refused" in probe["prepare_failed"]  # and its sends did not block


def test_an_abandoned_suite_process_ends_and_nothing_sampled_has_no_result(probe):
    assert probe["abandoned_exit"] is not None
    assert probe["empty"] is None and not probe["empty_alive"]


def test_no_fork_with_another_thread_running_or_without_gx_loaded(monkeypatch):
    contract = REGISTRY.get(sorted(ROWS)[0])
    monkeypatch.setattr(forking, "_native_threads", set())
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert fork_suite_run(contract) is None  # it would copy that thread's locks
    finally:
        release.set()
        other.join()
    monkeypatch.setattr(suite_runs, "may_fork", lambda: True)
    monkeypatch.setattr(gx_import, "is_loaded", lambda: False)
    assert fork_suite_run(contract) is None  # the fork would import GX all over again


def test_no_fork_once_duckdb_has_started_its_threads(monkeypatch):
    from exhub import duck

    monkeypatch.setattr(forking, "_native_threads", set())
    monkeypatch.setattr(forking.threading, "enumerate", lambda: [threading.current_thread()])
    assert forking.may_fork()
    duck.connect().close()
    assert not forking.may_fork()  # its fork handler would hang the forked process


def test_the_suite_table_flags_failed_rows_and_keeps_only_what_the_suite_reads():
    values = pa.table(
        {
            "id": ["a", "b", "c"],
            "fee": pa.array([Decimal("1.50"), None, Decimal("2.25")], pa.decimal128(12, 2)),
            "unread": [1, 2, 3],
        }
    )
    failed = {"id.type": pa.array([False, True, None])}
    table = suite_table(values, ["id.type", "fee.type"], failed, ["id", "fee"])
    assert table.column_names == ["id", "fee", "id.type__ok", "fee.type__ok"]
    assert table.column("id.type__ok").to_pylist() == [True, False, True]
    assert table.column("fee.type__ok").to_pylist() == [True, True, True]
    assert table.column("fee").to_pylist() == [1.5, None, 2.25]  # exact as a double
