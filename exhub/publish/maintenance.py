"""Dataset maintenance: expire old snapshots, compact small files, delete orphans, prune landing.

Every deletion is guarded: snapshots tagged by an auditor (Iceberg tags) and the current
snapshot are never expired; a file is deleted only when no remaining snapshot references it
AND it is older than ``orphan_guard_hours`` (a publish in flight writes files before it
commits them, so young unreferenced files may be about to become live).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.io.pyarrow import parquet_files_to_data_files
from pyiceberg.table import Table

from exhub.parquet import open_writer
from exhub.publish.tables import load_table_or_none

log = logging.getLogger("exhub.maintenance")
COMPACT_TARGET_ROWS = 1_000_000
COMPACT_BATCH_ROWS = 100_000


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
    landing_runs_pruned: int = 0

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


def _local(path: str) -> Path:
    return Path(path.removeprefix("file://"))


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


def _batches_of(files) -> Iterator[pa.Table]:
    """Every row of the files, a bounded batch at a time (memory never holds a whole file)."""
    for data_file in files:
        source = pq.ParquetFile(_local(data_file.file_path))
        for batch in source.iter_batches(batch_size=COMPACT_BATCH_ROWS):
            yield pa.Table.from_batches([batch])


def compact(table: Table, min_files: int, report: MaintenanceReport, dry_run: bool) -> None:
    """Rewrite each source partition with too many files into few, in one snapshot each."""
    if table.current_snapshot() is None:
        return
    by_source: dict[str, list] = {}
    for task in table.scan().plan_files():
        by_source.setdefault(task.file.partition[0], []).append(task.file)
    for source, files in sorted(by_source.items()):
        if len(files) < min_files:
            continue
        report.compacted_partitions.append(source)
        report.files_compacted += len(files)
        if dry_run:
            continue
        folder = _local(files[0].file_path).parent
        written: list[str] = []
        writer, rows_in_file = None, 0
        for piece in _batches_of(files):
            if writer is None or rows_in_file >= COMPACT_TARGET_ROWS:
                if writer is not None:
                    writer.close()
                path = folder / f"compact-{datetime.now(UTC):%Y%m%dT%H%M%S}-{len(written)}.parquet"
                writer = open_writer(path, piece.schema, piece)
                written.append(str(path))
                rows_in_file = 0
            writer.write_table(piece)
            rows_in_file += piece.num_rows
        if writer is not None:
            writer.close()
        with table.transaction() as tx:
            properties = {"exhub.operation": "compact", "exhub.source": source}
            with tx.update_snapshot(snapshot_properties=properties).overwrite() as overwrite:
                for data_file in files:
                    overwrite.delete_data_file(data_file)
                for data_file in parquet_files_to_data_files(
                    table.io, tx.table_metadata, iter(written)
                ):
                    overwrite.append_data_file(data_file)
        table.refresh()
        log.info("compacted %s files of %s into %s", len(files), source, len(written))


def delete_orphans(
    table: Table, guard: timedelta, report: MaintenanceReport, dry_run: bool, now: datetime
) -> None:
    """Delete data files no snapshot references, if older than the guard age."""
    referenced = set()
    if table.current_snapshot() is not None:
        paths = table.inspect.all_data_files().column("file_path").to_pylist()
        referenced = {str(_local(p)) for p in paths}
    data = _local(table.location()) / "data"
    if not data.exists():
        return
    for path in data.rglob("*.parquet"):
        if str(path) in referenced:
            continue
        age = now - datetime.fromtimestamp(path.stat().st_mtime, UTC)
        if age < guard:
            report.orphans_too_young += 1
            continue
        report.orphans_deleted += 1
        if not dry_run:
            path.unlink()


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
