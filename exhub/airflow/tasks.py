"""Task callables: each runs exactly one engine stage; engine errors decide retry or fail-fast.

A stream's task group runs extract → validate → publish. The extract task opens the run
(``start_plan``) under a run id derived from the DAG run and the stream, so every try of every
task of that group works on the same run: a retried extract replays the run's landing, and a
publish that already committed is never committed twice. Only the run id and counts travel
through XCom; rows stay in the run's landing folder.

Errors: a ``RetriableError`` (source unreachable, commit conflict) becomes ``AirflowException``,
retried with exponential backoff; a ``TerminalError`` (bad configuration, failed quality gate)
becomes ``AirflowFailException``, which fails the task at once. Either way the failure is
recorded on the run (``fail_run``) and sent as an OpenLineage FAIL event.

Everything heavy is imported inside the callables, with the garbage collector paused (see
``exhub.gc_pause``): the DAG files import this module at parse time.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exhub import gc_pause
from exhub.errors import ConfigError, GateFailedError, RetriableError, TerminalError

if TYPE_CHECKING:
    from exhub.engine.hub import Hub
    from exhub.engine.run import RunPlan
    from exhub.lineage import Parent
    from exhub.sources import SourceConfig, StreamConfig

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)  # the task log is the operator's view; exhub's default is WARNING
MAINTENANCE_MODULE = "exhub.publish.maintenance"


def run_id_for(dag_run_id: str, stream_name: str, try_key: str = "") -> str:
    """A run id stable across the retries of one task, so a retry replays its own landing."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{dag_run_id}-{stream_name}{try_key}")[:120]


def airflow_error(exc: BaseException) -> BaseException | None:
    """The Airflow exception that carries ``exc``'s retry decision, or None to leave it as is.

    Args:
        exc: an error raised by the engine.

    Returns:
        ``AirflowException`` (retried with backoff) for a retriable error,
        ``AirflowFailException`` (no retry) for a terminal one or a catalog refusal, None for
        anything else (Airflow's default: retry).
    """
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    from shared_catalog.errors import CatalogError

    if isinstance(exc, RetriableError):
        return AirflowException(f"{type(exc).__name__} (will retry): {exc}")
    if isinstance(exc, TerminalError | CatalogError):
        return AirflowFailException(f"{type(exc).__name__} (not retried): {exc}")
    return None


class StageRun:
    """One task's hold on a run: opens the source and records the failure of its stage.

    Use as a context manager; errors raised inside are recorded on the run (when a plan was
    opened), sent as a lineage FAIL event and translated by :func:`airflow_error`.
    """

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context
        self.hub: Hub | None = None
        self.plan: RunPlan | None = None

    @property
    def dag_run_id(self) -> str:
        """The Airflow DAG run id (``manual`` outside a DAG run)."""
        dag_run = self.context.get("dag_run")
        return dag_run.run_id if dag_run is not None else "manual"

    @property
    def parent(self) -> Parent:
        """The DAG run as the lineage parent of the exhub run."""
        from exhub.lineage import Parent
        from exhub.lineage.events import job_namespace

        dag = self.context.get("dag")
        dag_id = dag.dag_id if dag is not None else "exhub"
        return Parent(job_namespace(), dag_id, f"{dag_id}/{self.dag_run_id}")

    def open(self, source_id: str) -> tuple[Hub, SourceConfig, Path]:
        """The hub, the source's configuration and its file.

        Raises:
            ConfigError: no such source, or its file is invalid.
        """
        from exhub.engine.hub import Hub
        from exhub.sources import load_source, source_path

        self.hub = Hub()
        path = source_path(self.hub.settings.sources_path, source_id)
        return self.hub, load_source(path), path

    @staticmethod
    def stream(source: SourceConfig, stream_name: str) -> StreamConfig:
        """The stream called ``stream_name``.

        Raises:
            ConfigError: the source file no longer has that stream.
        """
        try:
            return source.stream(stream_name)
        except KeyError:
            raise ConfigError(
                f"source '{source.id}' has no stream '{stream_name}'",
                fix="the source file changed under this DAG; let the DAG processor re-parse it",
                key="streams",
            ) from None

    def lineage(self, state: str, error: BaseException | None = None) -> None:
        """Send an OpenLineage event of the run (when lineage is configured)."""
        from exhub.lineage import emit_run_event

        if self.plan is not None:
            emit_run_event(self.plan, state, error=error, parent=self.parent)

    def __enter__(self) -> StageRun:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        self._record_failure(exc)
        translated = airflow_error(exc)
        if translated is None:
            return False  # not ours to classify: Airflow's default (retry) applies
        raise translated from exc

    def _record_failure(self, exc: Exception) -> None:
        from exhub.engine.run import fail_run

        if self.plan is None or self.hub is None:
            return
        status = "gated" if isinstance(exc, GateFailedError) else "failed"
        try:
            fail_run(self.hub, self.plan, exc, status=status)
        except Exception:  # the original error matters more than its record
            log.exception("could not record the failure of run %s", self.plan.run_id)
        self.lineage("FAIL", error=exc)


