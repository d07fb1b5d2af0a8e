"""Great Expectations in a process forked for the run: same result as on a thread."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pyarrow as pa
import pytest

import exhub.engine.sync as sync
import exhub.validate.expectations as expectations
from exhub.engine.sync import sync_stream
from exhub.validate import gx_import, suite_runs
from exhub.validate.expectations import suite_table
from exhub.validate.suite_runs import (
    ForkedSuiteRun,
    SuiteProcessError,
    ThreadSuiteRun,
    fork_suite_run,
)
from tests.support import hukou_hub
from tests.unit.contracts.test_realistic_rows import REGISTRY, ROWS
from tests.unit.validate.test_generated_suites import gx_frame

pytestmark = pytest.mark.unit

REF = sorted(ROWS)[0]


@pytest.fixture(scope="module", autouse=True)
def gx_loaded():
    gx_import.import_gx()


def _sample(contract, rows: list[dict]) -> pa.Table:
    frame, _ = gx_frame(contract, rows)
    return pa.Table.from_pandas(frame, preserve_index=False)


def _dirty_rows() -> list[dict]:
    clean = ROWS[REF]
    broken = {name: ("不是" if i % 2 else value) for i, (name, value) in enumerate(clean.items())}
    return [clean, broken, clean]


def _with_pid(monkeypatch):
    real = expectations.run_suite

    def recording(contract, frame, prepared=None):
        return real(contract, frame, prepared) | {"pid": os.getpid(), "rows": len(frame)}

    monkeypatch.setattr(expectations, "run_suite", recording)


def _run(kind, contract, samples):
    run = kind(contract)
    for sample in samples:
        run.add(sample)
    run.start()
    return run.result()


def test_the_forked_suite_gives_the_threads_result_from_another_process(monkeypatch):
    _with_pid(monkeypatch)
    contract = REGISTRY.get(REF)
    rows = _dirty_rows()
    samples = [_sample(contract, rows[:1]), _sample(contract, rows[1:])]
    forked = _run(ForkedSuiteRun, contract, samples)
    threaded = _run(ThreadSuiteRun, contract, samples)
    assert forked["pid"] != os.getpid() and threaded["pid"] == os.getpid()
    assert forked["rows"] == threaded["rows"] == 3  # every batch sent reached the suite
    assert not forked["success"]  # the broken row fails expectations there too
    outcome = [(r["expectation_config"]["type"], r["success"]) for r in threaded["results"]]
    assert [(r["expectation_config"]["type"], r["success"]) for r in forked["results"]] == outcome


def test_a_suite_failing_in_its_process_is_reported_with_its_error(monkeypatch):
    def broken(contract, frame, prepared=None):
        raise ValueError("metric provider exploded")

    monkeypatch.setattr(expectations, "run_suite", broken)
    contract = REGISTRY.get(REF)
    with pytest.raises(SuiteProcessError, match="ValueError: metric provider exploded"):
        _run(ForkedSuiteRun, contract, [_sample(contract, [ROWS[REF]])])


def test_a_suite_process_that_dies_is_an_error_not_a_hang(monkeypatch):
    def dies(contract, frame, prepared=None):
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(expectations, "run_suite", dies)
    contract = REGISTRY.get(REF)
    run = ForkedSuiteRun(contract)
    run.add(_sample(contract, [ROWS[REF]]))
    run.start()
    with pytest.raises(SuiteProcessError, match="exit code -9"):
        run.result()


def test_an_abandoned_suite_process_ends_and_nothing_sampled_has_no_result():
    contract = REGISTRY.get(REF)
    run = ForkedSuiteRun(contract)
    run.add(_sample(contract, [ROWS[REF]]))
    run.abandon()
    assert not run._process.is_alive() and run._process.exitcode is not None
    empty = ForkedSuiteRun(contract)
    empty.start()
    assert empty.result() is None and not empty._process.is_alive()


def test_no_fork_with_another_thread_running_or_without_gx_loaded(monkeypatch):
    contract = REGISTRY.get(REF)
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
    monkeypatch.setattr(gx_import, "is_loaded", lambda: True)
    forked = fork_suite_run(contract)
    assert isinstance(forked, ForkedSuiteRun)
    forked.abandon()


def test_the_suite_table_flags_failed_rows_and_keeps_only_what_the_suite_reads():
    from decimal import Decimal

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


def test_a_sync_with_the_forked_suite_reports_what_the_thread_reports(hub_home, monkeypatch):
    hub, source, path, _ = hukou_hub(hub_home, scale=0.05)

    def report(run_kind) -> dict:
        monkeypatch.setattr(sync, "fork_suite_run", run_kind)
        summary = sync_stream(hub, source, source.streams[0], source_file=path, full_refresh=True)
        assert summary.status == "succeeded"
        saved = json.loads((Path(summary.report).parent / "validation.json").read_text())
        assert saved["great_expectations_note"] is None
        return saved["great_expectations"]

    forked, threaded = report(ForkedSuiteRun), report(lambda contract: None)
    assert forked["results"] and forked["statistics"] == threaded["statistics"]


def test_a_suite_process_failing_before_the_sample_is_in_never_blocks_the_run(monkeypatch):
    def cannot_prepare(contract, columns):
        raise RuntimeError("GX context refused")

    monkeypatch.setattr(expectations, "PreparedSuite", cannot_prepare)
    contract = REGISTRY.get(REF)
    run = ForkedSuiteRun(contract)
    big = _sample(contract, [ROWS[REF]] * 2000)
    for _ in range(40):  # far more than a pipe holds: sends must not wait for a dead reader
        run.add(big)
    run.start()
    with pytest.raises(SuiteProcessError, match="GX context refused"):
        run.result()
