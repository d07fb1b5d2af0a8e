"""Great Expectations runs beside the commit; the report is completed after it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import exhub.engine.stages as stages
import exhub.engine.sync as sync
import exhub.engine.validating as validating
import exhub.validate.expectations as expectations
from exhub.engine.sync import sync_stream
from tests.support import event_after_call, hukou_hub

pytestmark = pytest.mark.unit


@pytest.fixture
def hukou(hub_home, monkeypatch):
    # The suite on its thread, whatever this process has imported: the tests wait on events
    # and replace the suite in this process (``test_suite_process`` covers the fork).
    monkeypatch.setattr(sync, "fork_suite_run", lambda contract: None)
    return hukou_hub(hub_home, scale=0.05)


@pytest.fixture
def committed(monkeypatch):
    """Set once the run's commit has returned."""
    return event_after_call(monkeypatch, stages, "commit_run")


def _report(summary) -> dict:
    return json.loads((Path(summary.report).parent / "validation.json").read_text())


def test_the_suite_finishes_after_the_commit_and_the_report_has_its_result(
    hukou, committed, monkeypatch
):
    hub, source, path, _ = hukou
    seen = {}
    real = expectations.run_suite

    def suite_waiting_for_the_commit(contract, frame, prepared=None):
        # Under the old order the commit waited for this suite: the wait would time out.
        seen["commit_first"] = committed.wait(timeout=20)
        return real(contract, frame, prepared)

    monkeypatch.setattr(expectations, "run_suite", suite_waiting_for_the_commit)
    summary = sync_stream(hub, source, source.streams[0], source_file=path, full_refresh=True)
    assert seen == {"commit_first": True}
    assert summary.status == "succeeded"
    report = _report(summary)
    assert report["great_expectations_note"] is None
    assert report["great_expectations"]["results"]
    assert "still checking" not in Path(summary.report).read_text(encoding="utf-8")


def test_a_suite_failing_after_the_commit_is_in_the_report_and_the_run_stands(
    hukou, monkeypatch, caplog
):
    hub, source, path, _ = hukou

    def broken_suite(contract, frame, prepared=None):
        raise ValueError("metric provider exploded")

    monkeypatch.setattr(expectations, "run_suite", broken_suite)
    summary = sync_stream(hub, source, source.streams[0], source_file=path, full_refresh=True)
    assert summary.status == "succeeded" and summary.published > 0
    report = _report(summary)
    assert report["great_expectations"] is None
    assert "metric provider exploded" in report["great_expectations_note"]
    assert "metric provider exploded" in Path(summary.report).read_text(encoding="utf-8")
    # Its message may quote sample values: the log names the failure only.
    assert "Great Expectations failed (ValueError)" in caplog.text
    assert "metric provider exploded" not in caplog.text


def test_a_run_killed_after_its_commit_keeps_a_report_that_says_gx_is_missing(hukou, monkeypatch):
    hub, source, path, _ = hukou

    class Killed(BaseException):
        """Stands in for SIGKILL between the commit and the report's completion."""

    def kill_after_commit(name: str) -> None:
        if name == "after_commit":
            raise Killed

    monkeypatch.setattr(stages, "failpoint", kill_after_commit)
    stream = source.streams[0]
    with pytest.raises(Killed):
        sync_stream(hub, source, stream, source_file=path, full_refresh=True, run_id="r-k")
    folder = hub.settings.warehouse_path / "reports" / "person" / "r-k"
    report = json.loads((folder / "validation.json").read_text())
    assert report["great_expectations"] is None
    assert report["great_expectations_note"] == validating.GX_PENDING_NOTE
    assert validating.GX_PENDING_NOTE in (folder / "validation.html").read_text(encoding="utf-8")
