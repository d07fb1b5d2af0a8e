"""``exhub sources``: the legacy systems this hub reads (list, show, check, discover)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from exhub.cli.output import Format, console, dumps, emit_record, emit_rows, err_console
from exhub.discover.check import CHECK_BATCH_SIZE, SourceCheck, check_source
from exhub.engine.hub import Hub
from exhub.errors import ConfigError
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


@app.command("check")
def check(
    source_id: Annotated[str, typer.Argument(help="source id (file name in sources/)")],
    fmt: FormatOption = Format.TABLE,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=10_000, help="rows read per stream")
    ] = CHECK_BATCH_SIZE,
) -> None:
    """Connect and read one batch per stream: columns, types, a masked sample, mapping gaps.

    Exits 2 when a mapped column is missing or a stream is misconfigured, 3 when the
    system cannot be reached.
    """
    hub = Hub()
    source = find_source(hub.settings.sources_path, source_id)
    report = check_source(source, hub.contracts, batch_size=batch_size)
    if fmt is Format.JSON:
        sys.stdout.write(dumps(report.as_dict()) + "\n")
    else:
        _print_check(report)
    problems = report.problems()
    if problems:
        raise ConfigError(
            f"source '{source_id}': " + "; ".join(problems),
            fix="fix the stream's source or mapping in the source file (see the report above)",
            key="streams",
        )


def _print_check(report: SourceCheck) -> None:
    console.print(
        f"[bold]{escape(report.source)}[/] via {report.connector}: "
        f"{escape(report.target_system)} [green]reachable[/]",
        highlight=False,
    )
    for stream in report.streams:
        status = "[green]ok[/]" if stream.ok else "[red]problem[/]"
        console.print(
            f"\n[bold]{escape(stream.name)}[/] ({escape(stream.source_object)} → "
            f"{stream.target}): {status}",
            highlight=False,
        )
        if stream.error:
            console.print(f"  [red]error:[/] {escape(stream.error)}", highlight=False)
            continue
        if stream.note:
            console.print(f"  {escape(stream.note)}", highlight=False)
        console.print(f"  rows read: {stream.rows_read}, rejects: {stream.rejects}")
        for item in stream.missing:
            console.print(
                f"  [red]missing:[/] mapping '{escape(item['field'])}' reads column "
                f"'{escape(item['column'])}', not in the source",
                highlight=False,
            )
        if not stream.columns:
            continue
        table = Table(title="sample (PII masked)", title_justify="left")
        for column in stream.columns:
            masked = " *" if column["name"] in stream.masked_columns else ""
            table.add_column(f"{column['name']}{masked}\n{column['type']}")
        for row in stream.sample:
            table.add_row(*["" if v is None else str(v) for v in row.values()])
        console.print(table)


@app.command("discover")
def discover_command(
    target: Annotated[str, typer.Argument(help="SQLAlchemy URL, or a folder/file of CSV exports")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write the YAML here (else stdout)")
    ] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="owning department id")
    ] = None,
    source_id: Annotated[str | None, typer.Option("--id", help="source id to propose")] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite --output")] = False,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Introspect a legacy database or CSV folder and propose a source YAML with mappings.

    Every mapping carries a confidence and its evidence as a YAML comment. A password in the
    URL is written as ${EXHUB_<ID>_PASSWORD}, never as itself. Without --output the YAML goes
    to stdout and the summary to stderr.
    """
    if output is not None and output.exists() and not force:
        raise ConfigError(
            f"{output} already exists",
            fix="choose another --output, or add --force to overwrite it",
            key="--output",
        )
    from exhub.discover import discover

    hub = Hub()
    contracts = [hub.contracts.get(ref) for ref in hub.contracts.refs()]
    found = discover(target, contracts, source_id=source_id, output=output, department=department)
    if output is None:
        sys.stdout.write(found.text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(found.text, encoding="utf-8")
    rows = found.rows
    if fmt is Format.JSON:
        report = {"source": found.header.source_id, "output": str(output) if output else None}
        report |= {"streams": rows, "left_out": found.sample.left_out}
        (sys.stdout if output else sys.stderr).write(dumps(report) + "\n")
        return
    table = Table(title=f"proposed source {found.header.source_id}", title_justify="left")
    for column in ("stream", "source", "rows", "target", "mapped (confidence)", "unmapped"):
        table.add_column(column)
    for row in rows:
        mapped = "\n".join(
            f"{name} ← {m['from']} {m['confidence']:.2f}" for name, m in row["mapped"].items()
        )
        table.add_row(
            row["stream"],
            row["source"],
            str(row["rows"]),
            row["target"],
            mapped,
            "\n".join(row["unmapped"]) or "-",
        )
    (console if output else err_console).print(table)
    if output is not None:
        console.print(
            f"wrote {output}; review it, then: exhub sources check {found.header.source_id}"
        )
    for item in found.sample.left_out:
        err_console.print(f"not proposed: {escape(item)}", highlight=False)
