"""Run half of the repository: runs (counts, timings, rule results) and watermarks."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from shared_catalog.errors import CatalogError
from shared_catalog.models import Run, Watermark
from shared_catalog.records import RunRecord, RunStatus, RunTotals, RunTrigger
from shared_catalog.repo_base import RepositoryBase

COUNT_FIELDS = frozenset(
    {
        "extracted_rows",
        "conformed_rows",
        "quarantined_rows",
        "published_rows",
        "deleted_rows",
        "landing_bytes",
    }
)
MERGED_FIELDS = frozenset({"timings", "rule_counts"})
REPLACED_FIELDS = frozenset(
    {"gate_results", "snapshot_id", "watermark_after", "validation_report_path"}
)
RUN_FIELDS = COUNT_FIELDS | MERGED_FIELDS | REPLACED_FIELDS
"""Keyword fields accepted by ``update_run`` and ``finish_run``."""

E = TypeVar("E", RunStatus, RunTrigger)

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s]*):[^@\s]*@", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide the password of any URL in ``text`` (``scheme://user:***@host``).

    Args:
        text: Free text such as an error message.

    Returns:
        The text with URL passwords replaced by ``***``.
    """
    return _URL_PASSWORD.sub(r"\g<head>:***@", text)


class RunMethods(RepositoryBase):
    """The history of runs and the watermarks of incremental streams."""

    def start_run(
        self,
        run_id: str,
        source_id: str,
        stream_name: str,
        dataset_name: str,
        trigger: RunTrigger | str,
        full_refresh: bool = False,
        watermark_before: str | None = None,
    ) -> RunRecord:
        """Record that a run started, with status ``running``.

        Starting a run id again (an Airflow retry) restarts the record: counts, timings,
        results and errors are cleared. A run that succeeded is never restarted.

        Args:
            run_id: ULID or UUID of the run.
            source_id: Source system read.
            stream_name: Stream read.
            dataset_name: Dataset published to.
            trigger: ``cli``, ``airflow`` or ``demo``.
            full_refresh: Whether the run ignores the watermark.
            watermark_before: The watermark the run starts from.

        Returns:
            The run as stored.

        Raises:
            CatalogError: If the trigger is unknown, or the run id already succeeded or
                belongs to another stream.
        """
        trigger = _enum(RunTrigger, trigger, "trigger")
        now = self._now()
        with self._session() as s, s.begin():
            run = s.get(Run, run_id, with_for_update=True)
            if run is None:
                run = Run(id=run_id)
                s.add(run)
            elif run.status == RunStatus.SUCCEEDED:
                raise CatalogError(
                    f"run {run_id} already succeeded and cannot start again",
                    fix="start a new run with a new run id",
                    run_id=run_id,
                )
            elif (run.source_id, run.stream_name) != (source_id, stream_name):
                raise CatalogError(
                    f"run id {run_id} belongs to {run.source_id}/{run.stream_name}",
                    fix="generate a new run id for every run",
                    run_id=run_id,
                )
            run.source_id, run.stream_name, run.dataset_name = source_id, stream_name, dataset_name
            run.status, run.trigger = RunStatus.RUNNING.value, trigger.value
            run.full_refresh = full_refresh
            run.started_at, run.finished_at = now, None
            for field in COUNT_FIELDS:
                setattr(run, field, 0)
            run.timings, run.rule_counts, run.gate_results = {}, {}, []
            run.snapshot_id = run.watermark_after = run.validation_report_path = None
            run.error_class = run.error_message = None
            run.watermark_before = watermark_before
            s.flush()
            return RunRecord.of(run)

    def update_run(self, run_id: str, **fields: Any) -> RunRecord:
        """Update the counts and results of a run.

        Counts (``extracted_rows``, ``conformed_rows``, ``quarantined_rows``,
        ``published_rows``, ``deleted_rows``, ``landing_bytes``) are set, not added.
        ``timings`` (stage → seconds) and ``rule_counts`` (rule id → failed rows) are merged
        key by key into what is stored. ``gate_results``, ``snapshot_id``,
        ``watermark_after`` and ``validation_report_path`` are replaced.

        Args:
            run_id: The run.
            **fields: Fields to update, among :data:`RUN_FIELDS`.

        Returns:
            The run as stored.

        Raises:
            CatalogError: If the run is unknown or a field is unknown or invalid.
        """
        with self._session() as s, s.begin():
            run = self._locked_run(s, run_id)
            _apply(run, fields)
            s.flush()
            return RunRecord.of(run)

    def finish_run(
        self,
        run_id: str,
        status: RunStatus | str,
        error_class: str | None = None,
        error_message: str | None = None,
        **fields: Any,
    ) -> RunRecord:
        """Record the final status of a run, with last counts and results.

        Finishing twice with the same status only applies ``fields`` (the first
        ``finished_at`` stays); with another status it is an error. URL passwords in
        ``error_message`` are redacted.

        Args:
            run_id: The run.
            status: ``succeeded``, ``failed``, ``gated`` or ``skipped``.
            error_class: Class name of the error that ended the run, if any.
            error_message: Its message, if any.
            **fields: As for :meth:`update_run`.

        Returns:
            The run as stored.

        Raises:
            CatalogError: If the status is not final, the run is unknown or already finished
                with another status, or a field is invalid.
        """
        status = _enum(RunStatus, status, "status")
        if status is RunStatus.RUNNING:
            raise CatalogError("finish_run needs a final status", fix="use start_run to start")
        now = self._now()
        with self._session() as s, s.begin():
            run = self._locked_run(s, run_id)
            if run.status != RunStatus.RUNNING and run.status != status:
                raise CatalogError(
                    f"run {run_id} already finished as {run.status}, cannot finish as {status}",
                    run_id=run_id,
                )
            _apply(run, fields)
            run.status = status.value
            run.finished_at = run.finished_at or now
            if error_class is not None:
                run.error_class = error_class
            if error_message is not None:
                run.error_message = redact(error_message)
            s.flush()
            return RunRecord.of(run)

    def get_run(self, run_id: str) -> RunRecord | None:
        """Return a run, or None if there is no such run."""
        return self._get(Run, run_id, RunRecord.of)

    def list_runs(
        self,
        source_id: str | None = None,
        dataset_name: str | None = None,
        limit: int = 50,
        *,
        dataset_names: Collection[str] | None = None,
    ) -> list[RunRecord]:
        """List runs, newest first.

        Args:
            source_id: Only runs of this source system.
            dataset_name: Only runs publishing to this dataset.
            limit: At most this many runs.
            dataset_names: Only runs publishing to one of these datasets (before the limit).

        Returns:
            The runs, by start time descending.
        """
        if limit < 1:
            raise CatalogError(f"limit must be positive, not {limit}")
        query = select(Run).order_by(Run.started_at.desc(), Run.id.desc()).limit(limit)
        if source_id is not None:
            query = query.where(Run.source_id == source_id)
        if dataset_name is not None:
            query = query.where(Run.dataset_name == dataset_name)
        if dataset_names is not None:
            query = query.where(Run.dataset_name.in_(sorted(dataset_names)))
        with self._session(write=False) as s, s.begin():
            return [RunRecord.of(run) for run in s.scalars(query)]

    def run_totals(self, since: datetime) -> dict[str, RunTotals]:
        """Per source system, the runs started at or after ``since``, added up in SQL.

        However many runs a window holds (hundreds of systems syncing hourly), nothing is
        read row by row.
        """
        succeeded = func.sum(case((Run.status == RunStatus.SUCCEEDED.value, 1), else_=0))
        query = (
            select(
                Run.source_id,
                func.count(),
                succeeded,
                func.sum(Run.extracted_rows),
                func.sum(Run.quarantined_rows),
            )
            .where(Run.started_at >= since)
            .group_by(Run.source_id)
        )
        with self._session(write=False) as s, s.begin():
            return {
                source: RunTotals(int(runs), int(ok or 0), int(rows or 0), int(bad or 0))
                for source, runs, ok, rows, bad in s.execute(query)
            }

    def last_successful_run(self, source_id: str, stream_name: str) -> RunRecord | None:
        """Return the most recently started run of a stream that succeeded, or None."""
        succeeded = RunStatus.SUCCEEDED.value
        query = (
            select(Run)
            .filter_by(source_id=source_id, stream_name=stream_name, status=succeeded)
            .order_by(Run.started_at.desc(), Run.id.desc())
            .limit(1)
        )
        with self._session(write=False) as s, s.begin():
            run = s.scalars(query).first()
            return None if run is None else RunRecord.of(run)

    def get_watermark(self, source_id: str, stream_name: str) -> str | None:
        """Return the watermark of a stream, or None before its first incremental run."""
        with self._session(write=False) as s, s.begin():
            row = s.get(Watermark, (source_id, stream_name))
            return None if row is None else row.value

    def set_watermark(self, source_id: str, stream_name: str, value: str, run_id: str) -> None:
        """Set the watermark of a stream, replacing the previous one.

        Call it only after the run's Iceberg commit: the watermark must never get ahead of
        what was published.

        Args:
            source_id: Source system.
            stream_name: Stream.
            value: The new cursor value as ISO text.
            run_id: The run that published up to ``value``.
        """
        values = {
            "source_id": source_id,
            "stream_name": stream_name,
            "value": value,
            "run_id": run_id,
            "updated_at": self._now(),
        }
        with self._session() as s, s.begin():
            self._upsert(s, Watermark, values, keys=("source_id", "stream_name"))

    @staticmethod
    def _locked_run(session: Session, run_id: str) -> Run:
        run = session.get(Run, run_id, with_for_update=True)
        if run is None:
            raise CatalogError(f"no run {run_id} in the catalog", fix="call start_run first")
        return run


