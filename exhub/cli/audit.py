"""``exhub audit``: the hash-chained log of who read what, why, and how many rows.

Queries, quarantine reads (raw values) and access requests, answers and revocations are
recorded; see ``exhub.audit``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from exhub.cli.output import Format, emit_record, emit_rows
from exhub.engine.hub import Hub
from exhub.errors import AuditLogBrokenError

app = typer.Typer(
    help="The audit log: every query, quarantine read and access decision, hash-chained so "
    "that changes are detected.",
    no_args_is_help=True,
)
FormatOption = Annotated[Format, typer.Option("--format", help="table or json")]


@app.command("log")
def log(
    actor: Annotated[str | None, typer.Option(help="only this actor")] = None,
    limit: Annotated[int, typer.Option(min=1, help="most entries shown")] = 50,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """List audit entries, newest first."""
    entries = Hub().repository.list_audit(limit=limit, actor=actor)
    rows = [
        {
            "seq": e.seq,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "purpose": e.purpose,
            "outcome": e.detail.get("outcome"),
            "rows": e.detail.get("rows"),
            "sql": e.detail.get("sql"),
            "hash": e.hash,
        }
        for e in entries
    ]
    columns = ["seq", "at", "actor", "action", "target", "purpose", "outcome", "rows", "sql"]
    emit_rows(rows, columns, fmt, "audit log")  # JSON carries every key, the hash included


@app.command("verify")
def verify(fmt: FormatOption = Format.TABLE) -> None:
    """Check the whole chain; exit 1 naming the first entry changed, removed or reordered.

    A log cut short at its newest end still verifies: keep the head it prints (number and
    hash) somewhere else and compare it next time.
    """
    verdict = Hub().repository.verify_audit()
    record = {
        "intact": verdict.intact,
        "entries_checked": verdict.entries,
        "head_seq": verdict.head_seq,
        "head_hash": verdict.head_hash,
        "broken_at": verdict.broken_at,
        "problem": verdict.problem,
    }
    emit_record(record, fmt, "audit log verification")
    if not verdict.intact:
        raise AuditLogBrokenError(
            f"the audit log is broken at entry {verdict.broken_at}: {verdict.problem}",
            fix="the entries from there on cannot be trusted; restore the catalog from a backup "
            "and find out who wrote to exhub_audit_log outside exhub",
            broken_at=verdict.broken_at,
        )
