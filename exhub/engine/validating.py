"""The conform + validate loop over a run's landing: stream batches, split good from bad."""

from __future__ import annotations

import logging
import secrets
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from connectors import POSITION_COLUMN
from exhub.conform.conformer import Conformer, RuleFailure
from exhub.engine.report import write_report
from exhub.engine.run import RunPlan
from exhub.errors import ConfigError
from exhub.memory import return_freed_memory
from exhub.publish import data_folder, dataset_arrow_schema
from exhub.publish.tables import unrecorded_columns
from exhub.semantic import normalize_text
from exhub.validate.expectations import computed_rule_ids, suite_columns, suite_table
from exhub.validate.gate import PublishStats, count_true
from exhub.validate.quarantine import (
    QUARANTINE_SCHEMA,
    PartWriter,
    failed_mask,
    quarantine_folder,
    quarantine_rejects,
    quarantine_rows,
)
from exhub.validate.row_rules import apply_row_rules, row_rule_ids
from exhub.validate.suite_runs import SuiteRun, ThreadSuiteRun

EXAMPLES_PER_RULE = 5
# True whatever became of the publish: a run whose commit failed, or that was killed, keeps it.
GX_PENDING_NOTE = (
    "Great Expectations was still checking its sample when this run went on to publish; "
    "the run ended before its result was added to this report."
)
# Freed temporaries of the conform kernels are handed back to the system this often. Each
# trim makes the next batches fault their pages in again (and the kernel zero them): every 8
# batches that was ~170k page faults and 0.4 CPU-s per 5M rows, for no lower peak RSS (the
# peak is the imported stack plus a few batches, 500-540 MB at 1M and 5M rows either way).
# Rarely still, so a long run's freed memory goes back now and then.
TRIM_EVERY_BATCHES = 64
log = logging.getLogger("exhub.validate")


@dataclass
class LoopResult:
    """What the loop wrote and counted."""

    staged: PartWriter
    stats: PublishStats
    tombstones: PartWriter
    suite: SuiteRun
    examples: dict[str, list[str]] = field(default_factory=dict)
    quarantined: int = 0

    @property
    def gx_rows(self) -> int:
        """Rows handed to Great Expectations."""
        return self.suite.rows

    def suite_result(self) -> dict | None:
        """Great Expectations' result (waits for it), or None when no row was sampled."""
        return self.suite.result()


def _key_schema(contract) -> pa.Schema:
    schema = dataset_arrow_schema(contract)
    return pa.schema([schema.field(k) for k in contract.primary_key])


def _provenance(good: pa.Table, plan: RunPlan, extracted_at: pa.Scalar) -> pa.Table:
    count = good.num_rows
    for name, value in (
        ("_source", plan.source.id),
        ("_department", plan.source.department.id),
        ("_run_id", plan.run_id),
    ):
        good = good.append_column(name, pa.repeat(pa.scalar(value, pa.string()), count))
    return good.append_column("_extracted_at", pa.repeat(extracted_at, count))


def _gx_sample(
    result: LoopResult, conformed, failures, take: int, computed: set[str], columns: list[str]
) -> None:
    failed = {f.rule_id: f.mask.slice(0, take) for f in failures if f.rule_id in computed}
    result.suite.add(suite_table(conformed.values.slice(0, take), computed, failed, columns))


@dataclass
class _Processed:
    """One batch conformed and split, ready to be written."""

    conformed: object
    failures: list[RuleFailure]
    counts: list[int]
    good: pa.Table
    quarantine: pa.Table | None
    tomb_keys: pa.Table | None


