"""Why the incremental target is missed: the start-up floor and the same sync without it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bench.measure import Measurement, Sample
from bench.report import Report

pytestmark = pytest.mark.unit


def _add(report: Report, method: str, seconds: float, result: dict) -> None:
    sample = Sample(seconds=seconds, peak_rss_mb=400, result=result)
    report.add(Measurement(method, None, [sample], warmup=0))


def _report(*, warm: bool) -> Report:
    report = Report(options=SimpleNamespace(rows=5_000_000, small_rows=1_000_000))
    _add(report, "exhub_full", 12.0, {"timings": {"extract": 11.0, "validate": 11.2}})
    _add(report, "exhub_incremental", 3.0, {"timings": {"extract": 0.6, "validate": 1.5}})
    _add(report, "exhub_start_floor", 1.6, {"cli_import_s": 0.6, "total_s": 1.5})
    if warm:
        _add(report, "exhub_incremental_warm", 2.5, {"import_s": 1.4, "sync_s": 1.08})
    return report


def _incremental(report: Report):
    return next(t for t in report.targets() if t.key == "incremental_vs_full")


def test_the_warm_sync_is_timed_without_its_imports():
    report = _report(warm=True)
    # The process took 2.5 s, of which 1.08 s was the sync: only the sync is compared.
    assert report.ratios()["incremental_warm_vs_full_time"] == pytest.approx(0.09)
    why = _incremental(report).why
    assert "takes 1.60 s, 0.133× the full sync before reading a row" in why
    assert "long-lived worker) takes 1.08 s, 0.090× the full sync" in why


def test_without_a_warm_measurement_the_why_keeps_the_floor_only():
    report = _report(warm=False)
    assert report.ratios()["incremental_warm_vs_full_time"] is None
    why = _incremental(report).why
    assert "before reading a row" in why
    assert "long-lived worker" not in why
