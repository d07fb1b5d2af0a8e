"""One atomic, idempotent Iceberg commit per run: exactly one snapshot.

The run id is written into the snapshot summary. Before committing, the table's history is
searched for it: a retried run that already committed does nothing. A run that crashed
before its commit left only unreferenced files, which no reader sees.

Both write modes produce a single overwrite snapshot, so readers and time travel see the
state before the run or after it, never between:

* full refresh: the source's partition (``_source``) is swapped for the staged files, and
  the keys that disappeared from the source are counted as deleted;
* merge: rows of the source whose key the run brings (or deletes) are marked deleted in
  position-delete files (merge-on-read, see ``deletes.py``), then the staged files are added.
  A data file left with no live row is dropped instead. Maintenance later folds the deletes
  back into the data files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.exceptions import CommitFailedException, ValidationException
from pyiceberg.table import Table, TableProperties
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from exhub.errors import CommitConflictError
from exhub.failpoints import failpoint
from exhub.publish import key_index
from exhub.publish.deletes import (
    LiveFile,
    deleted_positions,
    live_files,
    live_rows_sql,
    write_position_deletes,
)
from exhub.publish.row_delta import RowDelta
from exhub.publish.tables import RUN_ID_PROPERTY, data_folder
from exhub.validate.gate import bounded_duckdb

SCAN_THREADS = 2
CONFLICTS = (CommitFailedException, ValidationException)
_SCAN_AHEAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="merge-scan-ahead")
log = logging.getLogger(__name__)


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


@dataclass
class FileHits:
    """Rows of one live data file that a merge deletes."""

    live: LiveFile
    positions: np.ndarray  # every deleted position of the file afterwards, old and new
    deleted: int  # newly deleted rows whose key the run does not bring back
    replaced: int  # newly deleted rows whose key the run brings a new version of

    @property
    def emptied(self) -> bool:
        """No live row is left: drop the data file instead of writing deletes for it."""
        return len(self.positions) >= self.live.data.record_count


def _find_hits(
    table: Table,
    live: Sequence[LiveFile],
    files: Sequence[str],
    key: Sequence[str],
    delete_keys: pa.Table | None,
) -> list[FileHits]:
    """The live rows whose key the staged files bring or ``delete_keys`` delete.

    The run's keys are hashed once and looked up in each live file's key index
    (``exhub.publish.key_index``; built for a file that has none): no live file's keys are
    read again, and one file's index is mapped at a time.
    """
    columns = ", ".join(f'"{k}"' for k in key)
    con = bounded_duckdb(threads=SCAN_THREADS)
    try:
        deletes = delete_keys is not None and delete_keys.num_rows > 0
        if not files and not deletes:
            return []
        if deletes:
            con.register("deleted_keys", delete_keys.select(list(key)))
        if files:
            con.execute(
                f"CREATE TEMP TABLE doomed AS SELECT DISTINCT {columns}, true AS _exhub_replaced "
                "FROM read_parquet(?, hive_partitioning=false)",
                [list(files)],
            )
            if deletes:
                con.execute(
                    f"INSERT INTO doomed SELECT DISTINCT {columns}, false FROM deleted_keys "
                    f"ANTI JOIN doomed USING ({columns})"
                )
        else:
            con.execute(
                f"CREATE TEMP TABLE doomed AS SELECT DISTINCT {columns}, false AS _exhub_replaced "
                "FROM deleted_keys"
            )
        wanted = key_index.wanted(con, "doomed", key)
        found: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for number, live_file in enumerate(live):
            index = key_index.ensure(
                con, table.location(), live_file.path, live_file.data.record_count, key
            )
            positions, replaced = key_index.match(index, wanted)
            del index  # unmapped before the next file's is mapped
            if positions.size:
                found[number] = (positions, replaced)
    finally:
        con.close()
    touched = sorted(found)
    # Reading the touched files' delete files is Parquet I/O that releases the GIL.
    with ThreadPoolExecutor(SCAN_THREADS, thread_name_prefix="merge-deletes") as pool:
        read = pool.map(lambda i: deleted_positions(table, live[i]), touched)
        known = dict(zip(touched, read, strict=True))
    hits = []
    for number in touched:
        live_file = live[number]
        rows, again = found[number]
        already = known[number]
        if already.size:
            new = ~_sorted_contains(already, rows)
            rows, again = rows[new], again[new]
        if rows.size:
            brought = int(again.sum())
            # Each live row matches one doomed key, so ``rows`` holds no repeats.
            deleted = np.sort(np.concatenate([already, rows]))
            hits.append(FileHits(live_file, deleted, len(rows) - brought, brought))
    return hits


def _sorted_contains(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """``np.isin`` for a sorted ``haystack``: a binary search each, no sort of either side."""
    at = np.searchsorted(haystack, needles)
    return haystack[np.minimum(at, haystack.size - 1)] == needles


def _ensure_name_mapping(tx) -> None:
    # Files written by exhub carry no Iceberg field ids; columns resolve by name.
    if tx.table_metadata.name_mapping() is None:
        mapping = tx.table_metadata.schema().name_mapping.model_dump_json()
        tx.set_properties(**{TableProperties.DEFAULT_NAME_MAPPING: mapping})


def _gone_from_source(old: Sequence[LiveFile], new: Sequence[str], key: Sequence[str]) -> int:
    """Live rows of the old partition whose key the new full read no longer has (spills)."""
    if not old:
        return 0
    columns = ", ".join(f'"{k}"' for k in key)
    # The publish runs alone, after validation: the anti join may use both cores
    # (1.75 s → 1.05 s for a 5M-row partition refreshed in full).
    con = bounded_duckdb(threads=SCAN_THREADS)
    try:
        if not new:
            sql = f"SELECT count(*) FROM ({live_rows_sql(old, columns)})"
            return con.execute(sql).fetchone()[0]
        return con.execute(
            f"SELECT count(*) FROM ({live_rows_sql(old, columns)}) o "
            f"ANTI JOIN (SELECT {columns} FROM read_parquet(?, hive_partitioning=false)) n "
            f"USING ({columns})",
            [list(new)],
        ).fetchone()[0]
    finally:
        con.close()


def _replace_source(
    table: Table, files: Sequence[str], *, source_id: str, key: Sequence[str], properties: dict
) -> tuple[int, int]:
    old = live_files(table, source_id=source_id)
    before = sum(f.live_rows for f in old)
    gone = _gone_from_source(old, files, key)
    with table.transaction() as tx:
        _ensure_name_mapping(tx)
        with RowDelta(tx, properties) as delta:
            for live in old:
                delta.drop_live_file(live)
            delta.add_parquet_files(files)
    return gone, before - gone


@dataclass(frozen=True)
class MergeScan:
    """The rows a merge deletes, found on one snapshot of the table; nothing is written.

    Valid only for that snapshot, those staged files and that source: ``_merge`` checks all
    three and scans again when any differs (a concurrent commit, a retry).
    """

    snapshot_id: int | None
    files: tuple[str, ...]
    source_id: str
    hits: list[FileHits]

    def fits(self, table: Table, files: Sequence[str], source_id: str) -> bool:
        """True when the scan was made on the table's current snapshot for these files."""
        snapshot = table.current_snapshot()
        current = snapshot.snapshot_id if snapshot else None
        return (self.snapshot_id, self.files, self.source_id) == (
            current,
            tuple(files),
            source_id,
        )


