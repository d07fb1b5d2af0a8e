"""``exhub maintain``: expire snapshots, compact files, remove orphans and unused key indexes."""

from __future__ import annotations

from typing import Annotated

import typer

from exhub.cli.output import Format, emit_rows
from exhub.engine.hub import Hub


def maintain(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="report what would be done")] = False,
    fmt: Annotated[Format, typer.Option("--format", help="table or json")] = Format.TABLE,
) -> None:
    """Expire old snapshots (tags kept), compact files (folding in deletes), delete orphans.

    Orphans are data files no snapshot references and the merge key indexes of such files,
    once older than the orphan guard.
    """
    from exhub.publish.maintenance import maintain as run_maintenance

    reports = run_maintenance(Hub(), dry_run=dry_run)
    rows = [r.as_dict() for r in reports]
    for row in rows:
        row["compacted_partitions"] = ", ".join(row["compacted_partitions"])
    emit_rows(
        rows,
        [
            "dataset",
            "expired_snapshots",
            "kept_tagged",
            "compacted_partitions",
            "files_compacted",
            "orphans_deleted",
            "orphans_too_young",
            "key_indexes_deleted",
            "landing_runs_pruned",
        ],
        fmt,
        "maintenance" + (" (dry run)" if dry_run else ""),
    )
