"""One run of one stream: extract → conform + validate → publish. The CLI and Airflow share it."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors import POSITION_COLUMN, ReadRequest, load_connector
from exhub.conform.conformer import Conformer
from exhub.contracts import Contract, contract_hash
from exhub.engine.hub import Hub
from exhub.engine.report import write_report
from exhub.errors import ExhubError, GateFailedError, TerminalError
from exhub.extract import LandingManifest, extract_to_landing, iter_landed, iter_rejects
from exhub.extract import landing_folder as landing_folder_of
from exhub.publish import (
    commit_run,
    committed_snapshot,
    data_folder,
    dataset_arrow_schema,
    ensure_table,
)
from exhub.sources import SourceConfig, StreamConfig
from exhub.sources.secrets import resolve_references
from exhub.validate.expectations import COMPUTED_SUFFIX, computed_rule_ids, run_suite
from exhub.validate.gate import PublishStats, count_true, evaluate_gate
from exhub.validate.quarantine import (
    QUARANTINE_SCHEMA,
    PartWriter,
    failed_mask,
    quarantine_folder,
    quarantine_rejects,
    quarantine_rows,
)
from exhub.validate.row_rules import apply_row_rules, row_rule_ids

log = logging.getLogger("exhub.sync")
Progress = Callable[[str, int], None]
EXAMPLES_PER_RULE = 5


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
    rule_counts: dict[str, int] = field(default_factory=dict)
    gates: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    snapshot_id: int | None = None
    report: str | None = None


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
        repo.upsert_department(contract.owner, contract.owner)
        repo.upsert_dataset(
            contract.name,
            contract.domain,
            contract.title.zh,
            contract.title.en,
            contract.owner,
            contract.sharing.class_.value,
            contract.update_cycle.value,
            contract.version,
            ".".join(contract.iceberg_identifier),
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


def _key_columns(contract: Contract, stream: StreamConfig) -> tuple[str, ...]:
    keys = []
    for key in contract.primary_key:
        mapping = stream.mapping.get(key)
        if mapping is not None and mapping.from_:
            keys.append(mapping.from_)
    return tuple(keys)


class _Timer:
    def __init__(self, summary: RunSummary, stage: str) -> None:
        self.summary, self.stage = summary, stage

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.summary.timings[self.stage] = round(time.perf_counter() - self.start, 3)


def sync_stream(
    hub: Hub,
    source: SourceConfig,
    stream: StreamConfig,
    *,
    source_file: Path,
    full_refresh: bool = False,
    trigger: str = "cli",
    run_id: str | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Run one stream end to end.

    A retry with the same ``run_id`` reuses that run's landing (the source is not read
    again) and never publishes twice.

    Raises:
        GateFailedError: a dataset rule failed; nothing was published.
        SourceUnreachableError: the legacy system could not be reached.
        ConfigError: the source, mapping or contract is wrong.
    """
    _settings, repo = hub.settings, hub.repository
    contract = hub.contracts.get(stream.target)
    full_refresh = full_refresh or stream.full_refresh_only
    run_id = run_id or new_run_id()
    watermark = None if full_refresh else repo.get_watermark(source.id, stream.name)
    summary = RunSummary(run_id, source.id, stream.name, contract.name)
    existing = repo.get_run(run_id)
    if existing is None or existing.status != "succeeded":
        # A retry of a failed attempt restarts the record; the landing is replayed.
        repo.start_run(
            run_id, source.id, stream.name, contract.name, trigger, full_refresh, watermark
        )
    try:
        _run(
            hub,
            source,
            stream,
            contract,
            summary,
            source_file=source_file,
            full_refresh=full_refresh,
            watermark=watermark,
            progress=progress,
        )
    except ExhubError as exc:
        status = "gated" if isinstance(exc, GateFailedError) else "failed"
        summary.status = status
        repo.finish_run(
            run_id,
            status,
            error_class=type(exc).__name__,
            error_message=str(exc),
            timings=summary.timings,
        )
        raise
    except Exception as exc:
        repo.finish_run(
            run_id,
            "failed",
            error_class=type(exc).__name__,
            error_message=str(exc)[:2000],
            timings=summary.timings,
        )
        raise
    return summary


