"""The three stages of a run. Each can run in its own process (one Airflow task each).

State passes between them through files in the run's landing folder, never through XCom:
``_manifest.json`` (what was extracted) and ``_validated.json`` (what is staged to publish).
Each file is written last and atomically, so its presence means the stage completed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from itertools import chain
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from exhub.contracts import DriftPolicy
from exhub.engine.run import RunPlan, Timer
from exhub.engine.validating import (
    GX_PENDING_NOTE,
    conform_and_validate,
    finish_run_report,
    write_run_report,
)
from exhub.errors import GateFailedError, TerminalError
from exhub.extract import LandingManifest, iter_landed, iter_rejects
from exhub.failpoints import failpoint
from exhub.files import replace_text
from exhub.publish import commit_run, committed_snapshot, ensure_table
from exhub.publish.merge_scan import RunningMerge, start_merge_preparation
from exhub.validate.drift import describe_schema, detect_drift
from exhub.validate.gate import GateResult, evaluate_gate

log = logging.getLogger("exhub.stages")
VALIDATED = "_validated.json"


@dataclass
class Validated:
    """What validation staged for publishing."""

    files: list[str]
    published_rows: int
    quarantined_rows: int
    rule_counts: dict[str, int]
    gates: list[dict]
    report: str
    tombstone_files: list[str]
    tombstoned_rows: int
    source_schema: list[dict]

    def save(self, folder: Path) -> None:
        """Write atomically into the landing folder."""
        replace_text(folder / VALIDATED, json.dumps(asdict(self), ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path) -> Validated | None:
        """The validation result, if validation completed and its files still exist."""
        path = folder / VALIDATED
        if not path.exists():
            return None
        validated = cls(**json.loads(path.read_text()))
        return validated if all(Path(f).exists() for f in validated.files) else None


def committed(plan: RunPlan, table) -> int | None:
    """Snapshot this run committed: from the table's history, else from the run ledger.

    The catalog's run record outlives snapshot expiry, so a very late retry of a run whose
    snapshot was expired still does not publish twice.
    """
    snapshot_id = committed_snapshot(table, plan.run_id)
    if snapshot_id is None:
        record = plan.hub.repository.get_run(plan.run_id)
        if record is not None and record.status == "succeeded" and record.snapshot_id:
            snapshot_id = record.snapshot_id
    return snapshot_id


def _tombstone_keys(tombstone_files: list[str], key) -> pa.Table | None:
    if not tombstone_files:
        return None
    return pa.concat_tables([pq.read_table(f, columns=list(key)) for f in tombstone_files])


def _landed_schema(plan: RunPlan, manifest: LandingManifest) -> list[dict]:
    if not manifest.parts:
        record = plan.hub.repository.get_stream(plan.source.id, plan.stream.name)
        return (record.source_schema if record else None) or []
    return describe_schema(pq.read_schema(plan.landing / manifest.parts[0].file))


def _drift(plan: RunPlan, current: list[dict]) -> tuple[GateResult | None, list[str]]:
    """The drift gate result and the new columns whose rows must be quarantined."""
    record = plan.hub.repository.get_stream(plan.source.id, plan.stream.name)
    drift = detect_drift(record.source_schema if record else None, current)
    if not drift.any:
        return None, []
    policy = plan.contract.drift
    if plan.accept_drift:
        return GateResult("schema_drift", True, f"accepted by the operator: {drift.describe()}"), []
    if policy is DriftPolicy.FREEZE:
        detail = f"{drift.describe()} (policy freeze; accept with `exhub sync --accept-drift`)"
        return GateResult("schema_drift", False, detail), []
    if policy is DriftPolicy.DISCARD_ROW:
        return GateResult(
            "schema_drift", True, f"{drift.describe()}: rows using new columns quarantined"
        ), drift.added
    verb = "accepted" if policy is DriftPolicy.EVOLVE else "values of new columns dropped"
    return GateResult("schema_drift", True, f"{drift.describe()}: {verb}"), []


def validate_stage(plan: RunPlan, follow: Iterator[pa.Table] | None = None) -> Validated | None:
    """Conform, validate, quarantine and gate; stage the good rows as data files.

    Args:
        plan: the run.
        follow: landed parts as the extraction writes them (the single-process path);
            None reads the completed landing (a separate task, a retry, a replay).

    Returns None when this run already committed (a retry after the commit).

    Raises:
        GateFailedError: a dataset rule failed; the staged files are deleted.
    """
    repo, summary = plan.hub.repository, plan.summary
    table = ensure_table(plan.hub.iceberg, plan.contract)
    merges = plan.publish_follows and not plan.full_refresh
    if merges and plan.merge_basis is None:
        # Beside the extraction: the live files and their key indexes need nothing from it.
        identifier = plan.contract.iceberg_identifier
        plan.merge_basis = start_merge_preparation(
            lambda: plan.hub.iceberg.load_table(identifier),
            source_id=plan.source.id,
            key=plan.contract.primary_key,
        )
    first = next(follow, None) if follow is not None else None
    manifest = None
    if first is None:
        # Nothing to follow: the landing is complete (a retry, a replay, a separate task).
        manifest = LandingManifest.load(plan.landing)
        summary.extracted = manifest.extracted_rows
    if committed(plan, table) is not None:
        return None
    done = Validated.load(plan.landing) if manifest is not None else None
    if done is not None:
        summary.rule_counts, summary.gates = done.rule_counts, done.gates
        summary.quarantined = done.quarantined_rows
        return done
    with Timer(summary, "validate"):
        if manifest is not None:
            current_schema = _landed_schema(plan, manifest)
            batches = iter_landed(plan.landing, manifest)
            started_at = manifest.started_at
        else:
            current_schema = describe_schema(first.schema)
            batches = (b for part in chain([first], follow) for b in part.to_batches())
            started_at = plan.extract_started_at
        drift_gate, drop_rows_with = _drift(plan, current_schema)
        key = plan.contract.primary_key
        # The merge's lookups follow the staged batches, so they are done when the loop is.
        merge = RunningMerge(plan.merge_basis, table.location(), key) if merges else None
        result = conform_and_validate(
            plan,
            batches,
            started_at,
            lambda: iter_rejects(plan.landing, LandingManifest.load(plan.landing)),
            table,
            discard_rows_with=drop_rows_with,
            # Following an extraction, one worker: the extract thread uses the other core.
            workers=1 if manifest is None else 2,
            on_staged=merge.add if merge is not None else None,
        )
        if manifest is None:
            # The followed extraction has finished: its manifest is complete now.
            summary.extracted = LandingManifest.load(plan.landing).extracted_rows
        if merge is not None:
            # Finished before the dataset rules are checked, beside them: the scan only
            # reads, and a run the gate stops never uses it.
            plan.merge_scan = merge.finish(
                result.staged.files,
                plan.source.id,
                _tombstone_keys(result.tombstones.files, key),
            )
        previous = repo.last_successful_run(plan.source.id, plan.stream.name)
        gates = evaluate_gate(
            plan.contract,
            result.staged.files,
            result.stats,
            last_good_rows=previous.published_rows if previous and previous.full_refresh else None,
            full_refresh=plan.full_refresh,
            drift=drift_gate,
        )
        summary.gates = [g.as_dict() for g in gates]
        summary.quarantined = result.quarantined
        failed = [g for g in gates if not g.passed]
        # Great Expectations only reports (exhub's own rules gate), so when this process
        # publishes next, its suite goes on beside the commit and the report is completed
        # after it: a 1% change is all one GX sample, whose suite would otherwise start only
        # now and hold up the commit (0.4-0.8 s of a 1.9 s incremental run).
        defer_suite = plan.publish_follows and not failed and result.suite.started
        gx_result = None if defer_suite else result.suite_result()
    summary.status = "gated" if failed else "validated"
    report = write_run_report(
        plan, result, gx_result, gx_note=GX_PENDING_NOTE if defer_suite else None
    )
    if defer_suite:
        plan.finish_report = lambda: finish_run_report(plan, result)
    summary.report = str(report)
    repo.update_run(
        plan.run_id,
        conformed_rows=summary.extracted,
        quarantined_rows=result.quarantined,
        rule_counts=summary.rule_counts,
        gate_results=summary.gates,
        validation_report_path=str(report),
        timings=summary.timings,
    )
    if failed:
        result.staged.discard()
        first = failed[0]
        raise GateFailedError(
            f"dataset rule '{first.rule}' failed for {plan.contract.name} from "
            f"{plan.source.id}: {first.detail}; nothing was published (report: {report})",
            fix="fix the source data or the contract rule, then sync again",
            rule=first.rule,
        )
    validated = Validated(
        files=result.staged.files,
        published_rows=result.stats.rows,
        quarantined_rows=result.quarantined,
        rule_counts=summary.rule_counts,
        gates=summary.gates,
        report=str(report),
        tombstone_files=result.tombstones.files,
        tombstoned_rows=result.tombstones.rows,
        source_schema=current_schema,
    )
    validated.save(plan.landing)
    failpoint("after_validation")
    return validated


def publish_stage(plan: RunPlan) -> None:
    """Commit the staged files as one snapshot, then move the watermark and close the run."""
    summary, repo = plan.summary, plan.hub.repository
    manifest = LandingManifest.load(plan.landing)
    summary.extracted = manifest.extracted_rows
    table = ensure_table(plan.hub.iceberg, plan.contract)
    already = committed(plan, table)
    validated = Validated.load(plan.landing)
    if already is None and validated is None:
        raise TerminalError(
            f"run {plan.run_id} has nothing validated to publish",
            fix="run the validate stage (or `exhub sync`) again",
        )
    with Timer(summary, "publish"):
        if already is not None:
            log.info("run %s already committed as snapshot %s", plan.run_id, already)
            snapshot_id, deleted = already, 0
            record = repo.get_run(plan.run_id)
            published = validated.published_rows if validated else record.published_rows
        else:
            failpoint("before_commit")
            result = commit_run(
                table,
                validated.files,
                delete_keys=_tombstone_keys(validated.tombstone_files, plan.contract.primary_key),
                scan_ahead=plan.merge_scan,
                run_id=plan.run_id,
                source_id=plan.source.id,
                full_refresh=plan.full_refresh,
                primary_key=plan.contract.primary_key,
            )
            failpoint("after_commit")
            snapshot_id, deleted, published = (
                result.snapshot_id,
                result.rows_deleted,
                validated.published_rows,
            )
    summary.published, summary.deleted, summary.snapshot_id = published, deleted, snapshot_id
    tombstoned = validated.tombstoned_rows if validated else 0
    summary.tombstoned = tombstoned
    summary.quarantined = summary.extracted - published - tombstoned
    if validated is not None and validated.quarantined_rows != summary.quarantined:
        raise TerminalError(
            f"run {plan.run_id} lost rows: extracted {summary.extracted} != published "
            f"{published} + quarantined {validated.quarantined_rows} + deleted in the source "
            f"{tombstoned}",
            fix="this is a bug in exhub; the landing zone still holds every row",
        )
    plan.tick("publish", published)
    # A file stream's watermark is its ledger of ingested files; a table's is its cursor.
    watermark_after = manifest.ledger if manifest.ledger is not None else manifest.cursor_max
    if watermark_after is not None and plan.advance_watermark:
        # Only after the commit: a crash before it re-reads the same rows next time.
        repo.set_watermark(plan.source.id, plan.stream.name, watermark_after, plan.run_id)
    if validated is not None:
        # The drift baseline moves only with a publish.
        repo.set_stream_source_schema(plan.source.id, plan.stream.name, validated.source_schema)
    if plan.finish_report is not None:
        plan.finish_report()  # Great Expectations ran beside the commit
        plan.finish_report = None
    summary.status = "succeeded"
    repo.finish_run(
        plan.run_id,
        "succeeded",
        published_rows=published,
        quarantined_rows=summary.quarantined,
        deleted_rows=deleted,
        snapshot_id=snapshot_id,
        watermark_after=watermark_after,
        timings=summary.timings,
    )