def _connection_ids(value: Any) -> list[str]:
    from exhub.sources.secrets import CONNECTION_PREFIX

    if isinstance(value, dict):
        return [c for v in value.values() for c in _connection_ids(v)]
    if isinstance(value, list):
        return [c for v in value for c in _connection_ids(v)]
    if isinstance(value, str) and value.startswith(CONNECTION_PREFIX):
        return [value[len(CONNECTION_PREFIX) :]]
    return []


def mask_connection_secrets(source: SourceConfig) -> None:
    """Mask in task logs every spelling of the passwords of the source's Airflow connections.

    Reading a connection already masks its password; a URI built from it holds the password
    percent-encoded (``p%40ss`` for ``p@ss``), which is masked here too.
    """
    from urllib.parse import quote, quote_plus

    from airflow.sdk import BaseHook
    from airflow.sdk.log import mask_secret

    for conn_id in _connection_ids(source.options):
        try:
            password = BaseHook.get_connection(conn_id).password
        except Exception:  # resolving it later raises the error that says how to fix it
            continue
        if password:
            for form in {password, quote(password, safe=""), quote_plus(password)}:
                mask_secret(form)


def extract_task(source_id: str, stream_name: str, **context: Any) -> dict[str, Any]:
    """Open (or reopen, on a retry) the stream's run and land the source's rows.

    Returns:
        ``run_id`` and ``extracted`` rows, for XCom.
    """
    with gc_pause.paused():
        from exhub.engine.extracting import extract_stage
        from exhub.engine.run import register, start_plan
        from exhub.sources import config_hash

    with StageRun(context) as run:
        hub, source, path = run.open(source_id)
        stream = run.stream(source, stream_name)
        mask_connection_secrets(source)
        register(hub, source, config_hash(path))
        run.plan = start_plan(
            hub,
            source,
            stream,
            source_file=path,
            trigger="airflow",
            run_id=run_id_for(run.dag_run_id, stream_name),
        )
        run.lineage("START")
        manifest = extract_stage(run.plan)
    log.info(
        "run %s: extracted %d rows of %s.%s into %s",
        run.plan.run_id,
        manifest.extracted_rows,
        source_id,
        stream_name,
        run.plan.landing,
    )
    return {"run_id": run.plan.run_id, "extracted": manifest.extracted_rows}


