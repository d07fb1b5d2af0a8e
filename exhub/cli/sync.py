"""``exhub sync``: run a source's streams now, with a progress bar."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from exhub.cli.output import Format, console, dumps, emit_rows
from exhub.engine.hub import Hub
from exhub.errors import ConfigError

if TYPE_CHECKING:
    from exhub.engine.run import RunSummary


def sync_source(
    hub: Hub,
    source_id: str,
    *,
    stream: str | None = None,
    full_refresh: bool = False,
    trigger: str = "cli",
    show_progress: bool = True,
    replay: str | None = None,
    accept_drift: bool = False,
) -> list[RunSummary]:
    """Sync every stream of a source (or one); the same path Airflow tasks take.

    With ``replay``, re-validate and re-publish that run's landing instead of reading the
    source.
    """
    from exhub.engine.sync import register, replay_landing, sync_stream
    from exhub.sources import config_hash, load_source, source_path

    path = source_path(hub.settings.sources_path, source_id)
    source = load_source(path)
    register(hub, source, config_hash(path))
    streams = source.streams
    if stream is not None:
        try:
            streams = [source.stream(stream)]
        except KeyError:
            raise ConfigError(
                f"source '{source_id}' has no stream '{stream}'",
                fix=f"use one of: {', '.join(s.name for s in source.streams)}",
                key="stream",
            ) from None
    if replay is not None:
        record = hub.repository.get_run(replay)
        if record is None or record.source_id != source_id:
            raise ConfigError(
                f"no run '{replay}' of source '{source_id}'",
                fix="see `exhub runs list --source " + source_id + "`",
            )
        streams = [source.stream(record.stream_name)]
    summaries = []
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
        transient=False,
    ) as bar:
        for item in streams:
            tasks = {
                stage: bar.add_task(f"{source_id}.{item.name} {stage}", total=None)
                for stage in ("extract", "validate", "publish")
            }

            def advance(stage: str, rows: int, tasks: dict = tasks) -> None:
                bar.advance(tasks[stage], rows)

            if replay is not None:
                summary = replay_landing(
                    hub, source, source_file=path, replay_of=replay, progress=advance
                )
            else:
                summary = sync_stream(
                    hub,
                    source,
                    item,
                    source_file=path,
                    full_refresh=full_refresh,
                    trigger=trigger,
                    progress=advance,
                    accept_drift=accept_drift,
                )
            summaries.append(summary)
            for task in tasks.values():
                bar.update(
                    task,
                    total=bar.tasks[task].completed or 1,
                    completed=bar.tasks[task].completed or 1,
                )
    return summaries


def sync(
    source: Annotated[str, typer.Argument(help="source id (file name in sources/ without .yaml)")],
    stream: Annotated[str | None, typer.Option(help="only this stream")] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="re-read everything")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", help="output format")] = Format.TABLE,
    replay: Annotated[
        str | None,
        typer.Option(help="re-publish this run's landing without reading the source"),
    ] = None,
    accept_drift: Annotated[
        bool,
        typer.Option(
            "--accept-drift", help="accept new/changed source columns as the new baseline"
        ),
    ] = False,
) -> None:
    """Sync a source system now: extract → conform + validate → publish."""
    hub = Hub()
    summaries = sync_source(
        hub,
        source,
        stream=stream,
        full_refresh=full_refresh,
        show_progress=fmt is Format.TABLE,
        replay=replay,
        accept_drift=accept_drift,
    )
    rows = [
        {
            "run_id": s.run_id,
            "stream": s.stream,
            "dataset": s.dataset,
            "status": s.status,
            "extracted": s.extracted,
            "published": s.published,
            "quarantined": s.quarantined,
            "deleted": s.deleted,
        }
        for s in summaries
    ]
    if fmt is Format.JSON:
        typer.echo(dumps(rows))
    else:
        emit_rows(rows, list(rows[0]) if rows else [], fmt, f"sync {source}")
