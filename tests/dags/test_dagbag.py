"""The DAG folder parses without errors, warnings or database access, and fast at 500 sources."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from exhub.demo.sources import SOURCE_FILES
from exhub.demo.world import build_world

pytestmark = pytest.mark.dag
REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"


@pytest.fixture
def airflow_env(hub_home, monkeypatch):
    world = build_world(hub_home / "world", scale=0.05)
    shutil.copytree(world.sources_dir, hub_home / "sources")
    (hub_home / "sources" / "broken.yaml").write_text("id: broken\nstreams: 5\n")
    monkeypatch.setenv("AIRFLOW_HOME", str(hub_home / "airflow"))
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    monkeypatch.setenv("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    return hub_home


def test_dagbag_has_no_import_errors_nor_warnings(airflow_env):
    from airflow.dag_processing.dagbag import DagBag

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert bag.captured_warnings == {}
    assert [str(w.message) for w in caught if "exhub" in str(w.filename)] == []
    assert sorted(bag.dag_ids) == [
        "exhub_consume_person",
        "exhub_maintenance",
        "exhub_mz_marriage",
        "exhub_ps_hukou",
        "exhub_rs_social_insurance",
        "exhub_sj_enterprise",
    ]


def test_source_dag_has_a_task_group_per_stream(airflow_env):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS / "exhub_sources.py")).dags["exhub_ps_hukou"]
    assert dag.task_ids == ["residents.extract", "residents.validate", "residents.publish"]
    assert list(dag.task_group.children) == ["residents"]
    extract, validate, publish = (dag.get_task(t) for t in dag.task_ids)
    assert extract.downstream_task_ids == {"residents.validate"}
    assert validate.downstream_task_ids == {"residents.publish"}
    # Only the extract task opens a connection to the legacy system: it alone uses its pool.
    assert (extract.pool, extract.pool_slots) == ("exhub_ps_hukou", 1)
    assert {validate.pool, publish.pool} == {"default_pool"}
    assert [(o.name, o.uri) for o in publish.outlets] == [
        ("exhub_person", "exhub://datasets/person")
    ]
    assert extract.outlets == validate.outlets == []
    assert (extract.retries, extract.retry_exponential_backoff) == (3, 2.0)
    assert extract.owner == "public_security"
    assert dag.max_active_runs == 1
    assert not dag.catchup
    assert str(dag.timezone) == "Asia/Shanghai"
    assert {"exhub", "department:public_security", "system:ps_hukou"} <= set(dag.tags)


def test_consumer_is_scheduled_on_the_dataset_asset(airflow_env):
    from airflow.dag_processing.dagbag import DagBag

    from exhub.airflow.factory import dataset_asset

    bag = DagBag(dag_folder=str(DAGS))
    consumer = bag.dags["exhub_consume_person"]
    assert list(consumer.timetable.asset_condition.objects) == [dataset_asset("person")]
    producers = [
        task
        for dag in bag.dags.values()
        for task in dag.tasks
        if dataset_asset("person") in task.outlets
    ]
    # ps_hukou, rs_social_insurance and mz_marriage all publish person.
    assert sorted(t.dag_id for t in producers) == [
        "exhub_mz_marriage",
        "exhub_ps_hukou",
        "exhub_rs_social_insurance",
    ]
    maintenance = bag.dags["exhub_maintenance"]
    assert maintenance.task_ids == ["maintain"]


PARSE_500 = """
import json, sqlite3, sys, time
from sqlalchemy import event
from sqlalchemy.pool import Pool

import airflow.sdk  # the DAG processor has Airflow loaded before it parses a file
from airflow.configuration import conf
from airflow.dag_processing.dagbag import DagBag

touched = []
sys.addaudithook(
    lambda name, args: touched.append([name, str(args)[:200]])
    if name in ("sqlite3.connect", "socket.connect")
    else None
)
event.listen(Pool, "connect", lambda *args: touched.append(["sqlalchemy.connect", ""]))
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
seconds = time.perf_counter() - started
print(json.dumps({
    "dags": len(bag.dags),
    "tasks": sum(len(d.tasks) for d in bag.dags.values()),
    "errors": bag.import_errors,
    "seconds": seconds,
    "file_seconds": bag.dagbag_stats[0].duration.total_seconds(),
    "timeout": conf.getfloat("core", "dagbag_import_timeout"),
    "touched": touched,
}))
"""


@pytest.mark.slow
def test_500_sources_parse_without_database_well_under_the_import_timeout(hub_home):
    sources = hub_home / "sources"
    sources.mkdir()
    templates = list(SOURCE_FILES.items())
    for n in range(500):
        name, template = templates[n % len(templates)]
        source_id = f"{name}_{n:03d}"
        text = template.format(legacy=hub_home / "legacy")
        text = text.replace(f"id: {name}\n", f"id: {source_id}\n", 1)
        (sources / f"{source_id}.yaml").write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "EXHUB_"))}
    airflow_db = hub_home / "airflow" / "airflow.db"
    env.update(
        {
            "EXHUB_HOME": str(hub_home),
            "AIRFLOW_HOME": str(hub_home / "airflow"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_db}",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PYTHONPATH": str(REPO),
        }
    )
    proc = subprocess.run(
        [sys.executable, "-c", PARSE_500, str(DAGS / "exhub_sources.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"\n500 sources: {result['dags']} DAGs, {result['tasks']} tasks parsed in "
        f"{result['file_seconds']:.2f} s (dagbag_import_timeout {result['timeout']:.0f} s)"
    )
    assert result["errors"] == {}
    assert (result["dags"], result["tasks"]) == (500, 1500)
    assert result["touched"] == []  # no database, no network while parsing
    assert not airflow_db.exists()
    # Parse time is a speed target: the benchmark suite reports it (docs/benchmarks.md).