def validate_task(source_id: str, handover: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Conform, validate, quarantine and gate the run's landing.

    Args:
        source_id: the source.
        handover: the extract task's XCom (``run_id``).
        **context: the Airflow context.

    Returns:
        ``run_id``, rows ``staged`` to publish and rows ``quarantined``, for XCom.
    """
    with gc_pause.paused():
        from exhub.engine.run import resume_plan
        from exhub.engine.stages import validate_stage
        from exhub.validate.gx_import import prewarm

    prewarm()  # Great Expectations imports while the landing is read and conformed
    with StageRun(context) as run:
        hub, source, path = run.open(source_id)
        run.plan = resume_plan(hub, source, path, handover["run_id"])
        validated = validate_stage(run.plan)
        run.lineage("RUNNING")
    if validated is None:
        log.info("run %s already committed; nothing to validate", run.plan.run_id)
        return {"run_id": run.plan.run_id, "staged": None, "quarantined": None}
    log.info(
        "run %s: %d rows staged, %d quarantined (report: %s)",
        run.plan.run_id,
        validated.published_rows,
        validated.quarantined_rows,
        validated.report,
    )
    return {
        "run_id": run.plan.run_id,
        "staged": validated.published_rows,
        "quarantined": validated.quarantined_rows,
    }


def publish_task(source_id: str, handover: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Commit the staged rows as one Iceberg snapshot (once, whatever the retries).

    The outlet Asset's event carries the run id, snapshot and counts as its ``extra``.

    Args:
        source_id: the source.
        handover: the validate task's XCom (``run_id``).
        **context: the Airflow context.

    Returns:
        The run's id, dataset, status, counts and snapshot id, for XCom.
    """
    with gc_pause.paused():
        from exhub.engine.run import resume_plan
        from exhub.engine.stages import publish_stage

    with StageRun(context) as run:
        hub, source, path = run.open(source_id)
        run.plan = resume_plan(hub, source, path, handover["run_id"])
        publish_stage(run.plan)
        run.lineage("COMPLETE")
    summary = run.plan.summary
    result = {
        "run_id": summary.run_id,
        "dataset": summary.dataset,
        "status": summary.status,
        "extracted": summary.extracted,
        "published": summary.published,
        "quarantined": summary.quarantined,
        "snapshot_id": summary.snapshot_id,
    }
    outlet_events = context.get("outlet_events")
    task = context.get("task")
    if outlet_events is not None and task is not None:
        for asset in task.outlets:
            outlet_events[asset].extra.update(result)
    log.info(
        "run %s: published %d rows to %s (snapshot %s), %d quarantined",
        summary.run_id,
        summary.published,
        summary.dataset,
        summary.snapshot_id,
        summary.quarantined,
    )
    return result


def consume_dataset_task(
    dataset: str, department: str | None = None, **context: Any
) -> dict[str, Any]:
    """Example consumer of a dataset: which runs updated it, and its rows per source now.

    Args:
        dataset: the dataset (a table name for ``exhub query``).
        department: read as this department (a dataset it may not read fails the task).
        **context: the Airflow context (``triggering_asset_events`` when run by an update).

    Returns:
        The triggering runs and the dataset's rows per source, for XCom.
    """
    from exhub.engine.hub import Hub
    from exhub.query import run_query

    triggered_by = [
        dict(event.extra)
        for events in (context.get("triggering_asset_events") or {}).values()
        for event in events
    ]
    for extra in triggered_by:
        log.info("%s updated by run %s", dataset, extra.get("run_id"))
    dag = context.get("dag")
    task_user = f"airflow:{dag.dag_id}" if dag is not None else "airflow"
    with StageRun(context):
        table = run_query(
            Hub(),
            f"SELECT _source, count(*) AS n FROM {dataset} GROUP BY 1 ORDER BY 1",
            actor=department or task_user,
            purpose="row counts per source after a dataset update",
            department=department,
            user=task_user,
        )
    rows = {row["_source"]: row["n"] for row in table.to_pylist()}
    log.info("%s rows per source: %s", dataset, rows)
    return {"dataset": dataset, "triggered_by": triggered_by, "rows_per_source": rows}


def maintain_task(**context: Any) -> Any:
    """Run ``exhub maintain``: expire snapshots, compact small files, remove orphans.

    Calls ``exhub.publish.maintenance.maintain(hub)``, imported only now (a deployment whose
    exhub has no maintenance module fails this task with a message saying so).

    Returns:
        ``maintain``'s reports (one per dataset), as JSON-ready data for XCom.

    Raises:
        AirflowFailException: the maintenance module is not installed, or it failed terminally.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from exhub.engine.hub import Hub

    try:
        from exhub.publish.maintenance import maintain
    except ImportError as exc:
        if exc.name == MAINTENANCE_MODULE or not exc.name:
            raise AirflowFailException(
                f"exhub maintain is not available: this installation of exhub has no "
                f"{MAINTENANCE_MODULE} module (or no maintain function in it). Install an exhub "
                "version that ships `exhub maintain`, or pause the exhub_maintenance DAG."
            ) from exc
        raise AirflowFailException(
            f"exhub maintain cannot start: the Python package '{exc.name}' it needs is missing"
        ) from exc
    with StageRun(context):
        result = _jsonable(maintain(Hub()))
    for report in result if isinstance(result, list) else [result]:
        log.info("maintenance: %s", report)
    return result


def _jsonable(value: Any) -> Any:
    """Dataclasses (and lists of them) as dicts; anything else JSON cannot hold as text."""
    import dataclasses
    import json

    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    try:
        json.dumps(value)
    except TypeError:
        return str(value)
    return value