def _enum(kind: type[E], value: E | str, name: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise CatalogError(f"unknown run {name} {value!r}", fix=f"use one of: {allowed}") from None


def _apply(run: Run, fields: dict[str, Any]) -> None:
    unknown = set(fields) - RUN_FIELDS
    if unknown:
        raise CatalogError(
            f"unknown run fields: {', '.join(sorted(unknown))}",
            fix=f"use only: {', '.join(sorted(RUN_FIELDS))}",
        )
    try:
        for field, value in fields.items():
            if field in COUNT_FIELDS:
                if isinstance(value, bool) or int(value) < 0:
                    raise ValueError(f"{field} must be a count >= 0, not {value!r}")
                setattr(run, field, int(value))
            elif field == "timings":
                run.timings = {**run.timings, **{str(k): float(v) for k, v in value.items()}}
            elif field == "rule_counts":
                run.rule_counts = {**run.rule_counts, **{str(k): int(v) for k, v in value.items()}}
            elif field == "gate_results":
                run.gate_results = [dict(result) for result in value]
            elif field == "snapshot_id":
                run.snapshot_id = None if value is None else int(value)
            else:
                setattr(run, field, None if value is None else str(value))
    except (TypeError, ValueError, AttributeError) as exc:
        raise CatalogError(f"invalid run field: {exc}", run_id=run.id) from exc