def _run(
    hub: Hub,
    source: SourceConfig,
    stream: StreamConfig,
    contract: Contract,
    summary: RunSummary,
    *,
    source_file: Path,
    full_refresh: bool,
    watermark: str | None,
    progress: Progress | None,
) -> None:
    settings, repo = hub.settings, hub.repository
    where = f"{source_file} (stream '{stream.name}')"
    conformer = Conformer(contract, stream, where=where, timezone=source.timezone)
    landing = landing_folder_of(settings.warehouse_path, source.id, stream.name, summary.run_id)

    with _Timer(summary, "extract"):
        manifest = _extract(hub, source, stream, contract, summary, landing, watermark, progress)
    summary.extracted = manifest.extracted_rows
    repo.update_run(
        summary.run_id,
        extracted_rows=summary.extracted,
        landing_bytes=manifest.bytes,
        timings=summary.timings,
    )

    table = ensure_table(hub.iceberg, contract)
    already = committed_snapshot(table, summary.run_id)
    if already is not None:
        log.info("run %s already committed as snapshot %s", summary.run_id, already)
        snapshot = table.snapshot_by_id(already)
        summary.published = int(snapshot.summary["added-records"] or 0) if snapshot else 0
        summary.quarantined = summary.extracted - summary.published
        _finish(hub, source, stream, summary, manifest, already)
        return

    with _Timer(summary, "validate"):
        staged, stats, gx_frames, examples = _conform_and_validate(
            hub, source, contract, conformer, summary, landing, manifest, table, progress
        )
        previous = repo.last_successful_run(source.id, stream.name)
        gates = evaluate_gate(
            contract,
            staged.files,
            stats,
            last_good_rows=previous.published_rows if previous and previous.full_refresh else None,
            full_refresh=full_refresh,
        )
        summary.gates = [g.as_dict() for g in gates]
        gx_frame = pd.concat(gx_frames, ignore_index=True) if gx_frames else pd.DataFrame()
        gx_result = run_suite(contract, gx_frame, POSITION_COLUMN) if len(gx_frame) else None
    failed_gates = [g for g in gates if not g.passed]
    summary.status = "gated" if failed_gates else "succeeded"
    report = _report(hub, source, contract, summary, examples, gx_result, len(gx_frame))
    repo.update_run(
        summary.run_id,
        conformed_rows=summary.extracted,
        quarantined_rows=summary.quarantined,
        rule_counts=summary.rule_counts,
        gate_results=summary.gates,
        validation_report_path=str(report),
        timings=summary.timings,
    )
    if failed_gates:
        staged.discard()
        first = failed_gates[0]
        raise GateFailedError(
            f"dataset rule '{first.rule}' failed for {contract.name} from {source.id}: "
            f"{first.detail}; nothing was published (report: {report})",
            fix="fix the source data or the contract rule, then sync again",
            rule=first.rule,
        )

    with _Timer(summary, "publish"):
        result = commit_run(
            table,
            staged.files,
            run_id=summary.run_id,
            source_id=source.id,
            full_refresh=full_refresh,
            primary_key=contract.primary_key,
        )
    summary.published = stats.rows
    summary.deleted = result.rows_deleted
    if summary.extracted != summary.published + summary.quarantined:
        raise TerminalError(
            f"run {summary.run_id} lost rows: extracted {summary.extracted} != published "
            f"{summary.published} + quarantined {summary.quarantined}",
            fix="this is a bug in exhub; the landing zone still holds every row",
        )
    if progress:
        progress("publish", summary.published)
    _finish(hub, source, stream, summary, manifest, result.snapshot_id)


def _finish(hub, source, stream, summary, manifest: LandingManifest, snapshot_id) -> None:
    repo = hub.repository
    summary.snapshot_id = snapshot_id
    summary.status = "succeeded"
    if manifest.cursor_max is not None:
        # Only after the commit: a crash before it re-reads the same rows next time.
        repo.set_watermark(source.id, stream.name, manifest.cursor_max, summary.run_id)
    repo.finish_run(
        summary.run_id,
        "succeeded",
        published_rows=summary.published,
        quarantined_rows=summary.quarantined,
        deleted_rows=summary.deleted,
        snapshot_id=snapshot_id,
        watermark_after=manifest.cursor_max,
        timings=summary.timings,
    )


def _extract(hub, source, stream, contract, summary, landing, watermark, progress):
    if (landing / "_manifest.json").exists():
        return LandingManifest.load(landing)  # a retry replays its own landing
    options = resolve_references(source.options, where=f"{source.id}.options")
    connector_class = load_connector(source.connector)
    connector = connector_class.from_options(options, where=f"source '{source.id}'")
    request = ReadRequest(
        source_object=stream.source,
        key_columns=_key_columns(contract, stream),
        cursor=stream.cursor,
        watermark=watermark,
        lookback_seconds=stream.lookback_seconds,
        batch_size=hub.settings.batch_size,
        timezone=source.timezone,
        options=stream.options,
    )
    with connector:
        return extract_to_landing(
            connector,
            request,
            landing,
            run_id=summary.run_id,
            source_id=source.id,
            stream=stream.name,
            on_rows=(lambda n: progress("extract", n)) if progress else None,
        )


