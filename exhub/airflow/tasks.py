"""Task callables: the engine's errors become Airflow's retry or fail-fast decisions."""

from __future__ import annotations

import re
from typing import Any

from exhub.errors import RetriableError, TerminalError


def run_id_for(dag_run_id: str, stream_name: str, try_key: str = "") -> str:
    """A run id stable across the retries of one task, so a retry replays its own landing."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{dag_run_id}-{stream_name}{try_key}")[:120]


def sync_stream_task(source_id: str, stream_name: str, **context: Any) -> dict:
    """Sync one stream; return the run id and counts (never data) for XCom."""
    from airflow.exceptions import AirflowException
    from airflow.sdk.exceptions import AirflowFailException

    from exhub.engine.hub import Hub
    from exhub.engine.sync import register, sync_stream
    from exhub.sources import config_hash, discover_sources, find_source

    hub = Hub()
    source = find_source(hub.settings.sources_path, source_id)
    path = discover_sources(hub.settings.sources_path)[source_id]
    register(hub, source, config_hash(path))
    dag_run = context.get("dag_run")
    run_id = run_id_for(dag_run.run_id if dag_run else "manual", stream_name)
    try:
        summary = sync_stream(
            hub,
            source,
            source.stream(stream_name),
            source_file=path,
            trigger="airflow",
            run_id=run_id,
        )
    except RetriableError as exc:
        raise AirflowException(str(exc)) from exc
    except TerminalError as exc:
        raise AirflowFailException(str(exc)) from exc
    return {
        "run_id": summary.run_id,
        "dataset": summary.dataset,
        "status": summary.status,
        "extracted": summary.extracted,
        "published": summary.published,
        "quarantined": summary.quarantined,
    }
