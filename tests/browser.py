"""Browser-test helpers: serve an ASGI app on a free local port for a real browser to visit.

The browser itself comes from the ``chromium`` / ``browser_page`` fixtures in
``tests/conftest.py`` (Playwright driving Debian's Chromium at /usr/bin/chromium).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 10.0


def _bound_socket() -> socket.socket:
    # Bound here and handed to uvicorn, so no other process can take the port in between.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    return sock


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Run ``app`` (any ASGI app) with uvicorn in a background thread; yield its base URL.

    The URL is ``http://127.0.0.1:<port>`` on a free port. The server is stopped and its
    thread joined when the block exits.
    """
    sock = _bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"live-server-{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not (server.started and _accepts_connections(port)):
            if not thread.is_alive():
                raise RuntimeError(f"live server on port {port} exited before it started")
            if time.monotonic() > deadline:
                raise RuntimeError(f"live server on port {port} did not start in 10 s")
            time.sleep(0.02)
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)
        sock.close()
