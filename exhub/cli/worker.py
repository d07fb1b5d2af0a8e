"""``exhub worker``: keep the stack imported and run this home's commands warm."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def worker(
    socket: Annotated[
        Path | None,
        typer.Option(
            help="Unix socket to listen on (default: $EXHUB_WORKER_SOCKET, else "
            ".exhub/worker.sock in the hub's home); callers must find the same path",
        ),
    ] = None,
) -> None:
    """Keep exhub's stack imported and run this home's `exhub` commands in forked children.

    A fresh command spends seconds importing its libraries before it starts; with a worker
    running, `exhub sync` (and every other command run by the same user in this home) is
    handed to the worker and starts at once, with the caller's terminal, environment and
    working directory. Stop it with Ctrl-C or SIGTERM; commands already running finish.
    Without a worker, commands run in their own process as usual. The worker keeps the code
    it imported: restart it after upgrading exhub.
    """
    from exhub.worker.client import socket_path
    from exhub.worker.server import serve

    path = socket or socket_path()

    def ready(seconds: float) -> None:
        typer.echo(
            f"exhub worker ready on {path} (stack imported in {seconds:.1f} s); Ctrl-C stops",
            err=True,
        )

    serve(path, on_ready=ready)