@dataclass(frozen=True)
class MergeBasis:
    """One snapshot's live files of a source, each with its key index on disk."""

    snapshot_id: int | None
    source_id: str
    live: list[LiveFile]


def prepare_merge(table: Table, *, source_id: str, key: Sequence[str]) -> MergeBasis:
    """List the source's live files and build the key indexes any of them lacks."""
    snapshot = table.current_snapshot()
    live = live_files(table, source_id=source_id)
    con = bounded_duckdb(threads=SCAN_THREADS)
    try:
        for live_file in live:
            path, rows = live_file.path, live_file.data.record_count
            key_index.ensure(con, table.location(), path, rows, key)
    finally:
        con.close()
    return MergeBasis(snapshot.snapshot_id if snapshot else None, source_id, live)


def start_merge_preparation(
    load_table: Callable[[], Table], *, source_id: str, key: Sequence[str]
) -> Future:
    """``prepare_merge`` on the scan's thread, on a table handle of its own.

    A run that merges starts it before its first batch: the live files and their key
    indexes need nothing from the run, so they are ready when its keys are.
    """
    return _SCAN_AHEAD.submit(lambda: prepare_merge(load_table(), source_id=source_id, key=key))


def scan_merge(
    table: Table,
    files: Sequence[str],
    *,
    source_id: str,
    key: Sequence[str],
    delete_keys: pa.Table | None,
    basis: MergeBasis | None = None,
) -> MergeScan:
    """Find the live rows of the source whose key the staged files bring or delete.

    ``basis`` (``prepare_merge`` of the same source) spares listing the live files again;
    the scan then stands for the basis's snapshot, which the commit checks (``fits``).
    """
    if basis is None or basis.source_id != source_id:
        snapshot = table.current_snapshot()
        live = live_files(table, source_id=source_id)
        basis = MergeBasis(snapshot.snapshot_id if snapshot else None, source_id, live)
    # The source's first publish has nothing to merge into.
    hits = _find_hits(table, basis.live, files, key, delete_keys) if basis.live else []
    return MergeScan(basis.snapshot_id, tuple(files), source_id, hits)


