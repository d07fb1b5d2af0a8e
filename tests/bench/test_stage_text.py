"""The report's stage breakdown: extract and validate overlap, so they are not summed."""

from __future__ import annotations

import pytest

from bench.measure import Measurement, Sample
from bench.report import Report

pytestmark = pytest.mark.unit


def _report(wall: float, timings: dict[str, float]) -> Report:
    report = Report(options=None)
    sample = Sample(seconds=wall, peak_rss_mb=500, result={"timings": timings})
    report.add(Measurement("exhub_full", 5_000_000, [sample], warmup=0))
    return report


def test_overlapping_stages_leave_a_non_negative_start_up_share():
    text = _report(14.2, {"extract": 12.5, "validate": 12.5, "publish": 0.1})._stage_text(
        "exhub_full"
    )
    assert "(extract and validate overlap)" in text
    assert text.endswith("process start, catalog and CLI at most 1.6 s (11%)")


def test_stages_that_ran_one_after_another_are_summed_for_the_rest():
    text = _report(4.0, {"validate": 1.5, "publish": 0.5})._stage_text("exhub_full")
    assert "overlap" not in text
    assert text.endswith("process start, catalog and CLI at most 2.0 s (50%)")
