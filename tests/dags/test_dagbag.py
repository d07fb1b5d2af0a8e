"""The DAG folder parses without errors or database access, one DAG per source file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from exhub.demo.world import build_world

pytestmark = pytest.mark.dag
DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture
def airflow_env(hub_home, monkeypatch):
    world = build_world(hub_home / "world", scale=0.05)
    shutil.copytree(world.sources_dir, hub_home / "sources")
    (hub_home / "sources" / "broken.yaml").write_text("id: broken\nstreams: 5\n")
    monkeypatch.setenv("AIRFLOW_HOME", str(hub_home / "airflow"))
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    monkeypatch.setenv("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    return hub_home


def test_dagbag_has_no_import_errors(airflow_env):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == [
        "exhub_mz_marriage",
        "exhub_ps_hukou",
        "exhub_rs_social_insurance",
        "exhub_sj_enterprise",
    ]
    dag = bag.dags["exhub_ps_hukou"]
    task = dag.get_task("sync_residents")
    assert task.pool == "exhub_ps_hukou"
    assert [o.uri for o in task.outlets] == ["exhub://datasets/person"]
    assert dag.max_active_runs == 1
    assert "department:public_security" in dag.tags


def test_run_id_is_stable_across_retries():
    from exhub.airflow.tasks import run_id_for

    first = run_id_for("scheduled__2026-11-26T00:00:00+00:00", "residents")
    assert first == run_id_for("scheduled__2026-11-26T00:00:00+00:00", "residents")
    assert ":" not in first and "+" not in first
