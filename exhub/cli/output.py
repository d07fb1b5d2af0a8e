"""Shared CLI plumbing: output formats, the hub, and error → exit code mapping."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


class Format(StrEnum):
    """Output formats of list/show commands."""

    TABLE = "table"
    JSON = "json"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def dumps(data: Any) -> str:
    """JSON text for scripts (UTF-8, Chinese kept readable)."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=_json_default)


def emit_rows(rows: Sequence[dict], columns: Sequence[str], fmt: Format, title: str) -> None:
    """Print rows as a rich table or as JSON."""
    if fmt is Format.JSON:
        sys.stdout.write(dumps(list(rows)) + "\n")
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if row.get(c) is None else str(row.get(c)) for c in columns])
    console.print(table)


def emit_record(record: dict, fmt: Format, title: str) -> None:
    """Print one record as key/value lines or as JSON."""
    if fmt is Format.JSON:
        sys.stdout.write(dumps(record) + "\n")
        return
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    for key, value in record.items():
        table.add_row(key, dumps(value) if isinstance(value, dict | list) else str(value))
    console.print(table)
