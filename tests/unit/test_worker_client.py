"""Where the ``exhub`` command looks for its home's worker (no worker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exhub.worker.client import delegate, socket_path

pytestmark = pytest.mark.unit


def test_the_socket_is_in_the_homes_state_folder_unless_named(tmp_path):
    assert socket_path({"EXHUB_HOME": str(tmp_path)}) == tmp_path / ".exhub" / "worker.sock"
    assert socket_path({}, cwd=str(tmp_path)) == tmp_path / ".exhub" / "worker.sock"
    named = {"EXHUB_HOME": str(tmp_path), "EXHUB_WORKER_SOCKET": "/run/exhub/w.sock"}
    assert socket_path(named) == Path("/run/exhub/w.sock")


def test_without_a_worker_the_command_runs_here(hub_home):
    assert delegate(["sources", "list"]) is None
    (hub_home / ".exhub").mkdir()
    (hub_home / ".exhub" / "worker.sock").write_text("not a socket")
    assert delegate(["sources", "list"]) is None
