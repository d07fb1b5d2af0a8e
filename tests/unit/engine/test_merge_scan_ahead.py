"""A merge scanned ahead of its commit: used while the table is unchanged, redone when not."""

from __future__ import annotations

import pytest

import exhub.publish.commit as commit_module
from exhub.publish import commit_run
from exhub.publish.merge_scan import start_merge_preparation
from tests.unit.engine.test_merge_on_read_keys import (  # noqa: F401
    KEY,
    permits,
    scan_ahead,
    stage,
    visible,
)

pytestmark = pytest.mark.unit

FIRST = [("340102", 1, "张三"), ("340102", 2, "李四"), ("340103", 1, "王五")]


@pytest.fixture
def scans(monkeypatch):
    """Counts the scans that commits make (a scan ahead runs before this counts)."""
    made = []
    real = commit_module.scan_merge

    def counting(*args, **kwargs):
        made.append(kwargs["source_id"])
        return real(*args, **kwargs)

    monkeypatch.setattr(commit_module, "scan_merge", counting)
    return made


def _first_load(contract, table, folder) -> None:
    files = [stage(contract, folder, "r1", FIRST)]
    commit_run(table, files, run_id="r1", source_id="s1", full_refresh=True, primary_key=KEY)


def _scanned_ahead(permits, run_id: str, rows):  # noqa: F811
    """The first load committed, then ``rows`` staged and their merge scanned ahead."""
    contract, table, folder = permits
    _first_load(contract, table, folder)
    files = [stage(contract, folder, run_id, rows)]
    ahead = scan_ahead(table, files)
    ahead.result()
    return files, ahead


def _merge(table, files, run_id: str, ahead=None):
    return commit_run(
        table,
        files,
        run_id=run_id,
        source_id="s1",
        full_refresh=False,
        primary_key=KEY,
        scan_ahead=ahead,
    )


def test_the_commit_uses_a_scan_made_on_the_same_snapshot(permits, scans):  # noqa: F811
    table = permits[1]
    files, ahead = _scanned_ahead(permits, "r2", [("340102", 2, "李四（新）")])
    scans.clear()
    result = _merge(table, files, "r2", ahead)
    assert scans == []  # nothing scanned again
    assert result.rows_replaced == 1
    assert visible(table) == [
        ("340102", 1, "张三"),
        ("340102", 2, "李四（新）"),
        ("340103", 1, "王五"),
    ]


def test_a_commit_landing_after_the_scan_makes_the_merge_scan_again(permits, scans):  # noqa: F811
    contract, table, folder = permits
    files, ahead = _scanned_ahead(permits, "r3", [("340103", 1, "王五（新）")])
    # Another run of the source commits a new version of the same key in between.
    between = [stage(contract, folder, "r2", [("340103", 1, "王五（旧）")])]
    _merge(table, between, "r2")
    scans.clear()
    _merge(table, files, "r3", ahead)
    assert scans == ["s1"]
    # Stale positions would have masked the old row again and left r2's version visible.
    assert visible(table) == [
        ("340102", 1, "张三"),
        ("340102", 2, "李四"),
        ("340103", 1, "王五（新）"),
    ]


def test_a_scan_that_failed_ahead_is_made_again_by_the_commit(permits, scans):  # noqa: F811
    contract, table, folder = permits
    _first_load(contract, table, folder)
    files = [stage(contract, folder, "r2", [("340102", 1, "张三（新）")])]

    def unreachable_catalog():
        raise OSError("catalog unreachable")

    prepared = start_merge_preparation(unreachable_catalog, source_id="s1", key=KEY)
    ahead = scan_ahead(table, files, prepared)
    assert ahead.exception() is not None  # waits for it
    scans.clear()
    _merge(table, files, "r2", ahead)
    assert scans == ["s1"]
    assert ("340102", 1, "张三（新）") in visible(table)
