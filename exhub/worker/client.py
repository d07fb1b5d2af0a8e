"""The ``exhub`` command's side: hand the command to a running worker, if there is one.

Standard library only: this runs before anything heavy is imported, on every command.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys
from pathlib import Path

SOCKET_ENV = "EXHUB_WORKER_SOCKET"
# Commands that must not run in a worker's child: the worker itself, and long-running
# servers (a child of the worker would outlive the reason it was started for).
LOCAL_COMMANDS = frozenset({"worker", "serve"})
HEADER = struct.Struct("!I")
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# The command's own streams, passed to the worker's child as they are.
STDIO = (0, 1, 2)
# Nobody said how the worker's child ended (the worker died too): EX_SOFTWARE.
LOST_EXIT_CODE = 70


def socket_path(environ: os._Environ | dict | None = None, cwd: str | None = None) -> Path:
    """Where the hub's worker listens: ``$EXHUB_WORKER_SOCKET``, else in the home's ``.exhub``.

    The home is found as the settings find it: ``$EXHUB_HOME``, else the working directory.
    """
    environ = os.environ if environ is None else environ
    if explicit := environ.get(SOCKET_ENV):
        return Path(explicit)
    home = Path(environ.get("EXHUB_HOME") or cwd or os.getcwd())
    return home.resolve() / ".exhub" / "worker.sock"


def send_message(sock: socket.socket, message: dict, fds: tuple[int, ...] = ()) -> None:
    """One length-prefixed JSON message (with file descriptors riding on its first byte)."""
    body = json.dumps(message).encode()
    data = HEADER.pack(len(body)) + body
    if fds:
        sent = socket.send_fds(sock, [data], list(fds))
        data = data[sent:]
    sock.sendall(data)


def receive_message(sock: socket.socket, *, max_fds: int = 0) -> tuple[dict | None, list[int]]:
    """The next message and the file descriptors sent with it; None when the peer closed."""
    fds: list[int] = []
    if max_fds:
        data, fds, _, _ = socket.recv_fds(sock, HEADER.size, max_fds)
    else:
        data = sock.recv(HEADER.size)
    data = _read_exactly(sock, data, HEADER.size)
    if data is None:
        return None, fds
    (length,) = HEADER.unpack(data)
    body = _read_exactly(sock, b"", length)
    if body is None:
        return None, fds
    return json.loads(body), fds


def _read_exactly(sock: socket.socket, data: bytes, size: int) -> bytes | None:
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def delegate(argv: list[str]) -> int | None:
    """Run the command in the hub's worker and return its exit code; None without a worker.

    A socket nobody listens on (a worker that was killed) is not an error: the command runs
    here. Signals the command receives (Ctrl-C, SIGTERM) go on to the worker's child.
    """
    if argv and argv[0] in LOCAL_COMMANDS:
        return None
    path = socket_path()
    if not path.is_socket():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None
    with sock:
        request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}
        send_message(sock, request, STDIO)
        started, _ = receive_message(sock)
        if started is None:  # the worker refused or died before forking
            return None
        child = int(started["pid"])
        forwarded: list[int] = []
        previous = {
            sig: signal.signal(sig, _forward_to(child, forwarded)) for sig in FORWARDED_SIGNALS
        }
        try:
            finished, _ = receive_message(sock)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    if finished is not None:
        signum = finished.get("signal")
        if signum is not None and signum not in forwarded:
            # Not one this process passed on: someone else (the OOM killer, an operator)
            # killed the command, which a shell would have said.
            sys.stderr.write(
                f"error: the exhub worker's process {child} was killed by "
                f"{signal.Signals(signum).name}; see the worker's log\n"
            )
        return int(finished["exit"])
    if forwarded:  # it ended on the signal it was sent, as this process would have
        return 128 + forwarded[-1]
    sys.stderr.write(
        f"error: the exhub worker's process {child} ended without an exit status "
        "(killed or crashed); see the worker's log\n"
    )
    return LOST_EXIT_CODE


def _forward_to(pid: int, forwarded: list[int]):
    def forward(signum: int, _frame) -> None:
        forwarded.append(signum)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    return forward
