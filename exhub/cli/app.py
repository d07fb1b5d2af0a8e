"""The ``exhub`` Typer application: one command group per module."""

from __future__ import annotations

import typer

from exhub.cli import (
    access,
    audit,
    datasets,
    demo,
    maintain,
    quarantine,
    query,
    runs,
    serve,
    sources,
    sync,
    worker,
)

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
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.add_typer(sources.app, name="sources")
app.add_typer(datasets.app, name="datasets")
app.add_typer(runs.app, name="runs")
app.add_typer(quarantine.app, name="quarantine")
app.add_typer(audit.app, name="audit")
app.add_typer(access.access_app, name="access")
app.add_typer(access.grants_app, name="grants")
