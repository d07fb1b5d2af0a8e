"""One atomic, idempotent Iceberg commit per run: exactly one snapshot.

The run id is written into the snapshot summary. Before committing, the table's history is
searched for it: a retried run that already committed does nothing. A run that crashed
before its commit left only unreferenced files, which no reader sees.

Both write modes produce a single overwrite snapshot, so readers and time travel see the
state before the run or after it, never between:

* full refresh: the source's partition (``_source``) is swapped for the staged files, and
  the keys that disappeared from the source are counted as deleted;
* merge: data files of the source holding a key the run brings (or deletes) are rewritten
  without those rows (copy-on-write), then the staged files are added.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyiceberg.exceptions import CommitFailedException, ValidationException
from pyiceberg.expressions import EqualTo
from pyiceberg.io.pyarrow import parquet_files_to_data_files
from pyiceberg.table import Table, TableProperties
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from exhub.errors import CommitConflictError
from exhub.parquet import open_writer
from exhub.publish.tables import RUN_ID_PROPERTY, data_folder
from exhub.validate.gate import bounded_duckdb, count_true

KEY_SEPARATOR = "\x1f"
REWRITE_BATCH_ROWS = 100_000
CONFLICTS = (CommitFailedException, ValidationException)


@dataclass(frozen=True)
class CommitResult:
    """What a publish did."""

    snapshot_id: int | None
    rows_added: int
    rows_deleted: int
    rows_replaced: int = 0
    already_committed: bool = False


def committed_snapshot(table: Table, run_id: str) -> int | None:
    """Snapshot id the run already committed, if any."""
    for snapshot in table.snapshots():
        if snapshot.summary is not None and snapshot.summary[RUN_ID_PROPERTY] == run_id:
            return snapshot.snapshot_id
    return None


def key_strings(table: pa.Table, key: Sequence[str]) -> pa.Array:
    """One text value per row for a (possibly composite) key."""
    parts = [pc.cast(table.column(k), pa.string()).combine_chunks() for k in key]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, KEY_SEPARATOR)


def _local(path: str) -> str:
    return path.removeprefix("file://")


def _keys_of(files: Sequence[str], key: Sequence[str]) -> pa.Array:
    arrays = [key_strings(pq.read_table(f, columns=list(key)), key) for f in files]
    if not arrays:
        return pa.array([], pa.string())
    return pc.unique(pa.chunked_array(arrays, pa.string()).combine_chunks())


def _rewrite_without(
    table: Table,
    path: str,
    key: Sequence[str],
    doomed: pa.Array,
    incoming: pa.Array,
    out_folder: Path,
) -> tuple[int, int, str | None]:
    """Copy one data file without the rows whose key is doomed, a batch at a time.

    Returns the rows dropped, how many of them the run replaces, and the new file (None when
    nothing is left, or when nothing was dropped and the file stays as it is).
    """
    with table.io.new_input(path).open() as handle:
        source = pq.ParquetFile(handle)
        hits = replaced = 0
        for batch in source.iter_batches(batch_size=REWRITE_BATCH_ROWS, columns=list(key)):
            existing = key_strings(pa.Table.from_batches([batch]), key)
            hit = pc.is_in(existing, value_set=doomed)
            hits += count_true(hit)
            replaced += count_true(pc.and_(hit, pc.is_in(existing, value_set=incoming)))
        if not hits or hits == source.metadata.num_rows:
            return hits, replaced, None
        out_folder.mkdir(parents=True, exist_ok=True)
        target = out_folder / f"rewrite-{secrets.token_hex(8)}.parquet"
        writer = None
        try:
            for batch in source.iter_batches(batch_size=REWRITE_BATCH_ROWS):
                rows = pa.Table.from_batches([batch])
                kept = rows.filter(pc.invert(pc.is_in(key_strings(rows, key), value_set=doomed)))
                if not kept.num_rows:
                    continue
                if writer is None:
                    writer = open_writer(target, kept.schema, kept)
                writer.write_table(kept)
        finally:
            if writer is not None:
                writer.close()
    return hits, replaced, str(target)


def _ensure_name_mapping(tx) -> None:
    # Files written by exhub carry no Iceberg field ids; columns resolve by name.
    if tx.table_metadata.name_mapping() is None:
        mapping = tx.table_metadata.schema().name_mapping.model_dump_json()
        tx.set_properties(**{TableProperties.DEFAULT_NAME_MAPPING: mapping})


def _gone_from_source(old: Sequence[str], new: Sequence[str], key: Sequence[str]) -> int:
    """Rows of the old partition whose key the new full read no longer has (spills to disk)."""
    if not old:
        return 0
    columns = ", ".join(f'"{k}"' for k in key)
    con = bounded_duckdb()
    try:
        if not new:
            return con.execute("SELECT count(*) FROM read_parquet(?)", [list(old)]).fetchone()[0]
        return con.execute(
            f"SELECT count(*) FROM (SELECT {columns} FROM read_parquet(?)) o "
            f"ANTI JOIN (SELECT {columns} FROM read_parquet(?)) n USING ({columns})",
            [list(old), list(new)],
        ).fetchone()[0]
    finally:
        con.close()


def _replace_source(
    table: Table, files: Sequence[str], *, source_id: str, key: Sequence[str], properties: dict
) -> tuple[int, int]:
    tasks = list(table.scan(row_filter=EqualTo("_source", source_id)).plan_files())
    before = sum(task.file.record_count for task in tasks)
    gone = _gone_from_source([_local(t.file.file_path) for t in tasks], files, key)
    with table.transaction() as tx:
        _ensure_name_mapping(tx)
        with tx.update_snapshot(snapshot_properties=properties).overwrite() as overwrite:
            for task in tasks:
                overwrite.delete_data_file(task.file)
            for data_file in parquet_files_to_data_files(table.io, tx.table_metadata, iter(files)):
                overwrite.append_data_file(data_file)
    return gone, before - gone


def _merge(
    table: Table,
    files: Sequence[str],
    *,
    source_id: str,
    key: Sequence[str],
    delete_keys: pa.Array | None,
    properties: dict,
) -> tuple[int, int]:
    tasks = list(table.scan(row_filter=EqualTo("_source", source_id)).plan_files())
    # The source's first publish has nothing to merge into: skip reading the new keys.
    incoming = _keys_of(files, key) if tasks else pa.array([], pa.string())
    doomed = pc.unique(pa.concat_arrays([incoming, delete_keys])) if delete_keys else incoming
    deleted = replaced = 0
    rewritten: list[str] = []
    out_folder = data_folder(table, source_id)
    if not len(doomed):
        tasks = []
    dropped = []
    for task in tasks:
        hits, replaced_here, path = _rewrite_without(
            table, task.file.file_path, key, doomed, incoming, out_folder
        )
        if not hits:
            continue
        dropped.append(task.file)
        replaced += replaced_here
        deleted += hits - replaced_here
        if path is not None:
            rewritten.append(path)
    with table.transaction() as tx:
        _ensure_name_mapping(tx)
        with tx.update_snapshot(snapshot_properties=properties).overwrite() as overwrite:
            for data_file in dropped:
                overwrite.delete_data_file(data_file)
            added = [*rewritten, *files]
            for data_file in parquet_files_to_data_files(table.io, tx.table_metadata, iter(added)):
                overwrite.append_data_file(data_file)
    return deleted, replaced


@retry(
    # A concurrent commit either fails ours outright or makes pyiceberg's re-validation find
    # files added meanwhile; both mean "recompute on the new table state and try again".
    retry=retry_if_exception_type(CONFLICTS),
    wait=wait_random_exponential(multiplier=0.2, max=5),
    stop=stop_after_attempt(10),
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
    delete_keys: pa.Array | None,
) -> CommitResult:
    table.refresh()
    existing = committed_snapshot(table, run_id)
    if existing is not None:
        return CommitResult(existing, 0, 0, already_committed=True)
    properties = {RUN_ID_PROPERTY: run_id, "exhub.source": source_id}
    added = sum(pq.read_metadata(f).num_rows for f in files)
    if full_refresh:
        deleted, replaced = _replace_source(
            table, files, source_id=source_id, key=primary_key, properties=properties
        )
    else:
        deleted, replaced = _merge(
            table,
            files,
            source_id=source_id,
            key=primary_key,
            delete_keys=delete_keys,
            properties=properties,
        )
    table.refresh()
    snapshot = table.current_snapshot()
    return CommitResult(
        snapshot.snapshot_id if snapshot else None, added, deleted, rows_replaced=replaced
    )


def commit_run(
    table: Table,
    files: Sequence[str],
    *,
    run_id: str,
    source_id: str,
    full_refresh: bool,
    primary_key: Sequence[str],
    delete_keys: pa.Array | None = None,
) -> CommitResult:
    """Publish staged data files as one snapshot (retried on concurrent commits).

    Args:
        table: the dataset's Iceberg table.
        files: staged Parquet files (written by the validate stage, not yet referenced).
        run_id: recorded in the snapshot summary; a second commit of it is a no-op.
        source_id: the ``_source`` partition this run owns.
        full_refresh: replace the source's rows instead of merging on the key.
        primary_key: the contract's key columns.
        delete_keys: key strings the source marked deleted (merge only).

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
            delete_keys=delete_keys,
        )
    except CONFLICTS as exc:
        raise CommitConflictError(
            f"commit to {'.'.join(table.name())} kept conflicting with other publishers",
            fix="re-run the sync; it is idempotent",
            run_id=run_id,
        ) from exc