def _conform_and_validate(
    hub, source, contract, conformer, summary, landing, manifest, table, progress
):
    settings = hub.settings
    extracted_at = pa.scalar(datetime.fromisoformat(manifest.started_at), pa.timestamp("us", "UTC"))
    schema = dataset_arrow_schema(contract)
    staged = PartWriter(
        data_folder(table, source.id), f"{summary.run_id}-{secrets.token_hex(3)}", schema
    )
    quarantine = PartWriter(
        quarantine_folder(settings.warehouse_path, contract.name, summary.run_id),
        "part",
        QUARANTINE_SCHEMA,
    )
    for stale in quarantine.folder.glob("*.parquet"):
        stale.unlink()
    stats = PublishStats()
    gx_frames: list[pd.DataFrame] = []
    gx_rows = 0
    examples: dict[str, list[str]] = {}
    computed = set(computed_rule_ids(contract))
    checked_columns = False
    for batch in iter_landed(landing, manifest):
        if not checked_columns:
            conformer.check_columns(batch.schema)
            checked_columns = True
        conformed = conformer.conform(batch)
        failures = apply_row_rules(contract, conformed)
        bad = failed_mask(failures, batch.num_rows)
        good = conformed.values.filter(pc.invert(bad))
        count = good.num_rows
        for name, value in (
            ("_source", source.id),
            ("_department", source.department.id),
            ("_run_id", summary.run_id),
        ):
            good = good.append_column(name, pa.array([value] * count, pa.string()))
        good = good.append_column(
            "_extracted_at", pa.array([extracted_at] * count, pa.timestamp("us", "UTC"))
        )
        staged.write(good)
        stats.add(good)
        if pc.any(bad).as_py():
            quarantine.write(
                quarantine_rows(
                    conformed,
                    failures,
                    bad,
                    run_id=summary.run_id,
                    source_id=source.id,
                    department=source.department.id,
                )
            )
        for failure in failures:
            summary.rule_counts[failure.rule_id] = summary.rule_counts.get(
                failure.rule_id, 0
            ) + count_true(failure.mask)
            if len(examples.setdefault(failure.rule_id, [])) < EXAMPLES_PER_RULE:
                hits = pc.indices_nonzero(pc.fill_null(failure.mask, False))[:EXAMPLES_PER_RULE]
                examples[failure.rule_id] += pc.take(conformed.positions, hits).to_pylist()
                examples[failure.rule_id] = examples[failure.rule_id][:EXAMPLES_PER_RULE]
        if gx_rows < settings.gx_max_rows:
            take = min(settings.gx_max_rows - gx_rows, batch.num_rows)
            frame = conformed.values.slice(0, take).to_pandas()
            frame[POSITION_COLUMN] = conformed.positions.slice(0, take).to_pylist()
            for rule_id in computed:
                frame[rule_id + COMPUTED_SUFFIX] = True
            for failure in failures:
                if failure.rule_id in computed:
                    frame[failure.rule_id + COMPUTED_SUFFIX] = (
                        ~pd.Series(failure.mask.slice(0, take).to_pylist()).fillna(False)
                    ).to_numpy()
            gx_frames.append(frame)
            gx_rows += take
        if progress:
            progress("validate", batch.num_rows)
    for rejects in iter_rejects(landing, manifest):
        quarantine.write(
            quarantine_rejects(
                rejects, run_id=summary.run_id, source_id=source.id, department=source.department.id
            )
        )
        summary.rule_counts["source.unparseable"] = (
            summary.rule_counts.get("source.unparseable", 0) + rejects.num_rows
        )
        examples.setdefault("source.unparseable", []).extend(
            rejects.column(POSITION_COLUMN).to_pylist()[:EXAMPLES_PER_RULE]
        )
    staged.close()
    quarantine.close()
    summary.quarantined = quarantine.rows
    return staged, stats, gx_frames, examples


def _report(hub, source, contract, summary, examples, gx_result, gx_rows) -> Path:
    folder = hub.settings.warehouse_path / "reports" / contract.name / summary.run_id
    return write_report(
        folder,
        run={
            "run_id": summary.run_id,
            "dataset": contract.name,
            "contract": contract.ref,
            "source": source.id,
            "department": source.department.name,
            "stream": summary.stream,
            "extracted": summary.extracted,
            "published": summary.extracted - summary.quarantined,
            "quarantined": summary.quarantined,
            "status": summary.status,
        },
        rule_ids=row_rule_ids(contract),
        rule_counts=summary.rule_counts,
        examples=examples,
        gx_result=gx_result,
        gx_rows=gx_rows,
        gates=summary.gates,
        quarantine_path=str(
            quarantine_folder(hub.settings.warehouse_path, contract.name, summary.run_id)
        ),
    )
