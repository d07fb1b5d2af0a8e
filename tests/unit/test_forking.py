"""A fork is allowed only while every other thread is one marked safe to leave behind."""

from __future__ import annotations

import threading

import pytest

from exhub import forking
from exhub.forking import fork_safe, may_fork

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def no_native_threads(monkeypatch):
    """DuckDB may have started in this test process already: these tests are about threads."""
    monkeypatch.setattr(forking, "_native_threads", set())


def _waiting(release: threading.Event, *, safe: bool) -> threading.Thread:
    thread = threading.Thread(target=release.wait, daemon=True)
    if safe:
        fork_safe(thread)
    thread.start()
    return thread


@pytest.mark.parametrize("safe", [True, False])
def test_another_thread_rules_a_fork_out_unless_marked_safe(safe, monkeypatch):
    release = threading.Event()
    thread = _waiting(release, safe=safe)
    current = threading.current_thread()
    # Only these two: threads earlier tests left in this process are not this test's.
    monkeypatch.setattr(threading, "enumerate", lambda: [current, thread])
    try:
        assert may_fork() is safe
    finally:
        release.set()
        thread.join()


def test_a_thread_of_the_run_rules_a_fork_out_beside_a_safe_one(monkeypatch):
    release = threading.Event()
    safe, unsafe = _waiting(release, safe=True), _waiting(release, safe=False)
    current = threading.current_thread()
    monkeypatch.setattr(threading, "enumerate", lambda: [current, safe])
    assert may_fork()
    monkeypatch.setattr(threading, "enumerate", lambda: [current, safe, unsafe])
    assert not may_fork()
    release.set()
    safe.join()
    unsafe.join()