def start_merge_scan(
    table: Table,
    files: Sequence[str],
    *,
    source_id: str,
    key: Sequence[str],
    delete_keys: pa.Table | None,
    prepared: Future | None = None,
) -> Future:
    """``scan_merge`` on a thread, on ``prepared``'s basis, else on the table as it is now.

    A run that validates and publishes in one process starts it while Great Expectations is
    still checking its sample: the scan is Arrow work and the suite mostly Python, so the two
    share the cores instead of queuing. The commit uses the scan only if it still fits.
    """

    def scan() -> MergeScan:
        basis = _result_or_none(prepared, "merge preparation")
        if basis is None:
            table.refresh()
        return scan_merge(
            table, files, source_id=source_id, key=key, delete_keys=delete_keys, basis=basis
        )

    return _SCAN_AHEAD.submit(scan)


def _result_or_none(ahead: Future | None, what: str):
    if ahead is None:
        return None
    try:
        return ahead.result()
    except Exception:  # done again where it is needed, which raises whatever is really wrong
        log.debug("%s ahead of the commit failed; doing it again", what, exc_info=True)
        return None


def _prepared_scan(ahead: Future | None) -> MergeScan | None:
    return _result_or_none(ahead, "merge scan")


def _merge(
    table: Table,
    files: Sequence[str],
    *,
    source_id: str,
    key: Sequence[str],
    delete_keys: pa.Table | None,
    properties: dict,
    scanned: MergeScan | None = None,
) -> tuple[int, int]:
    """Merge on read: position deletes for the rows the run replaces or deletes."""
    if scanned is None or not scanned.fits(table, files, source_id):
        scanned = scan_merge(table, files, source_id=source_id, key=key, delete_keys=delete_keys)
    hits = scanned.hits
    folder = data_folder(table, source_id)
    kept = [hit for hit in hits if not hit.emptied]
    # Parquet writes release the GIL: a 1% change touches every live file of the source.
    with ThreadPoolExecutor(SCAN_THREADS, thread_name_prefix="merge-deletes") as pool:
        written = list(
            pool.map(lambda h: write_position_deletes(table, h.live, h.positions, folder), kept)
        )
    with table.transaction() as tx:
        _ensure_name_mapping(tx)
        with RowDelta(tx, properties) as delta:
            for hit in hits:
                if hit.emptied:
                    delta.drop_live_file(hit.live)
            for hit, deletes in zip(kept, written, strict=True):
                for delete_file in hit.live.deletes:
                    delta.remove_delete_file(delete_file)
                delta.add_delete_file(deletes)
            delta.add_parquet_files(files)
            failpoint("merge_files_written")
    return sum(h.deleted for h in hits), sum(h.replaced for h in hits)


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
    delete_keys: pa.Table | None,
    scanned: MergeScan | None,
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
            scanned=scanned,
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
    delete_keys: pa.Table | None = None,
    scan_ahead: Future | None = None,
) -> CommitResult:
    """Publish staged data files as one snapshot (retried on concurrent commits).

    Args:
        table: the dataset's Iceberg table.
        files: staged Parquet files (written by the validate stage, not yet referenced).
        run_id: recorded in the snapshot summary; a second commit of it is a no-op.
        source_id: the ``_source`` partition this run owns.
        full_refresh: replace the source's rows instead of merging on the key.
        primary_key: the contract's key columns.
        delete_keys: the key columns of the rows the source marked deleted (merge only).
        scan_ahead: a ``start_merge_scan`` of these files and delete keys (merge only); used
            when the table has not changed since, scanned again otherwise.

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
            scanned=_prepared_scan(scan_ahead),
        )
    except CONFLICTS as exc:
        raise CommitConflictError(
            f"commit to {'.'.join(table.name())} kept conflicting with other publishers",
            fix="re-run the sync; it is idempotent",
            run_id=run_id,
        ) from exc
