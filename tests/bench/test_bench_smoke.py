"""The benchmark suite end to end at a tiny size: every row measured, no timing asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
METHODS = {
    "adbc_parquet",
    "dlt_connectorx",
    "dlt_pyarrow",
    "exhub_full",
    "exhub_full_small",
    "exhub_incremental",
    "exhub_incremental_cold",
    "exhub_start_floor",
    "query",
    "dag_parse",
}

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_quick_suite_writes_every_row(tmp_path: Path) -> None:
    md, js = tmp_path / "benchmarks.md", tmp_path / "benchmarks.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXHUB_")}
    env["BENCH_PG_DATABASE"] = "exhub_bench_test"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "bench", "--quick", "--rows", "20000", "--query-repeats", "3"),
            *("--workdir", str(tmp_path / "work"), "--out-md", str(md), "--out-json", str(js)),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    data = json.loads(js.read_text())
    assert set(data["methods"]) == METHODS
    for name, method in data["methods"].items():
        assert method["runs"] == 1, name
        assert method["seconds_median"] > 0, name
        assert method["peak_rss_mb"] > 0, name
    for target in data["targets"]:
        assert target["measured"] is not None, target["key"]
        assert target["met"] in (True, False)
        if not target["met"]:
            assert target["why"], target["key"]
    assert all(v is not None for v in data["ratios"].values())
    correctness = data["correctness"]
    assert correctness["extracted_equals_published_plus_quarantined"]
    assert correctness["quarantine_matches_planted_dirt"]
    assert correctness["incremental_merge_exact"]
    assert data["machine"]["cpu"] and data["git"]["commit"]

    threads = {t["thread"]: t["cpu_s"] for t in data["profile"]["thread_cpu"]}
    # At this size the worker threads may run for less than one clock tick; the main
    # thread and Great Expectations' import never do.
    assert {"MainThread", "gx-prewarm"} <= set(threads), threads
    assert all(seconds > 0 for seconds in threads.values())

    text = md.read_text()
    for heading in (
        "## Machine",
        "## Targets",
        "## Full read of the table",
        "## Query latency",
        "## CPU by thread",
    ):
        assert heading in text
    assert data["git"]["commit"][:12] in text
    assert "](benchmarks.svg)" in text
    assert "exhub full sync" in (tmp_path / "benchmarks.svg").read_text(encoding="utf-8")
