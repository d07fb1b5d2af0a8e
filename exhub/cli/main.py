"""Entry point of the ``exhub`` command."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from exhub.cli import datasets, demo, maintain, quarantine, query, runs, sources, sync
from exhub.cli.output import err_console
from exhub.errors import ExhubError

app = typer.Typer(
    name="exhub",
    help="exhub: inter-department data exchange hub. Legacy systems in, validated, versioned "
    "Iceberg datasets out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("demo")(demo.demo)
app.command("sync")(sync.sync)
app.command("query")(query.query)
app.command("maintain")(maintain.maintain)
app.add_typer(sources.app, name="sources")
app.add_typer(datasets.app, name="datasets")
app.add_typer(runs.app, name="runs")
app.add_typer(quarantine.app, name="quarantine")


def run() -> None:
    """Run the CLI, turning exhub errors into a clear message and the SPEC exit code.

    Usage errors (missing argument, unknown option) are Typer's own: it prints the usage and
    exits 2, as SPEC §5 wants for usage errors.
    """
    try:
        app()
    except ExhubError as exc:
        err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        if exc.fix:
            err_console.print(f"[bold]fix:[/] {escape(exc.fix)}", highlight=False)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    run()
