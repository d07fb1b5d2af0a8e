"""Run one exhub DAG under ``dag.test()`` in a process of its own, and print what happened.

Airflow reads its configuration (``AIRFLOW_HOME``, the metadata database) once per process, so
each DAG test runs this script in a fresh interpreter; the test sets ``AIRFLOW_HOME``,
``AIRFLOW__CORE__DAGS_FOLDER`` (the repository's ``dags/``) and ``EXHUB_HOME``.

``dag.test()`` syncs the DAG files of the configured bundle (the dags folder) to the metadata
database before it creates the DAG run: a DAG that is in no bundle has no serialized version and
fails with "Cannot create DagRun ... because the dag is not serialized". Pointing
``AIRFLOW__CORE__DAGS_FOLDER`` at ``dags/`` (which builds the same DAG from ``EXHUB_HOME``) is
what makes a factory-built DAG testable.

Usage::

    python dagtest_runner.py DAG_ID [--kill-first-try TASK_ID] [--log-source-url] [--schedule]
                                    [--task-log FILE]

``--kill-first-try`` runs that task's first try in a child process that is SIGKILLed at the
``after_commit`` failpoint (``EXHUB_FAILPOINT``), as an OOM kill of a worker would; the second
try runs normally. ``--log-source-url`` makes the extract task, once done, log the resolved
source URL as a careless driver message would, to check that the password is masked.
``--schedule`` then runs the scheduler's step that creates DAG runs for updated Assets.

``dag.test()`` runs tasks in this process, whose logging Airflow configures without its secrets
masker; a deployed task's log is written by the task supervisor through
``airflow.sdk.log.logging_processors``, which mask secrets. ``--task-log FILE`` configures this
process's logging as a task process does (``airflow.sdk.log.configure_logging``, masking on) and
writes it to FILE: that file shows what a task log would.

The last line of output is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

CHILD = """
import json, os, sys
from exhub.airflow import tasks
kwargs = json.loads(sys.argv[1])
getattr(tasks, kwargs.pop("callable"))(**kwargs)
"""


def kill_first_try(callable_name: str, task_callable):
    """Wrap a task callable: try 1 runs in a child killed after the commit; later tries run."""
    from airflow.sdk.exceptions import AirflowException

    def wrapper(**kwargs):
        ti = kwargs["ti"]
        if ti.try_number > 1:
            return task_callable(**kwargs)
        arguments = {
            "callable": callable_name,
            "source_id": kwargs["source_id"],
            "handover": kwargs["handover"],
        }
        env = {**os.environ, "EXHUB_FAILPOINT": "after_commit"}
        child = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(arguments)], env=env, check=False
        )
        raise AirflowException(f"worker process of try 1 died (exit code {child.returncode})")

    return wrapper


def log_source_url(task_callable):
    """Wrap the extract callable: after it, log the resolved source options (a careless line)."""

    def wrapper(**kwargs):
        from exhub.engine.hub import Hub
        from exhub.sources import find_source
        from exhub.sources.secrets import resolve_references

        result = task_callable(**kwargs)
        source = find_source(Hub().settings.sources_path, kwargs["source_id"])
        resolved = resolve_references(source.options, where="options")
        logging.getLogger("exhub.airflow.tasks").warning("resolved source url: %s", resolved)
        return result

    return wrapper


def build(dag_id: str):
    """The DAG, built by the factory; source DAGs retry after 1 s instead of 1 min."""
    from exhub.airflow.factory import (
        build_consumer_dag,
        build_maintenance_dag,
        build_source_dag,
        default_sources_dir,
    )
    from exhub.sources import find_source

    if dag_id == "exhub_maintenance":
        return build_maintenance_dag()
    if dag_id.startswith("exhub_consume_"):
        return build_consumer_dag(dag_id.removeprefix("exhub_consume_"))
    source = find_source(default_sources_dir(), dag_id.removeprefix("exhub_"))
    return build_source_dag(
        source,
        default_args={"retry_delay": timedelta(seconds=1), "retry_exponential_backoff": 0},
    )


def report(dag_run) -> dict:
    """States, tries, XComs, asset events and queued consumer runs of the DAG run."""
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
    from airflow.models.pool import Pool
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tis = dag_run.get_task_instances(session=session)
        xcoms = {
            x.task_id: x.value
            for x in session.scalars(
                select(XComModel).where(
                    XComModel.dag_id == dag_run.dag_id,
                    XComModel.run_id == dag_run.run_id,
                    XComModel.key == "return_value",
                )
            )
        }
        events = [
            {"uri": uri, "extra": extra, "source_dag_id": dag_id, "source_run_id": run_id}
            for uri, extra, dag_id, run_id in session.execute(
                select(
                    AssetModel.uri,
                    AssetEvent.extra,
                    AssetEvent.source_dag_id,
                    AssetEvent.source_run_id,
                ).join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            )
        ]
        queued = [
            {"uri": uri, "target_dag_id": target}
            for uri, target in session.execute(
                select(AssetModel.uri, AssetDagRunQueue.target_dag_id).join(
                    AssetModel, AssetModel.id == AssetDagRunQueue.asset_id
                )
            )
        ]
        return {
            "dag_id": dag_run.dag_id,
            "run_id": dag_run.run_id,
            "state": str(dag_run.state),
            "tasks": {
                ti.task_id: {"state": str(ti.state), "try_number": ti.try_number} for ti in tis
            },
            "xcoms": {k: _json(v) for k, v in xcoms.items()},
            "asset_events": events,
            "queued_runs": queued,
            "pools": {p.pool: p.slots for p in session.scalars(select(Pool))},
        }


def schedule_asset_triggered_runs() -> list[dict]:
    """One pass of the scheduler's "create DAG runs for updated Assets" step; the runs made."""
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    runner = SchedulerJobRunner(job=Job(), executors=[])
    with create_session() as session:
        query, triggered = DagModel.dags_needing_dagruns(session)
        due = [d for d in query.all() if d.dag_id in triggered]
        runner._create_dag_runs_asset_triggered(dag_models=due, session=session)
        session.flush()
        runs = session.scalars(select(DagRun).where(DagRun.run_type == "asset_triggered"))
        return [
            {
                "dag_id": run.dag_id,
                "state": str(run.state),
                "consumed": [
                    {"uri": e.asset.uri, "source_dag_id": e.source_dag_id, "extra": e.extra}
                    for e in run.consumed_asset_events
                ],
            }
            for run in runs
        ]


