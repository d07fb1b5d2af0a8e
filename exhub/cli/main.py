"""Entry point of the ``exhub`` command.

Kept light on purpose: a running ``exhub worker`` for this home is asked first (standard
library only, milliseconds); otherwise the application and the stack behind it are imported
here, inside ``run_here``, with the garbage collector paused (see :mod:`exhub.gc_pause`).
"""

from __future__ import annotations

import sys

from exhub import gc_pause
from exhub.interrupts import ended_by_ctrl_c
from exhub.worker.client import delegate

EXIT_INTERRUPTED = 130  # what a shell reports for a command ended by SIGINT (128 + 2)


def run() -> None:
    """Run the command in this home's worker when one is running, else in this process."""
    try:
        code = delegate(sys.argv[1:])
    except KeyboardInterrupt:  # before the worker's child took the command over
        sys.exit(EXIT_INTERRUPTED)
    if code is not None:
        sys.exit(code)
    run_here()


def run_here() -> None:
    """Run the CLI, turning exhub errors into a clear message and the SPEC exit code.

    Usage errors (missing argument, unknown option) are Typer's own: it prints the usage and
    exits 2, as SPEC §5 wants for usage errors. Ctrl-C ends the command with the shell's code
    130 and no traceback, whenever it comes (Typer covers the command, this the start-up),
    also when DuckDB caught it first or an extension module turned it into an ImportError.
    """
    try:
        _run_app()
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if ended_by_ctrl_c(exc):
            sys.exit(EXIT_INTERRUPTED)
        raise


def _run_app() -> None:
    with gc_pause.paused():
        from rich.markup import escape

        from exhub.cli.app import app
        from exhub.cli.output import err_console
        from exhub.errors import ExhubError

    try:
        app()
    except ExhubError as exc:
        err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        if exc.fix:
            err_console.print(f"[bold]fix:[/] {escape(exc.fix)}", highlight=False)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    run()
