"""``exhub demo`` end to end on a fresh home: summary, planted dirt, idempotency."""

from __future__ import annotations

import json

import pytest

from tests.support import run_exhub

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("demo")]


def test_demo_prints_summary_and_is_idempotent(hub_home):
    first = run_exhub("demo", home=hub_home, check=True)
    assert "dataset person" in first.stdout
    assert "Quarantine matches the dirt the generator planted" in first.stdout
    assert "Cross-department answer" in first.stdout
    assert "Where to look next" in first.stdout

    before = json.loads(
        run_exhub(
            "query",
            "--format",
            "json",
            "SELECT _source, count(*) AS n FROM person GROUP BY 1 ORDER BY 1",
            home=hub_home,
            check=True,
        ).stdout
    )
    second = json.loads(run_exhub("demo", "--format", "json", home=hub_home, check=True).stdout)
    after = json.loads(
        run_exhub(
            "query",
            "--format",
            "json",
            "SELECT _source, count(*) AS n FROM person GROUP BY 1 ORDER BY 1",
            home=hub_home,
            check=True,
        ).stdout
    )
    assert before == after
    assert sum(row["n"] for row in after) == second["datasets"]["person"]
    duplicates = json.loads(
        run_exhub(
            "query",
            "--format",
            "json",
            "SELECT count(*) AS n FROM (SELECT resident_id, _source FROM person GROUP BY 1, 2 "
            "HAVING count(*) > 1)",
            home=hub_home,
            check=True,
        ).stdout
    )
    assert duplicates == [{"n": 0}]

    planted = json.loads((hub_home / ".exhub/demo/planted.json").read_text())["planted"]
    for run in second["runs"]:
        assert run["extracted"] == run["published"] + run["quarantined"]
        assert run["rule_counts"] == planted[run["source"]], run["source"]
    assert second["cross_department"]["people"] > 0


def test_demo_lists_runs_datasets_and_quarantine(hub_home):
    run_exhub("demo", "--systems", "2", home=hub_home, check=True)
    datasets = json.loads(
        run_exhub("datasets", "list", "--format", "json", home=hub_home, check=True).stdout
    )
    person = next(d for d in datasets if d["name"] == "person")
    assert person["sources"] == 2 and person["rows"] > 0
    assert person["fresh"] is True and 0.9 < person["pass_rate"] < 1
    runs = json.loads(
        run_exhub("runs", "list", "--format", "json", home=hub_home, check=True).stdout
    )
    assert {r["source"] for r in runs} == {"ps_hukou", "rs_social_insurance"}
    shown = json.loads(
        run_exhub(
            "runs", "show", runs[0]["run_id"], "--format", "json", home=hub_home, check=True
        ).stdout
    )
    assert shown["extracted_rows"] == shown["published_rows"] + shown["quarantined_rows"]
    assert set(shown["timings"]) >= {"extract", "validate", "publish"}
    assert (hub_home / shown["validation_report_path"]).exists() or __import__("pathlib").Path(
        shown["validation_report_path"]
    ).exists()
    quarantined = json.loads(
        run_exhub(
            "quarantine",
            "list",
            "person",
            "--rule",
            "resident_id.cn_resident_id",
            "--limit",
            "500",
            "--format",
            "json",
            home=hub_home,
            check=True,
        ).stdout
    )
    assert len(quarantined) == 40 + 20
    assert all(
        "T_RK_JBXX" in r["_source_position"] or "SI_CBRY" in r["_source_position"]
        for r in quarantined
    )
    history = json.loads(
        run_exhub(
            "datasets", "history", "person", "--format", "json", home=hub_home, check=True
        ).stdout
    )
    assert [h["source"] for h in history] == ["ps_hukou", "rs_social_insurance"]


def test_demo_rejects_bad_systems_count(hub_home):
    result = run_exhub("demo", "--systems", "9", home=hub_home)
    assert result.returncode == 2
    assert "--systems" in result.stderr


def test_query_cannot_reach_quarantine_or_landing_files(hub_home):
    run_exhub("demo", "--systems", "1", home=hub_home, check=True)
    for target in (
        ".exhub/warehouse/quarantine/person/*/*.parquet",
        ".exhub/warehouse/landing/ps_hukou/residents/*/*.parquet",
    ):
        result = run_exhub(
            "query", f"SELECT count(*) FROM read_parquet('{hub_home}/{target}')", home=hub_home
        )
        assert result.returncode == 2, result.stdout
        assert "Permission" in result.stderr or "not allowed" in result.stderr
    ok = run_exhub(
        "query", "--format", "json", "SELECT count(*) AS n FROM person", home=hub_home, check=True
    )
    assert '"n"' in ok.stdout
