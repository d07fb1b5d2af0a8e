"""The report's chart, and rendering a stored run again from its JSON."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.__main__ import main
from bench.chart import draw, headroom
from bench.legacy import LegacyTable
from bench.measure import Measurement, Sample
from bench.report import Report, Target

pytestmark = pytest.mark.unit

ROWS = 5_000_000
FULL_READS = {"adbc_parquet": 8.0, "dlt_connectorx": 14.0, "dlt_pyarrow": 42.0, "exhub_full": 14.8}


def _report() -> Report:
    report = Report(SimpleNamespace(rows=ROWS, small_rows=1_000_000, runs=1, warmup=0, label="t"))
    for method, seconds in FULL_READS.items():
        result = {"timings": {"extract": 12.5, "validate": 12.4}} if method == "exhub_full" else {}
        if method == "exhub_full":
            result |= {"extracted_rows": ROWS, "published_rows": 4_950_000}
            result |= {"quarantined_rows": 50_000, "rule_counts": {"name.required": 50_000}}
        sample = Sample(seconds, 500.0, result, cpu_seconds=seconds * 1.4, load_before=1.5)
        report.add(Measurement(method, ROWS, [sample], warmup=0))
    small = Sample(5.2, 508.0, {}, cpu_seconds=6.9)
    report.add(Measurement("exhub_full_small", 1_000_000, [small], warmup=0))
    report.legacy = LegacyTable("rk_jbxx", ROWS, {"name.required": 50_000}, 30.0, True)
    return report


def test_headroom_turns_every_target_so_that_one_or_more_is_met():
    faster = Target("a", "throughput", measured=0.5, limit=0.6, higher_is_better=True)
    smaller = Target("b", "memory", measured=300, limit=600, higher_is_better=False)
    assert headroom(faster) == pytest.approx(0.5 / 0.6)
    assert headroom(smaller) == pytest.approx(2.0)
    assert headroom(Target("c", "not measured", None, 1.0, True)) is None


def test_chart_names_every_method_and_target_and_is_the_same_file_each_time(tmp_path: Path):
    report = _report()
    first = draw(report, tmp_path / "one.svg")
    second = draw(report, tmp_path / "two.svg")
    assert first is not None and second is not None
    text = first.read_text(encoding="utf-8")
    assert text == second.read_text(encoding="utf-8")
    for label in ("ADBC → Parquet (limit)", "dlt connectorx", "exhub full sync"):
        assert label in text
    # 0.6× ADBC asks exhub for 0.6 × 625k rows/s; the legend says so.
    assert "0.6× ADBC: 375k" in text
    assert "0.541× (limit 0.6×)" in text  # exhub 338k ÷ ADBC 625k, missed


def test_no_chart_without_a_full_read(tmp_path: Path):
    report = Report(SimpleNamespace(rows=ROWS, small_rows=1, runs=1, warmup=0, label="t"))
    assert draw(report, tmp_path / "none.svg") is None
    assert not (tmp_path / "none.svg").exists()


def test_a_stored_run_renders_again_with_its_own_commit_and_numbers(tmp_path: Path):
    report = _report()
    stored = report.as_dict()
    stored["git"] = {"commit": "0123456789abcdef", "engine_uncommitted_changes": False}
    data = tmp_path / "run.json"
    data.write_text(json.dumps(stored, default=str), encoding="utf-8")
    again = Report.from_dict(json.loads(data.read_text(encoding="utf-8")))
    assert json.loads(json.dumps(again.as_dict(), default=str)) == json.loads(data.read_text())

    md = tmp_path / "benchmarks.md"
    md.write_text("old\n<!-- analysis:start -->kept by hand<!-- analysis:end -->\n")
    assert main(["--render", str(data), "--out-md", str(md)]) == 0
    text = md.read_text(encoding="utf-8")
    assert "commit `0123456789ab`" in text
    assert "kept by hand" in text
    assert "![Full reads in rows/s and every target, measured ÷ limit](benchmarks.svg)" in text
    assert (tmp_path / "benchmarks.svg").exists()


def test_the_report_lists_each_turn_of_the_full_reads_with_its_ratios():
    from bench.markdown import _turns

    def data(**seconds: list[float]) -> dict:
        methods = {k: {"samples": [{"seconds": t} for t in v]} for k, v in seconds.items()}
        return {"methods": methods}

    adbc, dlt, exhub = [8.0, 10.0, 9.0], [14.0, 15.0], [14.0, 12.5, 13.0]
    lines = _turns(data(adbc_parquet=adbc, dlt_connectorx=dlt, exhub_full=exhub))
    table = [line for line in lines if line.startswith("| ")]
    assert table[0] == (
        "| turn | ADBC s | dlt connectorx s | exhub s | exhub ÷ ADBC | exhub ÷ dlt connectorx |"
    )
    # Only the turns every method ran: dlt connectorx ran two.
    assert table[1:] == [
        "| 1 | 8.00 | 14.00 | 14.00 | 0.57× | 1.00× |",
        "| 2 | 10.00 | 15.00 | 12.50 | 0.80× | 1.20× |",
    ]
    assert lines[-1] == (
        "A single turn's ratio ranged 0.57–0.80× against ADBC, 1.00–1.20× against dlt "
        "connectorx; the targets use the medians."
    )
    assert _turns(data(adbc_parquet=[8.0], exhub_full=[14.0])) == []  # one turn: the medians
