"""The worker's fork step, in this process: what a caller hears when no child can be made."""

from __future__ import annotations

import os
import socket

import pytest

from exhub.worker import server

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
