"""Facts about published datasets read from Iceberg metadata (no data files are scanned)."""

from __future__ import annotations

from datetime import UTC, datetime

from exhub.contracts import Contract
from exhub.engine.hub import Hub
from exhub.publish.deletes import LiveFile, planned_files
from exhub.publish.tables import RUN_ID_PROPERTY, load_table_or_none


def load_table(hub: Hub, contract: Contract):
    """The dataset's Iceberg table, or None before its first publish."""
    return load_table_or_none(hub.iceberg, contract)


def row_count(table) -> int:
    """Rows in the current snapshot."""
    snapshot = table.current_snapshot() if table is not None else None
    if snapshot is None or snapshot.summary is None:
        return 0
    return _live_total(snapshot.summary)


def _live_total(summary) -> int:
    # total-records counts every row of the data files, including those delete files remove.
    records = int(summary["total-records"] or 0)
    return records - int(summary["total-position-deletes"] or 0)


def current_files(table) -> list[LiveFile]:
    """Data files of the current snapshot with their delete files (none before a publish).

    The list is shared between callers of the same snapshot: do not change it.
    """
    return [] if table is None else planned_files(table)


def rows_per_source(table, files: list[LiveFile] | None = None) -> dict[str, int]:
    """Rows per ``_source`` partition, from the manifests (``files``: already planned)."""
    counts: dict[str, int] = {}
    for live in current_files(table) if files is None else files:
        source = live.data.partition[0]
        counts[source] = counts.get(source, 0) + live.live_rows
    return dict(sorted(counts.items()))


def storage(table, files: list[LiveFile] | None = None) -> dict:
    """Files behind the current snapshot, and rows masked by delete files until compaction."""
    files = current_files(table) if files is None else files
    return {
        "data_files": len(files),
        "delete_files": len({d.file_path for f in files for d in f.deletes}),
        "rows_masked_by_deletes": sum(f.deleted_rows for f in files),
    }


def _removed(summary) -> int:
    # Rows of dropped data files, plus rows newly marked deleted (net of delete files dropped).
    removed = int(summary["deleted-records"] or 0)
    removed += int(summary["added-position-deletes"] or 0)
    return removed - int(summary["removed-position-deletes"] or 0)


def history(table) -> list[dict]:
    """Snapshots oldest first: time, run, operation, rows added/removed, total."""
    if table is None:
        return []
    rows = []
    for snapshot in table.snapshots():
        summary = snapshot.summary
        rows.append(
            {
                "snapshot_id": snapshot.snapshot_id,
                "committed_at": datetime.fromtimestamp(
                    snapshot.timestamp_ms / 1000, UTC
                ).isoformat(),
                "run_id": summary[RUN_ID_PROPERTY] if summary else None,
                "source": summary["exhub.source"] if summary else None,
                "operation": summary.operation.value if summary else None,
                "added": int(summary["added-records"] or 0) if summary else 0,
                "removed": _removed(summary) if summary else 0,
                "total": _live_total(summary) if summary else 0,
            }
        )
    return rows


CYCLE_HOURS = {
    "realtime": 1,
    "hourly": 2,
    "daily": 26,
    "weekly": 7 * 24 + 2,
    "monthly": 31 * 24 + 2,
    "quarterly": 92 * 24 + 2,
    "yearly": 366 * 24 + 2,
}


def dataset_facts(hub: Hub, name: str, update_cycle: str, runs: list | None = None) -> dict:
    """Freshness versus the update cycle, last run, and quality pass rate of recent runs."""
    runs = runs if runs is not None else hub.repository.list_runs(dataset_name=name, limit=50)
    succeeded = [r for r in runs if r.status == "succeeded"]
    last = succeeded[0] if succeeded else None
    now = datetime.now(UTC)
    age_hours = None
    if last is not None and last.finished_at is not None:
        age_hours = round((now - last.finished_at).total_seconds() / 3600, 1)
    allowed = CYCLE_HOURS.get(update_cycle)
    extracted = sum(r.extracted_rows for r in succeeded)
    published = sum(r.published_rows for r in succeeded)
    return {
        "last_success": last.finished_at.isoformat() if last and last.finished_at else None,
        "hours_since_success": age_hours,
        "fresh": age_hours is not None and allowed is not None and age_hours <= allowed,
        "runs_failed_recently": sum(r.status in ("failed", "gated") for r in runs),
        "quality_pass_rate": round(published / extracted, 4) if extracted else None,
    }