def _json(value):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def main() -> None:
    """Migrate Airflow's database, sync pools, run the DAG, print the result."""
    parser = argparse.ArgumentParser()
    parser.add_argument("dag_id")
    parser.add_argument("--kill-first-try")
    parser.add_argument("--log-source-url", action="store_true")
    parser.add_argument("--schedule", action="store_true", help="then create Asset-triggered runs")
    parser.add_argument("--task-log", type=Path, help="log as a task process does, to this file")
    args = parser.parse_args()

    from airflow.utils.db import upgradedb

    from exhub.airflow import tasks
    from exhub.airflow.pools import sync_pools

    upgradedb()  # what `airflow db migrate` does
    if args.task_log:
        from airflow.sdk.log import configure_logging

        configure_logging(output=args.task_log.open("a", buffering=1))
    sync_pools()
    dag = build(args.dag_id)
    if args.kill_first_try:
        task = dag.get_task(args.kill_first_try)
        task.python_callable = kill_first_try(
            task.python_callable.__name__, getattr(tasks, task.python_callable.__name__)
        )
    if args.log_source_url:
        for task in dag.tasks:
            if task.task_id.endswith(".extract"):
                task.python_callable = log_source_url(task.python_callable)
    dag_run = dag.test()
    result = report(dag_run)
    if args.schedule:
        result["asset_triggered_runs"] = schedule_asset_triggered_runs()
    print("RESULT " + json.dumps(result, ensure_ascii=False, default=str), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
