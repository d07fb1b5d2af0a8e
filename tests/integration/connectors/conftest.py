import socket
import subprocess
import time
from pathlib import Path

import pytest

# Detailed assertion messages from the shared behaviour suite.
pytest.register_assert_rewrite("connectors.testing")

HOST = "127.0.0.1"


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((HOST, port)) == 0


def _ensure_running(port: int, command: list[str]) -> None:
    if _port_open(port):
        return
    subprocess.run(command, check=False, capture_output=True, timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _port_open(port):
            return
        time.sleep(0.5)
    pytest.fail(f"no database server on {HOST}:{port}, and `{' '.join(command)}` did not start one")


@pytest.fixture(scope="session")
def postgresql_running() -> None:
    """The local PostgreSQL (127.0.0.1:5432), started when it is down."""
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*"))
    start = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1] if versions else "15"]
    _ensure_running(5432, [*start, "main", "start"])


@pytest.fixture(scope="session")
def mariadb_running() -> None:
    """The local MariaDB (127.0.0.1:3306), started when it is down."""
    command = ["start-stop-daemon", "--start", "--oknodo", "--background"]
    _ensure_running(3306, [*command, "--exec", "/usr/sbin/mariadbd"])
