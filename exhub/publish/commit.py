"""One atomic, idempotent Iceberg commit per run.

The run id is written into the snapshot summary. Before committing, the table's history is
searched for it: a retried run that already committed does nothing. A run that crashed
before its commit left only unreferenced files, which no reader sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow.parquet as pq
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.expressions import And, EqualTo, In
from pyiceberg.io.pyarrow import parquet_files_to_data_files
from pyiceberg.table import Table, TableProperties
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from exhub.errors import CommitConflictError, TerminalError
from exhub.publish.tables import RUN_ID_PROPERTY

MAX_KEYS_PER_DELETE = 50_000


@dataclass(frozen=True)
class CommitResult:
    """What a publish did."""

    snapshot_id: int | None
    rows_added: int
    rows_deleted: int
    already_committed: bool = False


def committed_snapshot(table: Table, run_id: str) -> int | None:
    """Snapshot id the run already committed, if any."""
    for snapshot in table.snapshots():
        if snapshot.summary is not None and snapshot.summary[RUN_ID_PROPERTY] == run_id:
            return snapshot.snapshot_id
    return None


def _staged_keys(files: Sequence[str], key: str) -> list:
    values: set = set()
    for file in files:
        values.update(pq.read_table(file, columns=[key]).column(key).to_pylist())
    values.discard(None)
    return sorted(values)


def _row_count(table: Table, source_id: str) -> int:
    scan = table.scan(row_filter=EqualTo("_source", source_id), selected_fields=("_source",))
    return sum(task.file.record_count for task in scan.plan_files())


def _replace_source(
    table: Table, files: Sequence[str], *, source_id: str, properties: dict[str, str]
) -> None:
    # One snapshot swaps the source's partition: readers (and time travel) see the old
    # rows or the new ones, never a moment with neither.
    with table.transaction() as tx:
        _ensure_name_mapping(tx)
        with tx.update_snapshot(snapshot_properties=properties).overwrite() as overwrite:
            for task in table.scan(row_filter=EqualTo("_source", source_id)).plan_files():
                overwrite.delete_data_file(task.file)
            for data_file in parquet_files_to_data_files(table.io, tx.table_metadata, iter(files)):
                overwrite.append_data_file(data_file)


def _merge(
    table: Table,
    files: Sequence[str],
    *,
    before: int,
    run_id: str,
    source_id: str,
    primary_key: Sequence[str],
    properties: dict[str, str],
) -> None:
    with table.transaction() as tx:
        if before and files:
            if len(primary_key) != 1:
                raise TerminalError(
                    "incremental merge on a composite primary key is not supported yet",
                    fix="sync this stream with --full-refresh",
                    run_id=run_id,
                )
            keys = _staged_keys(files, primary_key[0])
            for start in range(0, len(keys), MAX_KEYS_PER_DELETE):
                chunk = keys[start : start + MAX_KEYS_PER_DELETE]
                tx.delete(
                    And(EqualTo("_source", source_id), In(primary_key[0], chunk)),
                    snapshot_properties=properties,
                )
        if files:
            tx.add_files(list(files), snapshot_properties=properties, check_duplicate_files=False)


def _ensure_name_mapping(tx) -> None:
    # Files written by exhub carry no Iceberg field ids; columns resolve by name.
    if tx.table_metadata.name_mapping() is None:
        mapping = tx.table_metadata.schema().name_mapping.model_dump_json()
        tx.set_properties(**{TableProperties.DEFAULT_NAME_MAPPING: mapping})


@retry(
    retry=retry_if_exception_type(CommitFailedException),
    wait=wait_random_exponential(multiplier=0.2, max=5),
    stop=stop_after_attempt(8),
    reraise=True,
)
def _commit_once(
    table: Table,
    files: Sequence[str],
    *,
    run_id: str,
    source_id: str,
    full_refresh: bool,
    primary_key: Sequence[str],
) -> CommitResult:
    table.refresh()
    existing = committed_snapshot(table, run_id)
    if existing is not None:
        return CommitResult(existing, 0, 0, already_committed=True)
    properties = {RUN_ID_PROPERTY: run_id, "exhub.source": source_id}
    before = _row_count(table, source_id) if table.current_snapshot() else 0
    added = sum(pq.read_metadata(f).num_rows for f in files)
    if full_refresh:
        _replace_source(table, files, source_id=source_id, properties=properties)
    else:
        _merge(
            table,
            files,
            before=before,
            run_id=run_id,
            source_id=source_id,
            primary_key=primary_key,
            properties=properties,
        )
    table.refresh()
    after = _row_count(table, source_id)
    snapshot = table.current_snapshot()
    return CommitResult(
        snapshot.snapshot_id if snapshot else None,
        rows_added=added,
        rows_deleted=max(before + added - after, 0),
    )


def commit_run(
    table: Table,
    files: Sequence[str],
    *,
    run_id: str,
    source_id: str,
    full_refresh: bool,
    primary_key: Sequence[str],
) -> CommitResult:
    """Publish staged data files as one commit (retried on concurrent commits).

    Full refresh replaces every row of ``source_id``; otherwise rows are merged on
    (primary key, source).

    Raises:
        CommitConflictError: other publishers kept winning after every retry.
    """
    try:
        return _commit_once(
            table,
            files,
            run_id=run_id,
            source_id=source_id,
            full_refresh=full_refresh,
            primary_key=primary_key,
        )
    except CommitFailedException as exc:
        raise CommitConflictError(
            f"commit to {'.'.join(table.name())} kept conflicting with other publishers",
            fix="re-run the sync; it is idempotent",
            run_id=run_id,
        ) from exc
