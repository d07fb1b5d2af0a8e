"""One DAG per ``sources/*.yaml``, built from the YAML alone (no database, no network).

Each stream is one task calling the same engine as ``exhub sync``; the task runs in the
source's pool so a legacy system never sees more sessions than it tolerates, and declares
the dataset's Asset so consumer DAGs run when it is updated.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Asset

from exhub.airflow.tasks import sync_stream_task
from exhub.errors import ConfigError
from exhub.settings import load_settings
from exhub.sources import discover_sources, load_source

log = logging.getLogger(__name__)
START = datetime(2026, 1, 1, tzinfo=UTC)


def dataset_asset(dataset: str) -> Asset:
    """The Asset of a dataset: one stable URI per dataset."""
    return Asset(name=f"exhub_{dataset}", uri=f"exhub://datasets/{dataset}")


def pool_name(source_id: str) -> str:
    """The Airflow pool capping connections to one legacy system."""
    return f"exhub_{source_id}"


def build_dags(sources_dir: Path | None = None) -> dict[str, DAG]:
    """DAG id → DAG for every valid source file; an invalid file is logged and skipped."""
    if sources_dir is None:
        home = os.environ.get("EXHUB_HOME")
        sources_dir = load_settings(Path(home) if home else None).sources_path
    dags: dict[str, DAG] = {}
    for source_id, path in discover_sources(sources_dir).items():
        try:
            source = load_source(path)
        except ConfigError as exc:
            log.error("skipping %s: %s", path, exc)
            continue
        dag = DAG(
            dag_id=f"exhub_{source_id}",
            description=f"{source.department.name} · {source.system}",
            schedule=source.schedule,
            start_date=START,
            catchup=False,
            max_active_runs=1,
            tags=["exhub", f"department:{source.department.id}", f"system:{source_id}"],
            default_args={
                "owner": source.department.id,
                "retries": 3,
                "retry_delay": timedelta(minutes=1),
                "retry_exponential_backoff": True,
                "max_retry_delay": timedelta(minutes=30),
            },
        )
        for stream in source.streams:
            PythonOperator(
                task_id=f"sync_{stream.name}",
                python_callable=sync_stream_task,
                op_kwargs={"source_id": source_id, "stream_name": stream.name},
                pool=pool_name(source_id),
                outlets=[dataset_asset(stream.target.split("@", 1)[0])],
                dag=dag,
            )
        dags[dag.dag_id] = dag
    return dags
