"""``exhub worker``: commands run in its forked children and answer as a fresh process would.

Every check goes through the real ``exhub`` entry point in a subprocess: the client finds
the socket, the worker forks, the child takes over the caller's streams, working directory
and environment. The worker's log names each child and its exit code, which is how the
tests know a command really ran there.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import EXHUB, run_exhub

pytestmark = pytest.mark.e2e


def _environ(home: Path, sock: Path, **extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EXHUB_")}
    return environ | {"EXHUB_HOME": str(home), "EXHUB_WORKER_SOCKET": str(sock), **extra}


def _wait_for(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


class Worker:
    """A running ``exhub worker`` whose stderr goes to a file the test reads."""

    def __init__(self, home: Path, sock: Path) -> None:
        self.home, self.sock = home, sock
        self.log_path = home / "worker.log"
        self.log_file = self.log_path.open("w")
        self.process = subprocess.Popen(
            [*EXHUB, "worker"], cwd=home, env=_environ(home, sock),
            stdout=self.log_file, stderr=self.log_file,
        )  # fmt: skip
        _wait_for(lambda: "ready" in self.log() or self.process.poll() is not None, "the worker")
        assert self.process.poll() is None, self.log()

    def log(self) -> str:
        return self.log_path.read_text()

    def children(self, command: str) -> list[tuple[int, int]]:
        """(pid, exit code) of every finished child that ran ``exhub COMMAND``."""
        found = re.findall(rf"pid (\d+): exhub {command} exited (-?\d+)", self.log())
        return [(int(pid), int(code)) for pid, code in found]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log_file.close()


@pytest.fixture
def short_socket() -> Iterator[Path]:
    # pytest's tmp paths can outgrow a Unix socket's 108 bytes: keep this one short.
    folder = Path(tempfile.mkdtemp(prefix="exw", dir="/tmp"))
    try:
        yield folder / "w.sock"
    finally:
        for item in folder.iterdir():
            item.unlink()
        folder.rmdir()


@pytest.fixture
def worker(deployment, short_socket) -> Iterator[Worker]:
    home, _ = deployment
    running = Worker(home, short_socket)
    try:
        yield running
    finally:
        running.stop()


def test_commands_run_in_the_worker_with_the_callers_streams_and_exit_codes(worker):
    home, sock = worker.home, worker.sock
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    env = {"EXHUB_WORKER_SOCKET": str(sock)}

    synced = run_exhub("sync", "ps_hukou", "--format", "json", home=home, env=env)
    assert synced.returncode == 0, synced.stderr
    (summary,) = json.loads(synced.stdout)
    assert summary["status"] == "succeeded" and summary["published"] > 0
    assert [code for _, code in worker.children("sync")] == [0]

    missing = run_exhub("datasets", "show", "nosuch", home=home, env=env)
    assert missing.returncode == 2
    assert "no dataset 'nosuch'" in missing.stderr and missing.stdout == ""
    assert [code for _, code in worker.children("datasets")] == [2]

    # What a fresh process answers, without the worker.
    alone = run_exhub("datasets", "list", "--format", "json", home=home)
    served = run_exhub("datasets", "list", "--format", "json", home=home, env=env)
    assert served.returncode == alone.returncode == 0
    assert json.loads(served.stdout) == json.loads(alone.stdout)
    assert len(worker.children("datasets")) == 2
    assert all(pid != worker.process.pid for pid, _ in worker.children("datasets"))

    # A second worker and the portal are long-running: they never run in a worker's child.
    for command in ("worker", "serve"):
        assert run_exhub(command, "--help", home=home, env=env).returncode == 0
        assert f"exhub {command} started" not in worker.log()


def test_a_sync_in_the_worker_runs_great_expectations_in_a_forked_process(worker):
    home, sock = worker.home, worker.sock
    env = {"EXHUB_WORKER_SOCKET": str(sock), "EXHUB_LOG_LEVEL": "INFO"}
    synced = run_exhub("sync", "ps_hukou", "--format", "json", home=home, env=env)
    assert synced.returncode == 0, synced.stderr
    (summary,) = json.loads(synced.stdout)
    [(child, _)] = worker.children("sync")
    forked = re.findall(
        r"Great Expectations checks this run's sample in process (\d+)", synced.stderr
    )
    assert forked and int(forked[0]) not in (child, worker.process.pid), synced.stderr
    reports = home / ".exhub" / "warehouse" / "reports" / summary["dataset"] / summary["run_id"]
    report = json.loads((reports / "validation.json").read_text())
    assert report["great_expectations_note"] is None
    assert report["great_expectations"]["results"]  # the forked process's result came back


def test_the_child_takes_the_callers_working_directory_and_environment(worker):
    home, sock = worker.home, worker.sock
    environ = _environ(home, sock)
    del environ["EXHUB_HOME"]  # the home is then the working directory, as without a worker
    listed = subprocess.run(
        [*EXHUB, "sources", "list", "--format", "json"], cwd=home, env=environ,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert [s["id"] for s in json.loads(listed.stdout)] == ["ps_hukou"]
    elsewhere = subprocess.run(
        [*EXHUB, "sources", "list", "--format", "json"], cwd=home / "legacy_world",
        env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert elsewhere.returncode == 0, elsewhere.stderr
    # The generated world's own sources/ folder: a different home, found from the cwd.
    expected = {path.stem for path in (home / "legacy_world" / "sources").glob("*.yaml")}
    assert {s["id"] for s in json.loads(elsewhere.stdout)} == expected != {"ps_hukou"}
    assert [code for _, code in worker.children("sources")] == [0, 0]


SLOW_QUERY = "SELECT sum(i) FROM range(100000000000) t(i)"


def _start_slow(worker: Worker) -> tuple[subprocess.Popen, int]:
    """A query that runs until stopped, started through the worker; (caller, child pid)."""
    before = worker.log().count("exhub query started")
    caller = subprocess.Popen(
        [*EXHUB, "query", SLOW_QUERY], cwd=worker.home, env=_environ(worker.home, worker.sock),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    _wait_for(lambda: worker.log().count("exhub query started") > before, "the query")
    pids = re.findall(r"pid (\d+): exhub query started", worker.log())
    return caller, int(pids[-1])


def test_signals_reach_the_child_and_a_killed_caller_takes_its_child_along(worker):
    caller, child = _start_slow(worker)
    caller.send_signal(signal.SIGTERM)
    assert caller.wait(timeout=60) == 128 + signal.SIGTERM
    _wait_for(lambda: not _alive(child), "the child to end on SIGTERM", timeout=60)
    assert "was killed" not in caller.stderr.read()  # the caller asked for it

    caller, child = _start_slow(worker)
    caller.kill()  # no chance to forward anything: the child notices its caller is gone
    caller.wait(timeout=30)
    _wait_for(lambda: not _alive(child), "the orphaned child to stop", timeout=60)

    assert worker.process.poll() is None  # the worker itself carries on
    again = run_exhub(
        "sources", "list", home=worker.home, env={"EXHUB_WORKER_SOCKET": str(worker.sock)}
    )
    assert again.returncode == 0


def test_a_child_killed_from_outside_gives_its_caller_the_shells_code_and_a_reason(worker):
    caller, child = _start_slow(worker)
    os.kill(child, signal.SIGKILL)  # as the OOM killer would
    _, stderr = caller.communicate(timeout=60)
    assert caller.returncode == 128 + signal.SIGKILL
    assert f"process {child} was killed by SIGKILL" in stderr
    assert f"pid {child}: killed by SIGKILL" in worker.log()
    assert worker.process.poll() is None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_stale_socket_falls_back_and_a_second_worker_is_refused(deployment, short_socket):
    home, _ = deployment
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(short_socket))
    stale.close()  # a socket file nobody listens on: a worker that was killed
    env = {"EXHUB_WORKER_SOCKET": str(short_socket)}
    listed = run_exhub("sources", "list", home=home, env=env)
    assert listed.returncode == 0 and "ps_hukou" in listed.stdout

    first = Worker(home, short_socket)  # replaces the stale socket
    try:
        second = subprocess.run(
            [*EXHUB, "worker"], cwd=home, env=_environ(home, short_socket),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert second.returncode == 2
        assert f"a worker already serves {short_socket}" in second.stderr
    finally:
        first.stop()
    assert first.process.returncode == 0
    assert not short_socket.exists()  # removed on SIGTERM: the next command runs alone
    assert run_exhub("sources", "list", home=home, env=env).returncode == 0


def test_a_socket_path_too_long_is_a_clear_error(deployment):
    home, _ = deployment
    too_long = Path("/tmp") / ("x" * 120) / "w.sock"
    result = subprocess.run(
        [*EXHUB, "worker", "--socket", str(too_long)], cwd=home, env=_environ(home, too_long),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "EXHUB_WORKER_SOCKET" in result.stderr and not too_long.parent.exists()
