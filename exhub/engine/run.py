"""A run's identity and record: ids, the plan shared by its stages, failpoints, timings."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from connectors import Capability, load_connector
from exhub.contracts import Contract, contract_hash
from exhub.engine.hub import Hub
from exhub.extract import landing_folder
from exhub.sources import SourceConfig, StreamConfig

if TYPE_CHECKING:
    from exhub.validate.suite_runs import SuiteRun

log = logging.getLogger("exhub.run")
Progress = Callable[[str, int], None]


def new_run_id() -> str:
    """Readable, time-sortable run id, e.g. ``20261126T120501Z-1f2e3d4c``."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


@dataclass
class RunSummary:
    """What one run did (also recorded in the catalog)."""

    run_id: str
    source_id: str
    stream: str
    dataset: str
    status: str = "running"
    extracted: int = 0
    published: int = 0
    quarantined: int = 0
    deleted: int = 0
    tombstoned: int = 0
    rule_counts: dict[str, int] = field(default_factory=dict)
    gates: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    snapshot_id: int | None = None
    report: str | None = None


@dataclass
class RunPlan:
    """Everything the stages of one run share; rebuilt from the catalog by later tasks."""

    hub: Hub
    source: SourceConfig
    stream: StreamConfig
    contract: Contract
    source_file: Path
    run_id: str
    full_refresh: bool
    watermark: str | None
    summary: RunSummary
    progress: Progress | None = None
    advance_watermark: bool = True
    accept_drift: bool = False
    extract_started_at: str | None = None
    # Set when this process publishes right after validating (not a separate task): the
    # validate stage then scans the merge as it stages rows (see ``RunningMerge``).
    publish_follows: bool = False
    merge_scan: Future | None = None
    # ``start_merge_preparation``: the live files, their key indexes and deletes, from the
    # run's start.
    merge_basis: Future | None = None
    # Set by the validate stage when Great Expectations still runs beside the commit: writes
    # the report again with its result (the publish stage calls it before closing the run).
    finish_report: Callable[[], None] | None = None
    # Great Expectations' run for this plan, when a process was forked for it at the start.
    suite_run: SuiteRun | None = None

    @property
    def landing(self) -> Path:
        """Landing folder of this run."""
        return landing_folder(
            self.hub.settings.warehouse_path, self.source.id, self.stream.name, self.run_id
        )

    @property
    def where(self) -> str:
        """How errors name the stream's configuration."""
        return f"{self.source_file} (stream '{self.stream.name}')"

    def tick(self, stage: str, rows: int) -> None:
        """Report progress."""
        if self.progress:
            self.progress(stage, rows)


class Timer:
    """Records a stage's wall time into the summary."""

    def __init__(self, summary: RunSummary, stage: str) -> None:
        self.summary, self.stage = summary, stage

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.summary.timings[self.stage] = round(time.perf_counter() - self.start, 3)


def register(hub: Hub, source: SourceConfig, source_hash: str) -> None:
    """Record the source, its streams and target datasets in the catalog."""
    repo = hub.repository
    repo.upsert_department(source.department.id, source.department.name)
    repo.upsert_source_system(
        source.id,
        source.department.id,
        source.system,
        source.connector,
        source.schedule,
        source.max_connections,
        source_hash,
    )
    for stream in source.streams:
        contract = hub.contracts.get(stream.target)
        # The dataset's owner, sharing class and titles are those of its newest registered
        # version: a source still on an older version must not turn them back.
        known = repo.get_dataset(contract.name)
        newest = contract
        if known is not None and known.current_version > contract.version:
            newest = hub.contracts.get(f"{contract.name}@{known.current_version}")
        repo.ensure_department(newest.owner, newest.owner)
        repo.upsert_dataset(
            newest.name,
            newest.domain,
            newest.title.zh,
            newest.title.en,
            newest.owner,
            newest.sharing.class_.value,
            newest.update_cycle.value,
            newest.version,
            ".".join(newest.iceberg_identifier),
        )
        repo.register_schema_version(
            contract.name,
            contract.version,
            contract_hash(contract),
            contract.model_dump_json(by_alias=True),
        )
        repo.upsert_stream(
            source.id, stream.name, stream.source, contract.name, contract.version, stream.cursor
        )


def start_plan(
    hub: Hub,
    source: SourceConfig,
    stream: StreamConfig,
    *,
    source_file: Path,
    full_refresh: bool = False,
    trigger: str = "cli",
    run_id: str | None = None,
    progress: Progress | None = None,
) -> RunPlan:
    """Open (or reopen, for a retry) the run record and return the plan of its stages."""
    repo = hub.repository
    contract = hub.contracts.get(stream.target)
    run_id = run_id or new_run_id()
    existing = repo.get_run(run_id)
    if existing is not None:
        # A retry keeps the attempt's own choices: same landing, same refresh mode.
        full_refresh, watermark = existing.full_refresh, existing.watermark_before
    else:
        # A file connector with a ledger reads only new or changed files: not a full refresh.
        ledgered = Capability.FILE_LEDGER in load_connector(source.connector).capabilities
        full_refresh = full_refresh or (stream.full_refresh_only and not ledgered)
        watermark = None if full_refresh else repo.get_watermark(source.id, stream.name)
    _close_interrupted_runs(hub, source.id, stream.name, run_id)
    if existing is None or existing.status != "succeeded":
        repo.start_run(
            run_id, source.id, stream.name, contract.name, trigger, full_refresh, watermark
        )
    summary = RunSummary(run_id, source.id, stream.name, contract.name)
    return RunPlan(
        hub,
        source,
        stream,
        contract,
        source_file,
        run_id,
        full_refresh,
        watermark,
        summary,
        progress,
    )


def resume_plan(hub: Hub, source: SourceConfig, source_file: Path, run_id: str) -> RunPlan:
    """The plan of a run already started (by an earlier Airflow task), from its record."""
    record = hub.repository.get_run(run_id)
    if record is None:
        from exhub.errors import TerminalError

        raise TerminalError(f"run '{run_id}' was never started", fix="run the extract task first")
    stream = source.stream(record.stream_name)
    contract = hub.contracts.get(stream.target)
    summary = RunSummary(run_id, source.id, stream.name, contract.name)
    summary.extracted = record.extracted_rows
    return RunPlan(
        hub,
        source,
        stream,
        contract,
        source_file,
        run_id,
        record.full_refresh,
        record.watermark_before,
        summary,
    )


def _close_interrupted_runs(hub: Hub, source_id: str, stream_name: str, run_id: str) -> None:
    # A run left 'running' by a killed process would stay so forever; say what happened.
    for record in hub.repository.list_runs(source_id=source_id, limit=20):
        if record.stream_name == stream_name and record.status == "running" and record.id != run_id:
            hub.repository.finish_run(
                record.id,
                "failed",
                error_class="Interrupted",
                error_message=(
                    f"the process stopped before this run finished (killed or crashed); "
                    f"run {run_id} took over. Nothing of it is visible unless it had committed."
                ),
            )


def fail_run(hub: Hub, plan: RunPlan, exc: BaseException, status: str = "failed") -> None:
    """Record a run's failure with the error's class and message."""
    plan.summary.status = status
    hub.repository.finish_run(
        plan.run_id,
        status,
        error_class=type(exc).__name__,
        error_message=str(exc)[:4000],
        timings=plan.summary.timings,
    )
