"""``exhub serve``: the portal and HTTP API for departments, owners and auditors."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8080,
) -> None:
    """Serve the portal (http://HOST:PORT/) and the HTTP API (/api, docs at /api/docs).

    Who may sign in is configured in exhub.yaml under serve_tokens: operator, auditor and
    department ids, each with a ${ENV_VAR} reference to its token. Put TLS in front (a
    reverse proxy) when the hub is reached over a network.
    """
    import uvicorn

    from exhub.serve import create_app

    app = create_app()
    typer.echo(f"exhub portal on http://{host}:{port}/  (API docs: /api/docs; Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
