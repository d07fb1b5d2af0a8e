"""``exhub sources``: the legacy systems this hub reads."""

from __future__ import annotations

from typing import Annotated

import typer

from exhub.cli.output import Format, emit_record, emit_rows
from exhub.engine.hub import Hub
from exhub.sources import discover_sources, find_source, load_source

app = typer.Typer(help="Source systems (sources/*.yaml).", no_args_is_help=True)
FormatOption = Annotated[Format, typer.Option("--format", help="table or json")]


@app.command("list")
def list_sources(fmt: FormatOption = Format.TABLE) -> None:
    """List source systems and their streams."""
    hub = Hub()
    rows = []
    for source_id, path in discover_sources(hub.settings.sources_path).items():
        source = load_source(path)
        rows.append(
            {
                "id": source_id,
                "department": source.department.name,
                "system": source.system,
                "connector": source.connector,
                "schedule": source.schedule,
                "streams": ", ".join(f"{s.name}→{s.target}" for s in source.streams),
            }
        )
    emit_rows(
        rows,
        ["id", "department", "system", "connector", "schedule", "streams"],
        fmt,
        f"sources in {hub.settings.sources_path}",
    )


@app.command("show")
def show(source_id: str, fmt: FormatOption = Format.TABLE) -> None:
    """Show a source system's configuration (secret references, never values)."""
    hub = Hub()
    source = find_source(hub.settings.sources_path, source_id)
    record = source.model_dump(mode="json", by_alias=True)
    record["watermarks"] = {
        s.name: hub.repository.get_watermark(source.id, s.name) for s in source.streams
    }
    emit_record(record, fmt, f"source {source_id}")
