"""The task callables, called directly: retry or fail-fast decisions, failures recorded on the
run, retries after a worker was killed at any stage boundary, pools, consumer and maintenance.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import types
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from exhub.airflow import tasks
from exhub.airflow.tasks import (
    airflow_error,
    consume_dataset_task,
    extract_task,
    maintain_task,
    publish_task,
    run_id_for,
    validate_task,
)
from exhub.demo.world import build_world
from exhub.engine.hub import Hub
from exhub.errors import CommitConflictError, ConfigError, GateFailedError, SourceUnreachableError
from exhub.query import run_query

pytestmark = pytest.mark.dag
REPO = Path(__file__).resolve().parents[2]
DAG_RUN = types.SimpleNamespace(run_id="scheduled__2026-11-26T00:00:00+00:00")
CHILD = """
import json, sys, types
from exhub.airflow import tasks
kwargs = json.loads(sys.argv[1])
kwargs["dag_run"] = types.SimpleNamespace(run_id=kwargs.pop("dag_run_id"))
getattr(tasks, kwargs.pop("callable"))(**kwargs)
"""


@pytest.fixture
def hukou(hub_home):
    world = build_world(hub_home / "world", scale=0.05)
    (hub_home / "sources").mkdir()
    text = (world.sources_dir / "ps_hukou.yaml").read_text(encoding="utf-8")
    (hub_home / "sources" / "ps_hukou.yaml").write_text(text, encoding="utf-8")
    return world


def in_killed_worker(callable_name: str, failpoint: str, **kwargs) -> int:
    """Run a task callable in a child process killed at ``failpoint``; its exit code."""
    env = {**os.environ, "EXHUB_FAILPOINT": failpoint, "PYTHONPATH": str(REPO)}
    arguments = json.dumps({"callable": callable_name, "dag_run_id": DAG_RUN.run_id, **kwargs})
    child = subprocess.run([sys.executable, "-c", CHILD, arguments], env=env, check=False)
    return child.returncode


def person_rows() -> tuple[int, int]:
    table = run_query(Hub(), "SELECT count(*) AS n, count(DISTINCT resident_id) AS k FROM person")
    row = table.to_pylist()[0]
    return row["n"], row["k"]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(SourceUnreachableError("refused"), AirflowException, id="unreachable"),
        pytest.param(CommitConflictError("conflict"), AirflowException, id="commit-conflict"),
        pytest.param(ConfigError("bad key"), AirflowFailException, id="config"),
        pytest.param(GateFailedError("gate"), AirflowFailException, id="gate"),
    ],
)
def test_retriable_errors_retry_and_terminal_ones_fail_fast(error, expected):
    translated = airflow_error(error)
    assert type(translated) is expected
    assert str(error) in str(translated)
    assert airflow_error(ValueError("a bug")) is None  # Airflow's default: retried


def test_run_id_is_stable_across_retries():
    first = run_id_for("scheduled__2026-11-26T00:00:00+00:00", "residents")
    assert first == run_id_for("scheduled__2026-11-26T00:00:00+00:00", "residents")
    assert ":" not in first and "+" not in first


def test_unreachable_source_retries_and_the_failure_is_recorded(hukou):
    (hukou.root / "legacy" / "hukou.db").unlink()
    with pytest.raises(AirflowException) as raised:
        extract_task("ps_hukou", "residents", dag_run=DAG_RUN)
    assert not isinstance(raised.value, AirflowFailException)
    assert isinstance(raised.value.__cause__, SourceUnreachableError)
    record = Hub().repository.get_run(run_id_for(DAG_RUN.run_id, "residents"))
    assert (record.status, record.error_class) == ("failed", "SourceUnreachableError")


def test_failed_gate_fails_fast_and_the_run_is_gated(hukou):
    with sqlite3.connect(hukou.root / "legacy" / "hukou.db") as con:
        con.execute("UPDATE T_RK_JBXX SET LXDH = NULL")  # null_ratio:mobile gate: max 60 %
    con.close()
    handover = extract_task("ps_hukou", "residents", dag_run=DAG_RUN)
    with pytest.raises(AirflowFailException, match="null_ratio"):
        validate_task("ps_hukou", handover, dag_run=DAG_RUN)
    record = Hub().repository.get_run(handover["run_id"])
    assert (record.status, record.error_class) == ("gated", "GateFailedError")


def test_unknown_source_fails_fast():
    with pytest.raises(AirflowFailException, match="no source 'nowhere'"):
        extract_task("nowhere", "residents", dag_run=DAG_RUN)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("killed", "failpoint"),
    [
        pytest.param("extract_task", "after_landing", id="extract-after-landing"),
        pytest.param("validate_task", "after_validation", id="validate-after-validation"),
        pytest.param("publish_task", "before_commit", id="publish-before-commit"),
        pytest.param("publish_task", "after_commit", id="publish-after-commit"),
    ],
)
def test_a_task_killed_then_retried_publishes_once(hukou, killed, failpoint):
    """Try 1 of one task dies by SIGKILL at a stage boundary; try 2 runs; nothing doubles."""
    handover = {"run_id": run_id_for(DAG_RUN.run_id, "residents")}
    for name in ("extract_task", "validate_task", "publish_task"):
        arguments = {"source_id": "ps_hukou"}
        if name == "extract_task":
            arguments["stream_name"] = "residents"
        else:
            arguments["handover"] = handover
        if name == killed:
            code = in_killed_worker(name, failpoint, **arguments)
            assert code == -9, f"{name} was not killed at {failpoint}"
        handover = getattr(tasks, name)(**arguments, dag_run=DAG_RUN)  # the retry
    hub = Hub()
    record = hub.repository.get_run(handover["run_id"])
    assert record.status == "succeeded"
    assert record.extracted_rows == hukou.rows["ps_hukou"]
    assert person_rows() == (record.published_rows, record.published_rows)
    table = hub.iceberg.load_table(("population", "person"))
    assert [s.summary["exhub.run-id"] for s in table.snapshots()].count(record.id) == 1


def test_consumer_reports_the_triggering_run_and_rows_per_source(hukou):
    handover = extract_task("ps_hukou", "residents", dag_run=DAG_RUN)
    handover = validate_task("ps_hukou", handover, dag_run=DAG_RUN)
    published = publish_task("ps_hukou", handover, dag_run=DAG_RUN)
    event = types.SimpleNamespace(extra={"run_id": published["run_id"]})
    dag = types.SimpleNamespace(dag_id="exhub_consume_person")
    report = consume_dataset_task("person", triggering_asset_events={"person": [event]}, dag=dag)
    assert report["triggered_by"] == [{"run_id": published["run_id"]}]
    assert report["rows_per_source"] == {"ps_hukou": published["published"]}
    (audited,) = Hub().repository.list_audit()
    assert (audited.actor, audited.target) == ("airflow:exhub_consume_person", "person")
    assert audited.detail["rows"] == 1


def test_a_department_consumer_reads_under_its_grants(hukou):
    handover = extract_task("ps_hukou", "residents", dag_run=DAG_RUN)
    publish_task("ps_hukou", validate_task("ps_hukou", handover, dag_run=DAG_RUN))
    Hub().repository.upsert_department("civil_affairs", "民政局")
    dag = types.SimpleNamespace(dag_id="exhub_consume_person_as_civil_affairs")
    with pytest.raises(AirflowFailException, match="may not read 'person'"):
        consume_dataset_task("person", department="civil_affairs", dag=dag)
    owner = consume_dataset_task("person", department="public_security", dag=dag)
    assert sum(owner["rows_per_source"].values()) > 0
    read, refused = Hub().repository.list_audit()[:2]
    assert (refused.actor, refused.detail["outcome"]) == ("civil_affairs", "refused")
    assert (read.actor, read.detail["user"]) == ("public_security", f"airflow:{dag.dag_id}")


def test_maintenance_task_says_clearly_when_maintain_is_missing(hub_home, monkeypatch):
    monkeypatch.setitem(sys.modules, "exhub.publish.maintenance", None)
    with pytest.raises(AirflowFailException, match=r"exhub maintain is not available"):
        maintain_task()


def test_maintenance_task_runs_maintain_on_the_hub(hukou):
    handover = extract_task("ps_hukou", "residents", dag_run=DAG_RUN)
    publish_task("ps_hukou", validate_task("ps_hukou", handover, dag_run=DAG_RUN))
    reports = maintain_task()
    assert [r["dataset"] for r in reports] == ["person"]
    assert {"expired_snapshots", "orphans_deleted"} <= set(reports[0])


@pytest.mark.slow
def test_pools_are_created_and_resized_from_max_connections(hukou, hub_home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(hub_home / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "EXHUB_HOME": str(hub_home),
            "PYTHONPATH": str(REPO),
        }
    )
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True)

    def sync() -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "exhub.airflow.pools"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return proc.stdout

    assert sync() == "exhub_ps_hukou: 2 slot(s), created\n"
    assert sync() == "exhub_ps_hukou: 2 slot(s), unchanged\n"
    path = hub_home / "sources" / "ps_hukou.yaml"
    path.write_text(path.read_text().replace("max_connections: 2", "max_connections: 5"))
    assert sync() == "exhub_ps_hukou: 5 slot(s), resized\n"


def test_the_validate_task_imports_great_expectations_ahead_of_its_sample(hukou, monkeypatch):
    import gc

    import exhub.validate.gx_import as gx_import

    started = []
    real = gx_import.prewarm

    def recording():
        started.append(gc.isenabled())  # the engine's imports are done, the pause is over
        return real()

    monkeypatch.setattr(gx_import, "prewarm", recording)
    handover = extract_task("ps_hukou", "residents", dag_run=DAG_RUN)
    assert started == []
    validate_task("ps_hukou", handover, dag_run=DAG_RUN)
    assert started == [True]
