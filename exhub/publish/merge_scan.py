"""Which live rows a merge deletes: found while the run is still validating, not after it.

A merge marks deleted every live row of the source whose key the run brings again (or the
source deleted). The rows are found through the key indexes of the live files
(``key_index``). The work is split so that little of it is left once the run's last batch
is staged, where it would lengthen every incremental run:

* the *basis* (``prepare_merge``): the source's live files, their key indexes (built where
  missing) and the positions their delete files already mark, all independent of the run,
  prepared on the scan thread while the run extracts;
* the *matching* (``KeyMatcher``): each batch of staged rows has its keys hashed and looked
  up in every live file's index as soon as it is staged (``RunningMerge``), on the same
  thread, so the lookups queue behind the basis and never outrun it;
* the *scan* (``MergeScan``): at the end, the source's deleted keys are matched too and the
  positions become the hits of each touched file.

The scan stands for the basis's snapshot: the commit uses it only if the table has not
moved since, and scans again (``scan_merge``, reading the staged files' keys) otherwise.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.table import Table

from exhub.publish import key_index
from exhub.publish.deletes import LiveFile, deleted_positions, live_files
from exhub.validate.gate import bounded_duckdb

SCAN_THREADS = 2
# Staged batches whose keys wait for matching: beyond this the validate loop waits, so the
# keys of a large run are never all held at once.
PENDING_BATCHES = 8
_KEY_ROWS_PER_READ = 262_144
_SCAN_AHEAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="merge-scan-ahead")
_scan_thread = threading.local()
log = logging.getLogger(__name__)


@dataclass
class FileHits:
    """Rows of one live data file that a merge deletes."""

    live: LiveFile
    already: np.ndarray  # sorted positions its delete files mark deleted before the merge
    rows: np.ndarray  # sorted positions the merge deletes now (none of them in ``already``)
    deleted: int  # of ``rows``: the run does not bring the key back
    replaced: int  # of ``rows``: the run brings a new version of the key

    @property
    def positions(self) -> np.ndarray:
        """Every deleted position of the file after the merge, sorted."""
        if not self.already.size:
            return self.rows
        return np.sort(np.concatenate([self.already, self.rows]), kind="stable")

    @property
    def emptied(self) -> bool:
        """No live row is left: drop the data file instead of writing deletes for it."""
        return self.already.size + self.rows.size >= self.live.data.record_count


@dataclass(frozen=True)
class MergeBasis:
    """One snapshot's live files of a source: key indexes on disk, deleted positions read."""

    snapshot_id: int | None
    source_id: str
    live: list[LiveFile]
    deleted: list[np.ndarray]  # per live file: the positions its delete files mark


@dataclass(frozen=True)
class MergeScan:
    """The rows a merge deletes, found on one snapshot of the table; nothing is written.

    Valid only for that snapshot, those staged files and that source: the commit checks all
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


def prepare_merge(
    table: Table,
    *,
    source_id: str,
    key: Sequence[str],
    con: duckdb.DuckDBPyConnection | None = None,
) -> MergeBasis:
    """List the source's live files, build the key indexes they lack, read their deletes."""
    snapshot = table.current_snapshot()
    live = live_files(table, source_id=source_id)
    own = con is None
    con = bounded_duckdb(threads=SCAN_THREADS) if own else con
    try:
        for live_file in live:
            path, rows = live_file.path, live_file.data.record_count
            key_index.ensure(con, table.location(), path, rows, key)
    finally:
        if own:
            con.close()
    # Reading delete files is Parquet I/O that releases the GIL.
    with ThreadPoolExecutor(SCAN_THREADS, thread_name_prefix="merge-deletes") as pool:
        deleted = list(pool.map(lambda f: deleted_positions(table, f), live))
    return MergeBasis(snapshot.snapshot_id if snapshot else None, source_id, live, deleted)


@dataclass
class KeyMatcher:
    """The live rows of a basis that keys match, gathered over any number of key batches."""

    basis: MergeBasis
    table_location: str
    key: Sequence[str]
    _found: dict[int, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)

    def add(self, con: duckdb.DuckDBPyConnection, keys: pa.Table, *, replaced: bool) -> None:
        """Match ``keys`` (the key columns): the run brings them again, or deletes them."""
        if not keys.num_rows or not self.basis.live:
            return
        wanted = key_index.wanted_keys(con, keys, self.key, replaced=replaced)
        for number, live_file in enumerate(self.basis.live):
            index = key_index.ensure(
                con, self.table_location, live_file.path, live_file.data.record_count, self.key
            )
            positions, again = key_index.match(index, wanted)
            del index  # unmapped before the next file's is mapped
            if positions.size:
                self._found.setdefault(number, []).append((positions, again))

    def hits(self) -> list[FileHits]:
        """Each touched file's newly deleted rows (a row once, replaced if any key brings it)."""
        hits = []
        for number in sorted(self._found):
            parts = self._found[number]
            rows = np.concatenate([p for p, _ in parts])
            again = np.concatenate([a for _, a in parts])
            if len(parts) > 1:
                rows, again = _once_each(rows, again)
            already = self.basis.deleted[number]
            if already.size:
                new = ~_sorted_contains(already, rows)
                rows, again = rows[new], again[new]
            if rows.size:
                brought = int(again.sum())
                live = self.basis.live[number]
                hits.append(FileHits(live, already, rows, rows.size - brought, brought))
        return hits


