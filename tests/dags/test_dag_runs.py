"""Source DAGs run end to end under ``dag.test()`` against the demo's legacy systems.

Each run happens in a fresh process (``dagtest_runner.py``) with its own ``AIRFLOW_HOME`` and
metadata database, and the repository's ``dags/`` as the DAG bundle. The test then reads the
hub's catalog and dataset, the Asset events Airflow recorded and the OpenLineage file.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from exhub.demo.world import build_world
from exhub.engine.hub import Hub
from exhub.query import run_query
from exhub.settings import load_settings

pytestmark = [pytest.mark.dag, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("dagtest_runner.py")
PASSWORD = "Hub-S3cret/Pa55word"  # '/' is percent-encoded in a URI: both spellings are masked


def airflow_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a DAG-test process: its own Airflow home, the repository's DAGs."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EXHUB_", "AIRFLOW", "OPENLINEAGE"))
    }
    env.update(
        {
            "EXHUB_HOME": str(home),
            "EXHUB_LINEAGE_FILE": str(home / "lineage.jsonl"),
            "AIRFLOW_HOME": str(home / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # Paused DAGs are never queued by an Asset update: unpause the consumer.
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        }
    )
    env.update(extra or {})
    return env


def run_dag(home: Path, dag_id: str, *flags: str, env: dict[str, str] | None = None):
    """Run the DAG with dag.test() in a fresh process; its result and whole output."""
    proc = subprocess.run(
        [sys.executable, str(RUNNER), dag_id, *flags],
        env=airflow_env(home, env),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = proc.stdout + proc.stderr
    results = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and results, output[-6000:]
    return json.loads(results[-1].removeprefix("RESULT ")), output


@pytest.fixture
def world(hub_home):
    world = build_world(hub_home / "world", scale=0.05)
    (hub_home / "sources").mkdir()
    shutil.copy(world.sources_dir / "ps_hukou.yaml", hub_home / "sources")
    return world


def hub_of(home: Path) -> Hub:
    return Hub(load_settings(home))


def person_rows(hub: Hub) -> dict[str, tuple[int, int]]:
    table = run_query(
        hub,
        "SELECT _source, count(*) AS n, count(DISTINCT resident_id) AS k FROM person GROUP BY 1",
    )
    return {r["_source"]: (r["n"], r["k"]) for r in table.to_pylist()}


def snapshots_of(hub: Hub, run_id: str) -> int:
    table = hub.iceberg.load_table(("population", "person"))
    return [s.summary["exhub.run-id"] for s in table.snapshots()].count(run_id)


def test_source_dag_runs_end_to_end_and_its_asset_triggers_the_consumer(hub_home, world):
    result, _ = run_dag(hub_home, "exhub_ps_hukou", "--schedule")

    assert result["state"] == "success"
    assert {t: s["state"] for t, s in result["tasks"].items()} == {
        "residents.extract": "success",
        "residents.validate": "success",
        "residents.publish": "success",
    }
    assert result["pools"]["exhub_ps_hukou"] == 2  # max_connections of ps_hukou
    run_id = result["xcoms"]["residents.extract"]["run_id"]
    assert set(result["xcoms"]["residents.extract"]) == {"run_id", "extracted"}  # never rows

    hub = hub_of(hub_home)
    record = hub.repository.get_run(run_id)
    planted = sum(world.planted["ps_hukou"].values())
    assert (record.status, record.trigger) == ("succeeded", "airflow")
    assert record.extracted_rows == world.rows["ps_hukou"]
    assert record.quarantined_rows == planted
    assert record.published_rows == world.rows["ps_hukou"] - planted
    assert person_rows(hub) == {"ps_hukou": (record.published_rows, record.published_rows)}
    assert snapshots_of(hub, run_id) == 1

    (event,) = result["asset_events"]
    assert event["uri"] == "exhub://datasets/person"
    assert event["source_dag_id"] == "exhub_ps_hukou"
    assert event["extra"]["run_id"] == run_id
    assert event["extra"]["published"] == record.published_rows
    (consumer,) = result["asset_triggered_runs"]
    assert consumer["dag_id"] == "exhub_consume_person"
    assert [e["extra"]["run_id"] for e in consumer["consumed"]] == [run_id]

    lineage = [json.loads(line) for line in (hub_home / "lineage.jsonl").read_text().splitlines()]
    assert [e["eventType"] for e in lineage] == ["START", "RUNNING", "COMPLETE"]
    complete = lineage[-1]
    assert complete["run"]["facets"]["parent"]["job"]["name"] == "exhub_ps_hukou"
    assert complete["inputs"][0]["name"] == "T_RK_JBXX"
    assert complete["outputs"][0]["name"] == "population.person"
    assert complete["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == (
        record.published_rows
    )


def test_a_publish_killed_after_its_commit_retries_without_duplicates(hub_home, world):
    result, output = run_dag(hub_home, "exhub_ps_hukou", "--kill-first-try", "residents.publish")

    assert "failpoint after_commit: killing the process" in output
    assert "worker process of try 1 died (exit code -9)" in output
    assert result["state"] == "success"
    assert result["tasks"]["residents.publish"] == {"state": "success", "try_number": 2}
    assert result["tasks"]["residents.extract"]["try_number"] == 1
    run_id = result["xcoms"]["residents.publish"]["run_id"]
    hub = hub_of(hub_home)
    record = hub.repository.get_run(run_id)
    assert record.status == "succeeded"
    assert snapshots_of(hub, run_id) == 1
    assert person_rows(hub) == {"ps_hukou": (record.published_rows, record.published_rows)}
    (event,) = result["asset_events"]  # one Asset event: the try that died recorded none
    assert event["extra"]["run_id"] == run_id


@pytest.mark.integration
def test_postgres_source_through_an_airflow_connection_with_masked_password(
    hub_home, world, fresh_postgres_url
):
    columns = ["SFZH", "XM", "XB", "CSRQ", "MZ", "HJDZ_XZQH", "ZZ", "LXDH", "GXSJ"]
    with sqlite3.connect(world.root / "legacy" / "hukou.db") as con:
        rows = con.execute(f"SELECT {', '.join(columns)} FROM T_RK_JBXX").fetchall()
    con.close()
    engine = sa.create_engine(fresh_postgres_url)
    table = sa.Table(
        "T_RK_JBXX",
        sa.MetaData(),
        *[sa.Column(c, sa.Text, primary_key=c == "SFZH") for c in columns],
    )
    with engine.begin() as pg:
        table.create(pg)
        pg.execute(table.insert(), [dict(zip(columns, r, strict=True)) for r in rows])
    engine.dispose()
    url = sa.make_url(fresh_postgres_url)
    source_file = hub_home / "sources" / "ps_hukou.yaml"
    text = source_file.read_text(encoding="utf-8")
    old_url = next(line for line in text.splitlines() if line.strip().startswith("url:"))
    source_file.write_text(text.replace(old_url, "  url: conn:legacy_hukou"), encoding="utf-8")
    connection = {
        "conn_type": "postgresql+psycopg2",
        "host": url.host,
        "port": url.port,
        "login": url.username,
        "password": PASSWORD,  # the test server trusts local users: any password works
        "schema": url.database,
    }

    task_log = hub_home / "task.log"
    result, output = run_dag(
        hub_home,
        "exhub_ps_hukou",
        "--log-source-url",
        "--task-log",
        str(task_log),
        env={"AIRFLOW_CONN_LEGACY_HUKOU": json.dumps(connection)},
    )

    assert result["state"] == "success", output[-4000:]
    hub = hub_of(hub_home)
    record = hub.repository.get_run(result["xcoms"]["residents.publish"]["run_id"])
    assert record.status == "succeeded"
    assert record.extracted_rows == len(rows) == world.rows["ps_hukou"]
    assert person_rows(hub)["ps_hukou"][0] == record.published_rows
    log = task_log.read_text()
    logged = [line for line in log.splitlines() if "resolved source url" in line]
    assert logged and all("***" in line for line in logged), logged
    assert "[DAG TEST] end task task_id=residents.publish" in log  # the whole run is there
    assert PASSWORD not in log + output
    assert "Hub-S3cret%2FPa55word" not in log + output  # the spelling inside the URI
    lineage = (hub_home / "lineage.jsonl").read_text()
    assert "S3cret" not in lineage
    assert f"sql:postgresql+psycopg2://{url.host}:{url.port}/{url.database}" in lineage
