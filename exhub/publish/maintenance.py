"""Dataset maintenance: expire snapshots, compact files (folding in deletes), delete orphans.

Every deletion is guarded: snapshots tagged by an auditor (Iceberg tags) and the current
snapshot are never expired; a file is deleted only when no remaining snapshot references it
AND it is older than ``orphan_guard_hours`` (a publish in flight writes files before it
commits them, so young unreferenced files may be about to become live). Landing folders
older than their retention are pruned.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.table import Table

from exhub.parquet import open_writer
from exhub.publish import key_index
from exhub.publish.deletes import LiveFile, deleted_positions, live_files, local_path
from exhub.publish.row_delta import RowDelta
from exhub.publish.tables import load_table_or_none, unrecorded_columns

log = logging.getLogger("exhub.maintenance")
COMPACT_TARGET_ROWS = 1_000_000
COMPACT_BATCH_ROWS = 100_000
# Merges leave position deletes; once they hide this share of a partition, rewrite it.
COMPACT_DELETED_SHARE = 0.1


@dataclass
class MaintenanceReport:
    """What maintenance did (or would do, in a dry run) to one dataset."""

    dataset: str
    expired_snapshots: int = 0
    kept_tagged: int = 0
    compacted_partitions: list[str] = field(default_factory=list)
    files_compacted: int = 0
    orphans_deleted: int = 0
    orphans_too_young: int = 0
    key_indexes_deleted: int = 0
    landing_runs_pruned: int = 0

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


def expire_snapshots(
    table: Table, older_than: datetime, report: MaintenanceReport, dry_run: bool
) -> None:
    """Expire untagged snapshots older than ``older_than`` (never the current one)."""
    tagged = {ref.snapshot_id for name, ref in table.metadata.refs.items() if name != "main"}
    current = table.current_snapshot()
    cutoff = int(older_than.timestamp() * 1000)
    doomed = [
        s.snapshot_id
        for s in table.snapshots()
        if s.timestamp_ms < cutoff
        and s.snapshot_id not in tagged
        and (current is None or s.snapshot_id != current.snapshot_id)
    ]
    report.kept_tagged = len(tagged)
    report.expired_snapshots = len(doomed)
    if doomed and not dry_run:
        table.maintenance.expire_snapshots().by_ids(doomed).commit()


def _live_batches(table: Table, files: list[LiveFile]) -> Iterator[pa.Table]:
    """The live rows of the files, a bounded batch at a time (deleted positions skipped)."""
    for live in files:
        deleted = deleted_positions(table, live)
        offset = 0
        source = pq.ParquetFile(live.path)
        for batch in source.iter_batches(batch_size=COMPACT_BATCH_ROWS):
            piece = pa.Table.from_batches([batch])
            if deleted.size:
                positions = np.arange(offset, offset + batch.num_rows)
                piece = piece.filter(pa.array(~np.isin(positions, deleted, assume_unique=True)))
            offset += batch.num_rows
            if piece.num_rows:
                yield piece


def needs_compaction(files: list[LiveFile], min_files: int) -> bool:
    """Too many files, or delete files hiding a large share of the rows readers skip."""
    rows = sum(f.data.record_count for f in files)
    deleted = sum(f.deleted_rows for f in files)
    return len(files) >= min_files or (deleted > 0 and deleted >= COMPACT_DELETED_SHARE * rows)


def compact(table: Table, min_files: int, report: MaintenanceReport, dry_run: bool) -> None:
    """Rewrite source partitions into few files without deleted rows, one snapshot each."""
    by_source: dict[str, list[LiveFile]] = {}
    for live in live_files(table):
        by_source.setdefault(live.data.partition[0], []).append(live)
    for source, files in sorted(by_source.items()):
        if not needs_compaction(files, min_files):
            continue
        report.compacted_partitions.append(source)
        report.files_compacted += len(files)
        if dry_run:
            continue
        written = _write_compacted(table, files)
        with table.transaction() as tx:
            properties = {"exhub.operation": "compact", "exhub.source": source}
            with RowDelta(tx, properties) as delta:
                for live in files:
                    delta.drop_live_file(live)
                delta.add_parquet_files(written)
        table.refresh()
        log.info("compacted %s files of %s into %s", len(files), source, len(written))


def _write_compacted(table: Table, files: list[LiveFile]) -> list[str]:
    folder = Path(files[0].path).parent
    written: list[str] = []
    writer, rows_in_file = None, 0
    for piece in _live_batches(table, files):
        if writer is None or rows_in_file >= COMPACT_TARGET_ROWS:
            if writer is not None:
                writer.close()
            path = folder / f"compact-{datetime.now(UTC):%Y%m%dT%H%M%S}-{len(written)}.parquet"
            writer = open_writer(path, piece.schema, piece, unrecorded=unrecorded_columns(table))
            written.append(str(path))
            rows_in_file = 0
        writer.write_table(piece)
        rows_in_file += piece.num_rows
    if writer is not None:
        writer.close()
    return written


def delete_orphans(
    table: Table, guard: timedelta, report: MaintenanceReport, dry_run: bool, now: datetime
) -> None:
    """Delete data files no snapshot references, if older than the guard age.

    Key indexes go with their data files: an index of a file no snapshot references, one
    made by a hash function DuckDB no longer has (``key_index.fingerprint``), and an index
    write a crash left unfinished are deleted too, with the same guard.
    """
    referenced = set()
    if table.current_snapshot() is not None:
        # Data and delete files: a live delete file is as referenced as the data it masks.
        paths = table.inspect.all_files().column("file_path").to_pylist()
        referenced = {local_path(p) for p in paths}
    root = Path(local_path(table.location()))
    data = root / "data"
    if data.exists():
        for path in data.rglob("*.parquet"):
            if str(path) not in referenced and _old_enough(path, guard, report, now):
                report.orphans_deleted += 1
                if not dry_run:
                    path.unlink()
    indexes = root / key_index.FOLDER
    if not indexes.exists():
        return
    for path in indexes.rglob("*"):
        if not path.is_file() or not _unused_index(path, table, referenced):
            continue
        if _old_enough(path, guard, report, now):
            report.key_indexes_deleted += 1
            if not dry_run:
                path.unlink()


def _unused_index(path: Path, table: Table, referenced: set[str]) -> bool:
    if not path.name.endswith(f".{key_index.fingerprint()}{key_index.SUFFIX}"):
        return True  # a crash's unfinished write, or another hash function's index
    return str(key_index.data_path_of(path, table.location())) not in referenced


def _old_enough(path: Path, guard: timedelta, report: MaintenanceReport, now: datetime) -> bool:
    if now - datetime.fromtimestamp(path.stat().st_mtime, UTC) >= guard:
        return True
    report.orphans_too_young += 1
    return False


def prune_landing(warehouse: Path, older_than: datetime, dry_run: bool) -> int:
    """Remove landing folders of runs older than the landing retention."""
    landing = warehouse / "landing"
    pruned = 0
    if not landing.exists():
        return 0
    for manifest in landing.glob("*/*/*/_manifest.json"):
        finished = datetime.fromtimestamp(manifest.stat().st_mtime, UTC)
        if finished < older_than:
            pruned += 1
            if not dry_run:
                shutil.rmtree(manifest.parent)
    return pruned


def maintain(
    hub=None, *, now: datetime | None = None, dry_run: bool = False
) -> list[MaintenanceReport]:
    """Maintain every published dataset of the hub.

    Args:
        hub: the hub (default: built from settings).
        now: the current time (tests move it forward).
        dry_run: report only.

    Returns:
        One report per dataset, plus landing pruning on the first.
    """
    if hub is None:
        from exhub.engine.hub import Hub

        hub = Hub()
    settings = hub.settings
    now = now or datetime.now(UTC)
    reports = []
    for record in hub.repository.list_datasets():
        contract = hub.contracts.get(f"{record.name}@{record.current_version}")
        report = MaintenanceReport(record.name)
        reports.append(report)
        table = load_table_or_none(hub.iceberg, contract)
        if table is None:
            continue
        expire_snapshots(
            table, now - timedelta(days=settings.snapshot_retention_days), report, dry_run
        )
        table.refresh()
        compact(table, settings.compact_min_files, report, dry_run)
        table.refresh()
        delete_orphans(table, timedelta(hours=settings.orphan_guard_hours), report, dry_run, now)
    pruned = prune_landing(
        settings.warehouse_path, now - timedelta(days=settings.landing_retention_days), dry_run
    )
    if reports:
        reports[0].landing_runs_pruned = pruned
    return reports