def _once_each(rows: np.ndarray, again: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct positions; a position is replaced if any of its matches says so."""
    order = np.lexsort((~again, rows))  # by position, a replacing match first
    rows, again = rows[order], again[order]
    first = np.ones(rows.size, bool)
    first[1:] = rows[1:] != rows[:-1]
    return rows[first], again[first]


def _sorted_contains(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """``np.isin`` for a sorted ``haystack``: a binary search each, no sort of either side."""
    at = np.searchsorted(haystack, needles)
    return haystack[np.minimum(at, haystack.size - 1)] == needles


def _staged_keys(files: Sequence[str], key: Sequence[str]) -> Iterator[pa.Table]:
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(_KEY_ROWS_PER_READ, columns=list(key)):
            yield pa.Table.from_batches([batch])


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

    ``basis`` (``prepare_merge`` of the same source) spares preparing it again; the scan
    then stands for the basis's snapshot, which the commit checks (``fits``).
    """
    if basis is None or basis.source_id != source_id:
        basis = prepare_merge(table, source_id=source_id, key=key)
    matcher = KeyMatcher(basis, table.location(), key)
    if basis.live:  # the source's first publish has nothing to merge into
        con = bounded_duckdb(threads=SCAN_THREADS)
        try:
            for keys in _staged_keys(files, key):
                matcher.add(con, keys, replaced=True)
            if delete_keys is not None:
                matcher.add(con, delete_keys.select(list(key)), replaced=False)
        finally:
            con.close()
    return MergeScan(basis.snapshot_id, tuple(files), source_id, matcher.hits())


def _scan_connection() -> duckdb.DuckDBPyConnection:
    """The scan thread's DuckDB connection, kept for the process (a connect costs 20 ms)."""
    con = getattr(_scan_thread, "con", None)
    if con is None:
        con = _scan_thread.con = bounded_duckdb(threads=SCAN_THREADS)
    return con


def start_merge_preparation(
    load_table: Callable[[], Table], *, source_id: str, key: Sequence[str]
) -> Future:
    """``prepare_merge`` on the scan's thread, on a table handle of its own.

    A run that merges starts it before its first batch: the basis needs nothing from the
    run, so it is ready when the run's first keys are.
    """
    return _SCAN_AHEAD.submit(
        lambda: prepare_merge(load_table(), source_id=source_id, key=key, con=_scan_connection())
    )


class RunningMerge:
    """The merge scan of a run that is still validating: keys matched as batches are staged.

    Each ``add`` queues one batch's keys on the scan thread behind the preparation; ``finish``
    queues the deleted keys and the result. Whatever fails on the way leaves ``finish``'s
    future failed, and the commit scans again.
    """

    def __init__(self, prepared: Future, table_location: str, key: Sequence[str]) -> None:
        self._prepared = prepared
        self._location = table_location
        self._key = list(key)
        self._matcher: KeyMatcher | None = None
        self._error: BaseException | None = None
        self._room = threading.BoundedSemaphore(PENDING_BATCHES)

    def _matcher_or_raise(self) -> KeyMatcher:
        if self._error is not None:
            raise self._error
        if self._matcher is None:
            basis = self._prepared.result()
            self._matcher = KeyMatcher(basis, self._location, self._key)
        return self._matcher

    def _match(self, keys: pa.Table, replaced: bool) -> None:
        try:
            if self._error is None:
                self._matcher_or_raise().add(_scan_connection(), keys, replaced=replaced)
        except BaseException as exc:  # kept for finish(); the commit then scans again
            self._error = exc
        finally:
            self._room.release()

    def add(self, staged: pa.Table) -> None:
        """Queue the keys of rows just staged (waits while too many batches are queued)."""
        keys = staged.select(self._key)
        self._room.acquire()
        _SCAN_AHEAD.submit(self._match, keys, True)

    def finish(self, files: Sequence[str], source_id: str, delete_keys: pa.Table | None) -> Future:
        """The ``MergeScan`` of every batch added and the source's deleted keys."""

        def result() -> MergeScan:
            matcher = self._matcher_or_raise()
            if delete_keys is not None and matcher.basis.live:
                matcher.add(_scan_connection(), delete_keys.select(self._key), replaced=False)
            basis = matcher.basis
            if basis.source_id != source_id:
                raise ValueError(f"prepared for {basis.source_id}, not {source_id}")
            return MergeScan(basis.snapshot_id, tuple(files), source_id, matcher.hits())

        return _SCAN_AHEAD.submit(result)


def result_or_none(ahead: Future | None, what: str):
    """The result of work done ahead, or None (logged) when it failed or was not started."""
    if ahead is None:
        return None
    try:
        return ahead.result()
    except Exception:  # done again where it is needed, which raises whatever is really wrong
        log.debug("%s ahead of the commit failed; doing it again", what, exc_info=True)
        return None
