"""Key indexes find exactly the rows a join of the keys finds; kept, checked, rebuilt, cleaned."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from exhub.engine.sync import sync_stream
from exhub.publish import commit_run, key_index
from exhub.publish.maintenance import maintain
from exhub.publish.merge_scan import scan_merge, start_merge_preparation
from tests.support import hukou_hub
from tests.unit.engine.test_merge_on_read_keys import (  # noqa: F401
    KEY,
    permits,
    scan_ahead,
    stage,
    visible,
)

pytestmark = pytest.mark.unit


def _join_truth(con, path: str, key: list[str]) -> tuple[np.ndarray, np.ndarray]:
    columns = ", ".join(f'"{k}"' for k in key)
    found = con.execute(
        "SELECT DISTINCT file_row_number AS pos, _exhub_replaced "
        f"FROM read_parquet(?, file_row_number=true) JOIN doomed USING ({columns}) ORDER BY 1",
        [path],
    ).fetchnumpy()
    return np.asarray(found["pos"], np.int64), np.asarray(found["_exhub_replaced"], bool)


@pytest.mark.parametrize(
    ("key", "columns"),
    [
        (["id"], "'34' || lpad((range * 7919 % 100003)::VARCHAR, 16, '0') AS id"),
        # repeated keys (legacy duplicates) and a NULL key that must match nothing
        (["id"], "CASE WHEN range % 97 = 0 THEN NULL ELSE (range % 40000)::VARCHAR END AS id"),
        (["district", "no"], "(340100 + range % 7)::VARCHAR AS district, range // 7 AS no"),
    ],
)
def test_lookups_find_exactly_the_rows_a_join_of_the_keys_finds(tmp_path, key, columns):
    con = duckdb.connect()
    path = str(tmp_path / "data.parquet")
    con.execute(f"COPY (SELECT {columns} FROM range(60000)) TO '{path}'")
    picked = ", ".join(f'"{k}"' for k in key)
    con.execute(
        f"CREATE TABLE doomed AS SELECT DISTINCT {picked}, hash({picked}) % 3 = 0 "
        f"AS _exhub_replaced FROM read_parquet('{path}') WHERE hash({picked}) % 50 = 0"
    )
    index = key_index.build(con, path, key)
    positions, replaced = key_index.match(index, key_index.wanted(con, "doomed", key))
    truth_positions, truth_replaced = _join_truth(con, path, key)
    assert positions.size > 500
    np.testing.assert_array_equal(positions, truth_positions)
    np.testing.assert_array_equal(replaced, truth_replaced)


def test_keys_typed_differently_on_either_side_still_match(tmp_path):
    """A key read back as 32-bit integers finds rows whose key was written as 64-bit."""
    con = duckdb.connect()
    path = str(tmp_path / "data.parquet")
    con.execute(f"COPY (SELECT range::BIGINT AS no FROM range(1000)) TO '{path}'")
    con.execute("CREATE TABLE doomed AS SELECT 7::INTEGER AS no, true AS _exhub_replaced")
    index = key_index.build(con, path, ["no"])
    positions, replaced = key_index.match(index, key_index.wanted(con, "doomed", ["no"]))
    assert positions.tolist() == [7] and replaced.tolist() == [True]


def test_rows_whose_first_hashes_collide_are_told_apart_by_the_second():
    high = np.uint64(0xFFFFFFFF00000000)
    index = np.array(
        [[5, 9, 9, 9, 12], [(1 << 32) | 0, (2 << 32) | 1, (3 << 32) | 2, (4 << 32) | 3, 4]],
        np.uint64,
    )
    wanted = key_index.Wanted(
        np.array([9], np.uint64), np.array([3 << 32], np.uint64) & high, np.array([True])
    )
    positions, replaced = key_index.match(index, wanted)
    assert positions.tolist() == [2] and replaced.tolist() == [True]


def test_an_index_that_does_not_fit_its_data_file_is_not_used(tmp_path):
    path = tmp_path / "f.parquet.deadbeef.npy"
    index = np.array([[1, 2], [3, 4]], np.uint64)
    key_index.save(index, path, record_count=2)
    assert key_index.load(path, 2).tolist() == index.tolist()
    assert key_index.load(path, 3) is None  # another file of the same name
    path.write_bytes(path.read_bytes()[:60])  # cut short
    assert key_index.load(path, 2) is None
    np.save(path, np.zeros((2, 3), np.uint64))  # no header
    assert key_index.load(path, 2) is None
    assert key_index.load(tmp_path / "missing.npy", 2) is None


def test_an_index_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    path = tmp_path / "deep" / "f.parquet.deadbeef.npy"

    def disk_full(handle, array):
        handle.write(b"\x93NUMPY")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "save", disk_full)
    with pytest.raises(OSError):
        key_index.save(np.zeros((2, 4), np.uint64), path, record_count=4)
    assert list(path.parent.iterdir()) == []


def test_index_and_data_paths_map_both_ways(tmp_path):
    location = f"file://{tmp_path}/warehouse/t"
    data = f"{tmp_path}/warehouse/t/data/_source=s1/run-00000.parquet"
    index = key_index.index_path(location, data)
    assert index.parent == tmp_path / "warehouse" / "t" / key_index.FOLDER / "data" / "_source=s1"
    assert key_index.fingerprint() in index.name
    assert str(key_index.data_path_of(index, location)) == data
    assert key_index.index_path(location, f"{tmp_path}/elsewhere/run.parquet") is None


def _index_files(table) -> dict[Path, float]:
    root = Path(table.location().removeprefix("file://")) / key_index.FOLDER
    return {p: p.stat().st_mtime_ns for p in root.rglob("*.npy")}


def _data_folder(table) -> Path:
    """Where the engine stages a run's files: in the table's folder, where indexes are kept."""
    return Path(table.location().removeprefix("file://")) / "data" / "_source=s1"


def _merge(table, files, run_id, ahead=None):
    return commit_run(
        table, files, run_id=run_id, source_id="s1", full_refresh=False, primary_key=KEY,
        scan_ahead=ahead,
    )  # fmt: skip


def test_a_merge_builds_missing_indexes_once_and_uses_them_after(permits):  # noqa: F811
    contract, table, _ = permits
    folder = _data_folder(table)
    first = [("340102", 1, "张三"), ("340102", 2, "李四"), ("340103", 1, "王五")]
    _merge(table, [stage(contract, folder, "r1", first)], "r1")
    assert _index_files(table) == {}  # the first publish has nothing to merge into
    _merge(table, [stage(contract, folder, "r2", [("340102", 2, "李四（新）")])], "r2")
    built = _index_files(table)
    assert len(built) == 1  # r1's file
    _merge(table, [stage(contract, folder, "r3", [("340103", 1, "王五（新）")])], "r3")
    after = _index_files(table)
    assert {p: after[p] for p in built} == built  # kept, not built again
    assert len(after) == 2  # r2's file got its own
    assert visible(table) == [
        ("340102", 1, "张三"),
        ("340102", 2, "李四（新）"),
        ("340103", 1, "王五（新）"),
    ]


def test_a_damaged_index_is_built_again_and_the_merge_stays_right(permits):  # noqa: F811
    contract, table, _ = permits
    folder = _data_folder(table)
    first = [("340102", 1, "张三"), ("340102", 2, "李四"), ("340103", 1, "王五")]
    _merge(table, [stage(contract, folder, "r1", first)], "r1")
    _merge(table, [stage(contract, folder, "r2", [("340102", 1, "张三（新）")])], "r2")
    (damaged,) = _index_files(table)
    np.save(damaged, np.zeros((2, 3), np.uint64))  # no header: not an index of that file
    _merge(table, [stage(contract, folder, "r3", [("340103", 1, "王五（新）")])], "r3")
    assert visible(table) == [
        ("340102", 1, "张三（新）"),
        ("340102", 2, "李四"),
        ("340103", 1, "王五（新）"),
    ]
    assert key_index.load(damaged, 3) is not None  # rebuilt for r1's three rows


def test_maintain_deletes_indexes_of_files_no_snapshot_references(hub_home):
    hub, source, path, _ = hukou_hub(hub_home, scale=0.05, compact_min_files=2)
    for _ in range(4):
        sync_stream(hub, source, source.streams[0], source_file=path)
    table = hub.iceberg.load_table(("population", "person"))
    root = Path(table.location().removeprefix("file://")) / key_index.FOLDER
    indexes = set(root.rglob("*.npy"))
    assert indexes  # the merges built them
    stray = root / "data" / "_source=ps_hukou" / ".x.parquet.deadbeef.npy.123.tmp"
    stray.write_bytes(b"\x93NUMPY")  # a crash mid-write
    week_ago = time.time() - 7 * 86400
    for index in [*indexes, stray]:
        os.utime(index, (week_ago, week_ago))

    now = datetime.now(UTC) + timedelta(days=40)  # every old snapshot is past retention
    report = {r.dataset: r for r in maintain(hub, now=now)}["person"]
    assert report.files_compacted >= 2  # compaction left the indexed files unreferenced
    table.refresh()
    paths = table.inspect.all_files().column("file_path").to_pylist()
    referenced = {p.removeprefix("file://") for p in paths}  # by any snapshot left
    left = set(root.rglob("*"))
    assert stray not in left
    for index in indexes:
        data = str(key_index.data_path_of(index, table.location()))
        assert (index in left) == (data in referenced)
    assert indexes - left  # files the expired snapshots alone referenced
    assert report.key_indexes_deleted == len(indexes - left) + 1


def test_the_run_merges_with_what_its_preparation_found(hub_home, monkeypatch):
    """A sync prepares its merge beside the extraction; its matching and commit use that."""
    import exhub.publish.commit as commit_module
    import exhub.publish.merge_scan as merge_scan

    hub, source, path, _ = hukou_hub(hub_home, scale=0.05)
    sync_stream(hub, source, source.streams[0], source_file=path)
    prepared, matched_on, rescans = [], [], []
    real_prepare, real_add = merge_scan.prepare_merge, merge_scan.KeyMatcher.add

    def preparing(*args, **kwargs):
        prepared.append(real_prepare(*args, **kwargs))
        return prepared[-1]

    def adding(self, *args, **kwargs):
        matched_on.append(self.basis)
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(merge_scan, "prepare_merge", preparing)
    monkeypatch.setattr(merge_scan.KeyMatcher, "add", adding)
    monkeypatch.setattr(commit_module, "scan_merge", lambda *a, **k: rescans.append(1))
    second = sync_stream(hub, source, source.streams[0], source_file=path)
    assert len(prepared) == 1 and matched_on and all(b is prepared[0] for b in matched_on)
    assert rescans == [] and second.status == "succeeded"


def test_a_running_merge_finds_what_a_scan_of_the_staged_files_finds(permits):  # noqa: F811
    contract, table, _ = permits
    folder = _data_folder(table)
    first = [("340102", n, f"旧{n}") for n in range(40)]
    _merge(table, [stage(contract, folder, "r1", first[:25])], "r1")
    _merge(table, [stage(contract, folder, "r2", first[25:])], "r2")
    _merge(table, [stage(contract, folder, "r3", [("340102", 3, "新3")])], "r3")
    again = [("340102", n, f"新{n}") for n in (1, 3, 3, 30, 39)]  # a key twice in the run
    files = [stage(contract, folder, "r4a", again[:3]), stage(contract, folder, "r4b", again[3:])]
    prepared = start_merge_preparation(lambda: table, source_id="s1", key=KEY)
    running = scan_ahead(table, files, prepared).result()
    scanned = scan_merge(table, files, source_id="s1", key=KEY, delete_keys=None)
    assert [(h.live.path, h.rows.tolist(), h.replaced) for h in running.hits] == [
        (h.live.path, h.rows.tolist(), h.replaced) for h in scanned.hits
    ]
    assert sum(h.replaced for h in running.hits) == 4 and running.fits(table, files, "s1")
    prepared = start_merge_preparation(lambda: table, source_id="s1", key=KEY)
    ahead = scan_ahead(table, files, prepared)
    _merge(table, files, "r4", ahead)
    kept = [row for row in first if row[1] not in (1, 3, 30, 39)]
    assert visible(table) == sorted(kept + again)


def test_a_running_merge_whose_preparation_failed_leaves_the_commit_to_scan(permits):  # noqa: F811
    contract, table, _ = permits
    folder = _data_folder(table)
    _merge(table, [stage(contract, folder, "r1", [("340102", 1, "张三")])], "r1")
    files = [stage(contract, folder, "r2", [("340102", 1, "张三（新）")])]

    def broken():
        raise OSError("catalog unreachable")

    ahead = scan_ahead(table, files, start_merge_preparation(broken, source_id="s1", key=KEY))
    with pytest.raises(OSError, match="catalog unreachable"):
        ahead.result()
    _merge(table, files, "r2", ahead)
    assert visible(table) == [("340102", 1, "张三（新）")]


def test_a_running_merge_prepared_before_another_commit_is_not_used(permits):  # noqa: F811
    contract, table, _ = permits
    folder = _data_folder(table)
    _merge(table, [stage(contract, folder, "r1", [("340103", 1, "王五")])], "r1")
    prepared = start_merge_preparation(lambda: table, source_id="s1", key=KEY)
    prepared.result()
    _merge(table, [stage(contract, folder, "r2", [("340103", 1, "王五（旧）")])], "r2")
    files = [stage(contract, folder, "r3", [("340103", 1, "王五（新）")])]
    ahead = scan_ahead(table, files, prepared)
    assert not ahead.result().fits(table, files, "s1")
    _merge(table, files, "r3", ahead)
    assert visible(table) == [("340103", 1, "王五（新）")]
