"""The worker's fork step, in this process: what a caller hears when no child can be made."""

from __future__ import annotations

import os
import signal
import socket

import pytest

from exhub.worker import server
from exhub.worker.client import receive_message

pytestmark = pytest.mark.unit


def test_a_failed_fork_closes_the_callers_connection_and_the_worker_carries_on(monkeypatch):
    def no_more_processes():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_more_processes)
    caller, accepted = socket.socketpair()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server._fork_for(accepted, listener)  # returns: the worker's loop goes on
        assert accepted.fileno() == -1
        assert caller.recv(1) == b""  # the caller sees the end, so it runs the command itself
        assert not server._callers
    finally:
        caller.close()
        listener.close()


def test_a_child_reaped_before_its_caller_was_registered_is_still_reported(monkeypatch, capsys):
    child = 4242
    # SIGCHLD's handler ran between the fork and the registration: it kept the status.
    monkeypatch.setattr(os, "fork", lambda: server._reaped_early.update({child: 9}) or child)
    caller, accepted = socket.socketpair()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server._fork_for(accepted, listener)
        report, _ = receive_message(caller)
        assert report == {"exit": 128 + signal.SIGKILL, "signal": signal.SIGKILL}
        assert caller.recv(1) == b""  # and the worker's copy of the connection is closed
        assert not server._callers and not server._reaped_early
        assert f"pid {child}: killed by SIGKILL" in capsys.readouterr().err
    finally:
        caller.close()
        listener.close()
