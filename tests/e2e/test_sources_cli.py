"""``exhub sources check`` and ``exhub sources discover`` through the real CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
from urllib.parse import quote, quote_plus

import pytest
import sqlalchemy as sa

from exhub.demo.world import build_world
from exhub.sources import load_source
from tests.support import run_exhub

pytestmark = pytest.mark.e2e

SECRET = "p@ss%2F/x"


@pytest.fixture
def deployment(hub_home):
    world = build_world(hub_home / "legacy_world", scale=0.05)
    (hub_home / "sources").mkdir()
    for name in ("ps_hukou", "mz_marriage"):
        shutil.copy(world.sources_dir / f"{name}.yaml", hub_home / "sources" / f"{name}.yaml")
    return hub_home, world


def test_check_reports_columns_sample_and_masks_pii(deployment):
    home, _ = deployment
    result = run_exhub("sources", "check", "ps_hukou", "--format", "json", home=home)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["reachable"] and report["ok"]
    assert "hukou.db" in report["target_system"]
    (stream,) = report["streams"]
    assert {"name": "SFZH", "type": "string"} in stream["columns"]
    assert stream["rows_read"] == 200 and stream["rejects"] == 0
    assert stream["mapping"]["all_columns_present"] is True
    assert len(stream["sample"]) == 5
    assert all(row["SFZH"][1:-1] == "*" * 16 for row in stream["sample"])
    assert "SFZH" in stream["masked_columns"] and "XB" not in stream["masked_columns"]


def test_check_table_output_names_the_stream(deployment):
    home, _ = deployment
    result = run_exhub("sources", "check", "mz_marriage", home=home)
    assert result.returncode == 0, result.stderr
    assert "registrants" in result.stdout and "reachable" in result.stdout
    assert "rejects: 3" in result.stdout


def test_check_names_a_missing_mapped_column_and_exits_2(deployment):
    home, _ = deployment
    path = home / "sources" / "ps_hukou.yaml"
    path.write_text(path.read_text().replace("mobile: LXDH", "mobile: SJHM"))
    result = run_exhub("sources", "check", "ps_hukou", "--format", "json", home=home)
    assert result.returncode == 2, result.stderr
    stream = json.loads(result.stdout)["streams"][0]
    assert stream["mapping"]["missing"] == [{"field": "mobile", "column": "SJHM"}]
    assert "mapping 'mobile' reads column 'SJHM'" in result.stderr
    assert "fix:" in result.stderr


def test_check_of_an_unreachable_source_exits_3(deployment):
    home, world = deployment
    (world.root / "legacy" / "hukou.db").unlink()
    result = run_exhub("sources", "check", "ps_hukou", home=home)
    assert result.returncode == 3, result.stderr
    assert "cannot reach" in result.stderr


def test_check_of_an_unknown_source_exits_2(deployment):
    home, _ = deployment
    result = run_exhub("sources", "check", "nope", home=home)
    assert result.returncode == 2
    assert "no source 'nope'" in result.stderr


def test_discovered_files_load_and_pass_check(deployment):
    home, world = deployment
    legacy = world.root / "legacy"
    for source_id, target in (
        ("hukou_found", f"sqlite:///{legacy}/hukou.db"),
        ("marriage_found", str(legacy / "marriage_exports")),
    ):
        out = home / "sources" / f"{source_id}.yaml"
        result = run_exhub(
            "sources", "discover", target, "--output", str(out), "--department", "x", home=home
        )
        assert result.returncode == 0, result.stderr
        assert "person@1" in result.stdout  # the summary table
        assert load_source(out).streams[0].target == "person@1"
        check = run_exhub("sources", "check", source_id, "--format", "json", home=home)
        assert check.returncode == 0, check.stderr
        assert json.loads(check.stdout)["ok"]


def test_discover_json_summary(deployment):
    home, world = deployment
    target = f"sqlite:///{world.root / 'legacy' / 'enterprise.db'}"
    out = home / "proposed" / "sj.yaml"
    result = run_exhub("sources", "discover", target, "-o", str(out), "--format", "json", home=home)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    (stream,) = summary["streams"]
    assert stream["target"] == "legal_entity@1" and stream["cursor"] == "GXSJ"
    assert stream["mapped"]["uscc"]["from"] == "TYSHXYDM"


def test_discover_of_nothing_exits_2(hub_home):
    result = run_exhub("sources", "discover", "no/such/folder", home=hub_home)
    assert result.returncode == 2
    assert "neither a database URL nor an existing" in result.stderr


@pytest.fixture
def postgres_with_password(postgres_url, tmp_path):
    """The demo's household register in PostgreSQL, reached with a URL-encoded password."""
    world = build_world(tmp_path / "pgworld", scale=0.05)
    with sqlite3.connect(world.root / "legacy" / "hukou.db") as con:
        rows = con.execute("SELECT * FROM T_RK_JBXX").fetchall()
    con.close()
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text('DROP TABLE IF EXISTS "T_RK_JBXX"'))
        conn.execute(
            sa.text(
                'CREATE TABLE "T_RK_JBXX" ("SFZH" varchar(18) PRIMARY KEY, "XM" varchar(40), '
                '"XB" char(1), "CSRQ" varchar(10), "MZ" varchar(2), "HJDZ_XZQH" varchar(6), '
                '"ZZ" varchar(200), "LXDH" varchar(20), "GXSJ" timestamp)'
            )
        )
        names = "abcdefghi"
        conn.execute(
            sa.text('INSERT INTO "T_RK_JBXX" VALUES (:a, :b, :c, :d, :e, :f, :g, :h, :i)'),
            [dict(zip(names, row, strict=True)) for row in rows],
        )
    engine.dispose()
    # Local PostgreSQL trusts 127.0.0.1, so any password connects: what matters is that it
    # never leaks.
    return postgres_url.replace("postgres@", f"postgres:{quote(SECRET, safe='')}@", 1)


def test_discover_never_writes_or_prints_the_password(hub_home, postgres_with_password):
    forms = {SECRET, quote(SECRET, safe=""), quote_plus(SECRET), quote(SECRET)}
    out = hub_home / "sources" / "pg_hukou.yaml"
    result = run_exhub("sources", "discover", postgres_with_password, "-o", str(out), home=hub_home)
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    for form in forms:
        assert form not in text and form not in result.stdout and form not in result.stderr
    assert "${EXHUB_PG_HUKOU_PASSWORD}" in text
    stream = load_source(out).streams[0]
    assert (stream.source, stream.target, stream.cursor) == ("T_RK_JBXX", "person@1", "GXSJ")

    env = {"EXHUB_PG_HUKOU_PASSWORD": quote(SECRET, safe="")}
    check = run_exhub("sources", "check", "pg_hukou", "--format", "json", home=hub_home, env=env)
    assert check.returncode == 0, check.stderr
    for form in forms:
        assert form not in check.stdout and form not in check.stderr
    assert json.loads(check.stdout)["streams"][0]["rows_read"] == 200