def _bounded_map(fn, items, *, workers: int, ahead: int):
    """``map`` on a thread pool that keeps at most ``ahead`` items in flight (bounded memory)."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="conform") as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _process(
    plan: RunPlan, conformer: Conformer, batch: pa.RecordBatch, extracted_at, discard_rows_with
) -> _Processed:
    contract = plan.contract
    conformed = conformer.conform(batch)
    failures = apply_row_rules(contract, conformed)
    if discard_rows_with:
        failures.append(_drifted_rows(batch, discard_rows_with))
    tomb = _tombstones(plan, batch, failures)
    tomb_keys = None
    if tomb is not None:
        # Deleted in the source: the key leaves the dataset; other checks do not apply.
        tomb_keys = conformed.values.select(list(contract.primary_key)).filter(tomb)
        failures = [
            RuleFailure(f.rule_id, f.reason, pc.and_(f.mask, pc.invert(tomb))) for f in failures
        ]
        failures = [f for f in failures if pc.any(f.mask).as_py()]
    bad = failed_mask(failures, batch.num_rows)
    keep = pc.invert(bad) if tomb is None else pc.and_(pc.invert(bad), pc.invert(tomb))
    good = _provenance(conformed.values.filter(keep), plan, extracted_at)
    quarantined = None
    if pc.any(bad).as_py():
        quarantined = quarantine_rows(
            conformed,
            failures,
            bad,
            run_id=plan.run_id,
            source_id=plan.source.id,
            department=plan.source.department.id,
        )
    counts = [count_true(f.mask) for f in failures]
    return _Processed(conformed, failures, counts, good, quarantined, tomb_keys)


def conform_and_validate(
    plan: RunPlan,
    batches: Iterable[pa.RecordBatch],
    started_at: str,
    rejects: Callable[[], Iterable[pa.Table]],
    table,
    *,
    discard_rows_with: list[str] = (),
    workers: int = 2,
    on_staged: Callable[[pa.Table], None] | None = None,
) -> LoopResult:
    """Conform every landed batch, quarantine failing rows and stage the good ones.

    ``on_staged`` is given each batch of good rows once it is staged (the merge's lookups).
    """
    settings, contract, summary = plan.hub.settings, plan.contract, plan.summary
    conformer = Conformer(contract, plan.stream, where=plan.where, timezone=plan.source.timezone)
    extracted_at = pa.scalar(datetime.fromisoformat(started_at), pa.timestamp("us", "UTC"))
    staged = PartWriter(
        data_folder(table, plan.source.id),
        f"{plan.run_id}-{secrets.token_hex(3)}",
        dataset_arrow_schema(contract),
        # The contract's word too: a table whose properties another publisher was still
        # committing must not get these columns' values in its new files.
        unrecorded=unrecorded_columns(table) | set(contract.protected_columns),
    )
    quarantine = PartWriter(
        quarantine_folder(settings.warehouse_path, contract.name, plan.run_id),
        "part",
        QUARANTINE_SCHEMA,
    )
    for stale in quarantine.folder.glob("*.parquet"):
        stale.unlink()  # an earlier attempt of this run: its quarantine is rewritten whole
    result = LoopResult(
        staged=staged,
        stats=PublishStats.for_contract(contract),
        tombstones=PartWriter(plan.landing, "_tombstones", _key_schema(contract)),
        # Started before the run's threads where it can be (see ``suite_runs``).
        suite=plan.suite_run or ThreadSuiteRun(contract),
    )
    for stale in plan.landing.glob("_tombstones-*.parquet"):
        stale.unlink()
    computed = set(computed_rule_ids(contract))
    gx_columns = suite_columns(contract)

    def process(item: tuple[int, pa.RecordBatch]) -> _Processed:
        index, batch = item
        if index == 0:
            conformer.check_columns(batch.schema)
        return _process(plan, conformer, batch, extracted_at, discard_rows_with)

    # Batches are conformed on worker threads (Arrow kernels release the GIL); results are
    # written in landing order by this one, so files and counts stay deterministic.
    done_batches = _bounded_map(process, enumerate(batches), workers=workers, ahead=workers)
    for batches_done, done in enumerate(done_batches, start=1):
        conformed, failures = done.conformed, done.failures
        if done.tomb_keys is not None:
            result.tombstones.write(done.tomb_keys)
        staged.write(done.good)
        if on_staged is not None:
            on_staged(done.good)
        result.stats.add(done.good)
        if done.quarantine is not None:
            quarantine.write(done.quarantine)
        for failure, count in zip(failures, done.counts, strict=True):
            rule = failure.rule_id
            summary.rule_counts[rule] = summary.rule_counts.get(rule, 0) + count
            known = result.examples.setdefault(rule, [])
            if len(known) < EXAMPLES_PER_RULE:
                hits = pc.indices_nonzero(pc.fill_null(failure.mask, False))[:EXAMPLES_PER_RULE]
                known += pc.take(conformed.positions, hits).to_pylist()
                del known[EXAMPLES_PER_RULE:]
        rows = len(conformed.positions)
        if result.gx_rows < settings.gx_max_rows:
            take = min(settings.gx_max_rows - result.gx_rows, rows)
            _gx_sample(result, conformed, failures, take, computed, gx_columns)
            if result.gx_rows >= settings.gx_max_rows:
                result.suite.start()
        plan.tick("validate", rows)
        if batches_done % TRIM_EVERY_BATCHES == 0:
            return_freed_memory()
    for rejected in rejects():
        quarantine.write(
            quarantine_rejects(
                rejected,
                run_id=plan.run_id,
                source_id=plan.source.id,
                department=plan.source.department.id,
            )
        )
        rule = "source.unparseable"
        summary.rule_counts[rule] = summary.rule_counts.get(rule, 0) + rejected.num_rows
        known = result.examples.setdefault(rule, [])
        known += rejected.column(POSITION_COLUMN).to_pylist()[: EXAMPLES_PER_RULE - len(known)]
        plan.tick("validate", rejected.num_rows)
    result.suite.start()
    staged.close()
    quarantine.close()
    result.tombstones.close()
    return_freed_memory()
    result.quarantined = quarantine.rows
    return result


def _drifted_rows(batch: pa.RecordBatch, columns: list[str]) -> RuleFailure:
    used = [pc.is_valid(batch.column(c)) for c in columns if c in batch.schema.names]
    mask = used[0] if used else pa.array([False] * batch.num_rows)
    for more in used[1:]:
        mask = pc.or_(mask, more)
    return RuleFailure(
        "schema.drift", f"row has values in new source columns {', '.join(columns)}", mask
    )


def _tombstones(plan: RunPlan, batch: pa.RecordBatch, failures) -> pa.Array | None:
    marker = plan.stream.delete_marker
    if marker is None:
        return None
    if marker.column not in batch.schema.names:
        raise ConfigError(
            f"{plan.where}: delete_marker column '{marker.column}' is not in the source",
            fix="correct delete_marker.column",
            key=f"streams.{plan.stream.name}.delete_marker.column",
        )
    flag = normalize_text(pc.cast(batch.column(marker.column), pa.string()))
    marked = pc.fill_null(pc.is_in(flag, value_set=pa.array(marker.values, pa.string())), False)
    keys = set(plan.contract.primary_key)
    key_failures = [f for f in failures if f.rule_id.split(".", 1)[0] in keys]
    if key_failures:
        marked = pc.and_(marked, pc.invert(failed_mask(key_failures, batch.num_rows)))
    return marked if pc.any(marked).as_py() else None


def finish_run_report(plan: RunPlan, result: LoopResult) -> Path:
    """Write the report again with Great Expectations' result, once its suite has finished.

    Used when the suite ran beside the commit. GX reports and does not gate, so a suite that
    fails here leaves the committed run standing, with the failure in its report.
    """
    try:
        gx_result = result.suite_result()
    except Exception as exc:
        # The message may quote sample values: it goes into the report, not the log.
        log.warning("run %s: Great Expectations failed (%s)", plan.run_id, type(exc).__name__)
        note = f"Great Expectations failed on its sample: {type(exc).__name__}: {exc}"
        return write_run_report(plan, result, None, gx_note=note)
    return write_run_report(plan, result, gx_result)


def write_run_report(
    plan: RunPlan, result: LoopResult, gx_result: dict | None, *, gx_note: str | None = None
) -> Path:
    """The auditor's report of this run (JSON + HTML); ``gx_note`` says why GX's is missing.

    With ``GX_PENDING_NOTE`` (Great Expectations still runs beside the commit) the report says
    so until :func:`finish_run_report` replaces it; a run killed in between keeps this one.
    """
    settings, contract, summary = plan.hub.settings, plan.contract, plan.summary
    folder = settings.warehouse_path / "reports" / contract.name / plan.run_id
    return write_report(
        folder,
        run={
            "run_id": plan.run_id,
            "dataset": contract.name,
            "contract": contract.ref,
            "source": plan.source.id,
            "department": plan.source.department.name,
            "stream": plan.stream.name,
            "extracted": summary.extracted,
            "published": summary.extracted - result.quarantined,
            "quarantined": result.quarantined,
            "status": summary.status,
        },
        rule_ids=row_rule_ids(contract),
        rule_counts=summary.rule_counts,
        examples=result.examples,
        gx_result=gx_result,
        gx_rows=result.gx_rows,
        gates=summary.gates,
        quarantine_path=str(quarantine_folder(settings.warehouse_path, contract.name, plan.run_id)),
        gx_note=gx_note,
    )
