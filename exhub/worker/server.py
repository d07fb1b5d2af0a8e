"""``exhub worker``: a fork server for one hub home.

Each connection is one command. The worker checks that the caller runs as the worker's own
user (the socket is also created 0600), forks, and the child takes over the caller's
stdin/stdout/stderr, working directory and environment, runs the command as ``exhub`` would,
and reports its exit code. The worker itself only imports, accepts and forks: it opens no
catalog, source or warehouse, so every child starts from the same clean state, and settings
and secrets are read by the child from the caller's environment, as a fresh process would.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from exhub.errors import ConfigError
from exhub.forking import fork_safe
from exhub.worker.client import STDIO, receive_message, send_message

log = logging.getLogger(__name__)

# sockaddr_un holds 108 bytes with the terminating NUL; stay clear of it.
MAX_SOCKET_PATH = 100
PEER_CREDENTIALS = struct.Struct("3i")  # pid, uid, gid (SO_PEERCRED)
# The kernel may hand SIGTERM or SIGCHLD to one of the native threads the stack started; then
# nothing interrupts the main thread's accept(), where Python runs its handlers. It wakes this
# often to run them: a stop, or a killed child's report, waits at most this long.
SIGNAL_POLL_SECONDS = 0.5


# The worker's copy of each running child's connection, so that a child killed by a signal
# (which reports nothing itself) is reported to its caller when the worker reaps it; and the
# status of a child reaped before its connection was registered (it died at once).
_callers: dict[int, socket.socket] = {}
_reaped_early: dict[int, int] = {}


class _Stop(Exception):
    """SIGTERM or SIGINT reached the worker: stop accepting, leave running children be."""


def serve(path: Path, *, on_ready: Callable[[float], None] | None = None) -> None:
    """Preload the stack, then serve commands on ``path`` until SIGTERM or Ctrl-C.

    Raises:
        ConfigError: the path is too long for a Unix socket, or a worker already serves it.
    """
    path = Path(path)
    if len(str(path)) > MAX_SOCKET_PATH:
        raise ConfigError(
            f"the worker socket path {path} is longer than {MAX_SOCKET_PATH} characters, "
            "which a Unix socket cannot use",
            fix="set EXHUB_WORKER_SOCKET to a shorter path (for the worker and its callers)",
        )
    _claim(path)
    from exhub.worker.preload import preload

    seconds = preload()
    listener = _listen(path)
    identity = path.stat().st_ino
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    previous_chld = signal.signal(signal.SIGCHLD, _reap)
    listener.settimeout(SIGNAL_POLL_SECONDS)
    try:
        if on_ready is not None:
            on_ready(seconds)
        while True:
            try:
                conn, _ = listener.accept()  # a blocking connection, whatever the timeout
                _fork_for(conn, listener)
            except TimeoutError:
                continue
            except _Stop:
                break
    finally:
        listener.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.signal(signal.SIGCHLD, previous_chld)
        # Another worker may have taken the path over meanwhile: only remove our own socket.
        if path.exists() and path.stat().st_ino == identity:
            path.unlink()


def _claim(path: Path) -> None:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    if not path.is_socket():
        raise ConfigError(f"{path} exists and is not a worker socket", fix="move it away")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        path.unlink()  # left behind by a worker that was killed
        return
    finally:
        probe.close()
    raise ConfigError(
        f"a worker already serves {path}", fix="use it, or stop it (SIGTERM) before starting"
    )


def _listen(path: Path) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Created owner-only from the start: a chmod after bind would leave a window.
    mask = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(mask)
    listener.listen(16)
    return listener


def _raise_stop(signum: int, _frame) -> None:
    raise _Stop(signum)


def _reap(_signum: int, _frame) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = _callers.pop(pid, None)
        if conn is None:
            _reaped_early[pid] = status
        else:
            _finish(conn, pid, status)


def _finish(conn: socket.socket, pid: int, status: int) -> None:
    """Close the worker's copy of a reaped child's connection, reporting a killed child."""
    with conn:
        if os.WIFSIGNALED(status):
            _report_killed(conn, pid, os.WTERMSIG(status))


def _report_killed(conn: socket.socket, pid: int, signum: int) -> None:
    """Tell the caller its command died of ``signum``: the code a shell gives, 128 + N."""
    name = signal.Signals(signum).name
    sys.stderr.write(f"pid {pid}: killed by {name}\n")
    sys.stderr.flush()
    with contextlib.suppress(OSError):  # the caller may have gone too
        send_message(conn, {"exit": 128 + signum, "signal": signum})


def _same_user(conn: socket.socket) -> bool:
    raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, PEER_CREDENTIALS.size)
    _, uid, _ = PEER_CREDENTIALS.unpack(raw)
    return uid == os.getuid()


def _fork_for(conn: socket.socket, listener: socket.socket) -> None:
    if not _same_user(conn):
        conn.close()
        log.warning("refused a command from another user")
        return
    try:
        pid = os.fork()
    except OSError as exc:
        conn.close()  # the caller hears nothing back and runs the command itself
        log.warning("could not fork for a command: %s", exc)
        return
    if pid == 0:
        code = 1
        try:
            listener.close()
            for other in _callers.values():
                other.close()
            _callers.clear()
            code = _child(conn)
        finally:
            os._exit(code)
    _callers[pid] = conn
    # SIGCHLD's handler may have run since the fork: a child that died at once is reported now.
    status = _reaped_early.pop(pid, None)
    if status is not None:
        _finish(_callers.pop(pid), pid, status)


def _child(conn: socket.socket) -> int:
    for sig in (signal.SIGTERM, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.setsid()  # Ctrl-C at the worker's terminal must not reach the callers' commands
    request, fds = receive_message(conn, max_fds=len(STDIO))
    if request is None or len(fds) != len(STDIO):
        return 1
    worker_log = os.fdopen(os.dup(2), "w", buffering=1)
    # Only the command's name: its arguments may hold values the log must not keep.
    command = f"exhub {request['argv'][0]}" if request["argv"] else "exhub"
    started = time.monotonic()
    worker_log.write(f"pid {os.getpid()}: {command} started\n")
    for target, fd in zip(STDIO, fds, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    _fresh_streams()
    send_message(conn, {"pid": os.getpid()})
    # Fork-safe: it only waits in recv() (a sync forks its Great Expectations process).
    fork_safe(threading.Thread(target=_exit_with_caller, args=(conn,), daemon=True)).start()
    code = run_command(request["argv"])
    sys.stdout.flush()
    sys.stderr.flush()
    seconds = time.monotonic() - started
    # Logged before the caller hears back, so the log is complete when the command returns.
    worker_log.write(f"pid {os.getpid()}: {command} exited {code} after {seconds:.2f} s\n")
    send_message(conn, {"exit": code})
    return code


def _exit_with_caller(conn: socket.socket) -> None:
    """The caller went away (killed): stop its command as its own process would have."""
    try:
        while conn.recv(1):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def _fresh_streams() -> None:
    """Python streams and rich consoles for the caller's descriptors and terminal."""
    for name, fd in (("stdout", 1), ("stderr", 2)):
        old = getattr(sys, name)
        stream = io.TextIOWrapper(
            io.FileIO(fd, "w", closefd=False),
            encoding=old.encoding,
            errors=old.errors,
            line_buffering=os.isatty(fd),
            write_through=name == "stderr",
        )
        setattr(sys, name, stream)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding=sys.stdin.encoding)
    from exhub.cli import output

    # Colour and width were decided for the worker's terminal when they were created.
    output.console.__init__()
    output.err_console.__init__(stderr=True)


def run_command(argv: list[str]) -> int:
    """Run ``exhub ARGV`` in this process, as the ``exhub`` command would; its exit code."""
    from exhub.cli.main import run_here

    sys.argv = ["exhub", *argv]
    try:
        run_here()
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        sys.stderr.write(f"{exc.code}\n")
        return 1
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except BaseException:
        traceback.print_exc()
        return 1
    return 0
