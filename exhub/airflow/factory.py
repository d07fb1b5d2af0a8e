"""DAGs built from the source files alone: no database, no network, only YAML at parse time.

* one DAG per ``sources/*.yaml`` (``exhub_<source>``): per stream a task group
  extract → validate → publish, each task calling one engine stage (``exhub.airflow.tasks``);
  the extract task, the only one that opens a connection to the legacy system, runs in the
  source's pool (``exhub_<source>``, sized by ``max_connections``; see ``exhub.airflow.pools``);
  the publish task declares the dataset's Asset (``exhub://datasets/<name>``);
* an example consumer DAG scheduled on a dataset's Asset;
* the maintenance DAG (``exhub maintain``).
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Asset, TaskGroup

from exhub.airflow.tasks import (
    consume_dataset_task,
    extract_task,
    maintain_task,
    publish_task,
    validate_task,
)
from exhub.errors import ConfigError
from exhub.settings import load_settings
from exhub.sources import SourceConfig, discover_sources, load_source

log = logging.getLogger(__name__)
START = (2026, 1, 1)
RETRY_ARGS: dict[str, Any] = {
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    # Airflow 3 takes a multiplier here (True would mean 1.0: a constant delay): 1, 2, 4 min.
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
}


def dataset_asset(dataset: str) -> Asset:
    """The Asset of a dataset: one stable URI per dataset, ``exhub://datasets/<name>``."""
    return Asset(name=f"exhub_{dataset}", uri=f"exhub://datasets/{dataset}")


def pool_name(source_id: str) -> str:
    """The Airflow pool capping connections to one legacy system."""
    return f"exhub_{source_id}"


def default_sources_dir() -> Path:
    """``sources_dir`` of the hub in ``$EXHUB_HOME`` (or the current folder)."""
    home = os.environ.get("EXHUB_HOME")
    return load_settings(Path(home) if home else None).sources_path


def _doc(source: SourceConfig) -> str:
    lines = [
        f"**{source.department.name}** · {source.system} (`{source.connector}`), "
        f"at most {source.max_connections} connection(s), pool `{pool_name(source.id)}`.",
        "",
        "| stream | source object | dataset |",
        "|---|---|---|",
    ]
    lines += [f"| {s.name} | `{s.source}` | `{s.target}` |" for s in source.streams]
    return "\n".join(lines)


def build_source_dag(source: SourceConfig, **dag_kwargs: Any) -> DAG:
    """The DAG of one source system.

    Args:
        source: the source's configuration.
        **dag_kwargs: overrides of the DAG's arguments (``default_args`` merges).

    Returns:
        ``exhub_<source>``: per stream a task group ``<stream>`` of ``extract``, ``validate``
        and ``publish``.
    """
    default_args = {"owner": source.department.id, **RETRY_ARGS}
    default_args.update(dag_kwargs.pop("default_args", {}))
    dag = DAG(
        dag_id=f"exhub_{source.id}",
        description=f"{source.department.name} · {source.system}",
        doc_md=_doc(source),
        schedule=source.schedule,
        start_date=pendulum.datetime(*START, tz=source.timezone),
        catchup=False,
        max_active_runs=1,
        tags=["exhub", f"department:{source.department.id}", f"system:{source.id}"],
        default_args=default_args,
        **dag_kwargs,
    )
    for stream in source.streams:
        dataset = stream.target.split("@", 1)[0]
        with TaskGroup(group_id=stream.name, tooltip=f"{stream.source} → {stream.target}", dag=dag):
            extract = PythonOperator(
                task_id="extract",
                python_callable=extract_task,
                op_kwargs={"source_id": source.id, "stream_name": stream.name},
                pool=pool_name(source.id),
                pool_slots=1,
                dag=dag,
            )
            validate = PythonOperator(
                task_id="validate",
                python_callable=validate_task,
                op_kwargs={"source_id": source.id, "handover": extract.output},
                pool_slots=1,
                dag=dag,
            )
            publish = PythonOperator(
                task_id="publish",
                python_callable=publish_task,
                op_kwargs={"source_id": source.id, "handover": validate.output},
                pool_slots=1,
                outlets=[dataset_asset(dataset)],
                dag=dag,
            )
            extract >> validate >> publish
    return dag


def build_dags(sources_dir: Path | None = None) -> dict[str, DAG]:
    """DAG id → DAG for every valid source file; an invalid file is logged and skipped.

    Args:
        sources_dir: the folder of source files (default: the hub's ``sources_dir``).

    Returns:
        One DAG per valid ``*.yaml``.
    """
    if sources_dir is None:
        sources_dir = default_sources_dir()
    dags: dict[str, DAG] = {}
    for source_id, path in discover_sources(sources_dir).items():
        try:
            dag = build_source_dag(load_source(path))
        except ConfigError as exc:
            log.error("skipping %s: %s", path, exc)
            continue
        except Exception as exc:  # e.g. an unknown time zone: one bad file must not hide 499
            log.error("skipping %s: %s: %s", path, type(exc).__name__, exc)
            continue
        dags[dag.dag_id] = dag
        log.debug("built %s from %s", source_id, path)
    return dags


def build_consumer_dag(dataset: str, department: str | None = None) -> DAG:
    """An example consumer: runs whenever the dataset's Asset is updated by a publish task.

    Args:
        dataset: the dataset to follow, e.g. ``person``.
        department: read as this department (its grants and masks apply); None reads as
            the hub's operator.

    Returns:
        ``exhub_consume_<dataset>`` (``..._as_<department>``), scheduled on
        ``exhub://datasets/<dataset>``.
    """
    suffix = f"_as_{department}" if department else ""
    dag = DAG(
        dag_id=f"exhub_consume_{dataset}{suffix}",
        description=f"example consumer: runs when {dataset} is published",
        schedule=[dataset_asset(dataset)],
        start_date=pendulum.datetime(*START, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        tags=["exhub", "consumer", f"dataset:{dataset}"],
        default_args={"owner": "exhub", "retries": 1, "retry_delay": timedelta(minutes=1)},
    )
    PythonOperator(
        task_id="report",
        python_callable=consume_dataset_task,
        op_kwargs={"dataset": dataset, "department": department},
        dag=dag,
    )
    return dag


def build_maintenance_dag(schedule: str = "0 3 * * *") -> DAG:
    """The maintenance DAG: ``exhub maintain`` nightly (expire, compact, remove orphans).

    Args:
        schedule: when to run (default 03:00 in Asia/Shanghai, after the nightly syncs).

    Returns:
        ``exhub_maintenance``.
    """
    dag = DAG(
        dag_id="exhub_maintenance",
        description="exhub maintain: expire snapshots, compact small files, remove orphans",
        schedule=schedule,
        start_date=pendulum.datetime(*START, tz="Asia/Shanghai"),
        catchup=False,
        max_active_runs=1,
        tags=["exhub", "maintenance"],
        default_args={"owner": "exhub", "retries": 1, "retry_delay": timedelta(minutes=10)},
    )
    PythonOperator(task_id="maintain", python_callable=maintain_task, dag=dag)
    return dag
