"""Quarantine: rows that failed row rules, kept whole with every rule they failed.

Quarantine is Parquet in the warehouse (``quarantine/<dataset>/run_id=<id>/``), so it holds
every failing row (beyond Great Expectations' sample caps) and DuckDB can query it.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import reduce
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.base import POSITION_COLUMN
from exhub.conform.conformer import ConformedBatch, RuleFailure, as_text
from exhub.parquet import open_writer
from exhub.validate.raw_json import rows_as_json

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("_run_id", pa.string()),
        pa.field("_source", pa.string()),
        pa.field("_department", pa.string()),
        pa.field(POSITION_COLUMN, pa.string()),
        pa.field("failed_rules", pa.list_(pa.string())),
        pa.field("reasons", pa.string()),
        pa.field("raw", pa.string()),
    ]
)


def quarantine_folder(warehouse: Path, dataset: str, run_id: str) -> Path:
    """Quarantine folder of one run."""
    return warehouse / "quarantine" / dataset / f"run_id={run_id}"


def failed_mask(failures: list[RuleFailure], length: int) -> pa.Array:
    """True for rows that failed at least one rule."""
    if not failures:
        return pa.array([False] * length, pa.bool_())
    return reduce(pc.or_, [pc.fill_null(f.mask, False) for f in failures])


def quarantine_rows(
    batch: ConformedBatch,
    failures: list[RuleFailure],
    bad: pa.Array,
    *,
    run_id: str,
    source_id: str,
    department: str,
) -> pa.Table:
    """Quarantine records for the failing rows of a batch."""
    indices = pc.indices_nonzero(bad)
    count = len(indices)
    # Only failing rows are walked in Python; they are the few, not the many.
    rule_lists: list[list[str]] = [[] for _ in range(count)]
    reason_lists: list[list[str]] = [[] for _ in range(count)]
    for failure in failures:
        hits = pc.fill_null(pc.take(failure.mask, indices), False).to_pylist()
        for row, hit in enumerate(hits):
            if hit:
                rule_lists[row].append(failure.rule_id)
                reason_lists[row].append(failure.reason)
    taken = batch.raw.take(indices)
    raw_rows = pa.table({name: as_text(taken.column(name)) for name in taken.column_names})
    return pa.table(
        {
            "_run_id": pa.array([run_id] * count, pa.string()),
            "_source": pa.array([source_id] * count, pa.string()),
            "_department": pa.array([department] * count, pa.string()),
            POSITION_COLUMN: pc.take(batch.positions, indices),
            "failed_rules": pa.array(rule_lists, pa.list_(pa.string())),
            "reasons": pa.array(["; ".join(r) for r in reason_lists], pa.string()),
            "raw": rows_as_json(raw_rows),
        },
        schema=QUARANTINE_SCHEMA,
    )


def quarantine_rejects(
    rejects: pa.Table, *, run_id: str, source_id: str, department: str
) -> pa.Table:
    """Quarantine records for rows the connector could not parse."""
    count = rejects.num_rows
    return pa.table(
        {
            "_run_id": pa.array([run_id] * count, pa.string()),
            "_source": pa.array([source_id] * count, pa.string()),
            "_department": pa.array([department] * count, pa.string()),
            POSITION_COLUMN: rejects.column(POSITION_COLUMN),
            "failed_rules": pa.array([["source.unparseable"]] * count, pa.list_(pa.string())),
            "reasons": rejects.column("reason"),
            "raw": rejects.column("raw"),
        },
        schema=QUARANTINE_SCHEMA,
    )


class PartWriter:
    """Writes tables of one schema as numbered Parquet parts in a folder, lazily."""

    def __init__(
        self,
        folder: Path,
        prefix: str,
        schema: pa.Schema,
        max_rows: int = 1_000_000,
        *,
        unrecorded: Collection[str] = (),
    ):
        self.folder = folder
        self.prefix = prefix
        self.schema = schema
        self.max_rows = max_rows
        self.unrecorded = unrecorded  # columns written without statistics
        self.files: list[str] = []
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._rows_in_file = 0

    def write(self, table: pa.Table) -> None:
        """Append a table (cast to the writer's schema)."""
        if table.num_rows == 0:
            return
        table = table.cast(self.schema)
        if self._writer is None or self._rows_in_file >= self.max_rows:
            self._roll(table)
        assert self._writer is not None
        self._writer.write_table(table)
        self._rows_in_file += table.num_rows
        self.rows += table.num_rows

    def _roll(self, first: pa.Table) -> None:
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.prefix}-{len(self.files):05d}.parquet"
        self._writer = open_writer(path, self.schema, first, unrecorded=self.unrecorded)
        self.files.append(str(path))
        self._rows_in_file = 0

    def close(self) -> None:
        """Finish the current file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def discard(self) -> None:
        """Close and delete everything written (a gated run publishes nothing)."""
        self.close()
        for file in self.files:
            Path(file).unlink(missing_ok=True)
        self.files.clear()
        self.rows = 0
