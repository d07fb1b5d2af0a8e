"""The incremental target is judged with a worker running; the cold sync and the start-up
floor are reported beside it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bench.measure import Measurement, Sample
from bench.report import Report

pytestmark = pytest.mark.unit


def _add(report: Report, method: str, seconds: float, result: dict) -> None:
    sample = Sample(seconds=seconds, peak_rss_mb=400, result=result)
    report.add(Measurement(method, None, [sample], warmup=0))


def _report(*, cold: bool) -> Report:
    report = Report(options=SimpleNamespace(rows=5_000_000, small_rows=1_000_000))
    _add(report, "exhub_full", 12.0, {"timings": {"extract": 11.0, "validate": 11.2}})
    _add(report, "exhub_incremental", 1.08, {"timings": {"extract": 0.5, "validate": 0.4}})
    _add(
        report,
        "exhub_start_floor",
        1.6,
        {"cli_import_s": 0.6, "engine_import_s": 0.25, "total_s": 1.5},
    )
    if cold:
        _add(report, "exhub_incremental_cold", 3.0, {"timings": {"extract": 0.6, "validate": 1.5}})
    return report


def _incremental(report: Report):
    return next(t for t in report.targets() if t.key == "incremental_vs_full")


def test_the_target_is_the_worker_run_and_the_cold_run_is_said_beside_it():
    report = _report(cold=True)
    assert report.ratios()["incremental_vs_full_time"] == pytest.approx(0.09)
    assert report.ratios()["incremental_cold_vs_full_time"] == pytest.approx(0.25)
    target = _incremental(report)
    assert target.met and "exhub worker" in target.text
    assert "(the CLI 0.60 s, the engine's stages 0.25 s, then Great Expectations)" in target.why
    assert "takes 1.60 s, 0.133× the full sync" in target.why
    assert "in a fresh process takes 3.00 s, 0.250× the full sync" in target.why


def test_without_a_cold_measurement_the_why_keeps_the_floor_only():
    report = _report(cold=False)
    assert report.ratios()["incremental_cold_vs_full_time"] is None
    why = _incremental(report).why
    assert "imports what a sync imports" in why
    assert "fresh process" not in why
