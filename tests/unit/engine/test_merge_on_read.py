"""Incremental merges write position-delete files instead of copying data files.

Every check reads the table twice: through the exhub gateway (DuckDB) and through
pyiceberg's own scan, the reference reader any department's Iceberg client resembles.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.manifest import DataFile, DataFileContent, FileFormat

from exhub.engine.facts import history, row_count, rows_per_source, storage
from exhub.engine.hub import Hub
from exhub.engine.sync import sync_stream
from exhub.publish.deletes import (
    POSITION_DELETE_SCHEMA,
    LiveFile,
    deleted_positions,
    file_uri,
    live_files,
    live_rows_sql,
)
from exhub.publish.maintenance import maintain
from exhub.query import run_query
from tests.support import hukou_hub

pytestmark = pytest.mark.unit


@pytest.fixture
def hukou(hub_home):
    hub, source, path, world = hukou_hub(hub_home, scale=0.05, compact_min_files=50)
    state = {"tick": 0}

    def sync(**kwargs):
        return sync_stream(hub, source, source.streams[0], source_file=path, **kwargs)

    def change(every: int = 1, offset: int = 0, keys: list[str] | None = None) -> int:
        """Give every n-th published resident (or these) a new address and update time."""
        state["tick"] += 1
        if keys is None:
            keys = [key for key, _ in gateway_rows(hub)][offset::every]
        with sqlite3.connect(world.root / "legacy" / "hukou.db") as con:
            marks = ",".join("?" * len(keys))
            changed = con.execute(
                f"UPDATE T_RK_JBXX SET ZZ = ?, GXSJ = ? WHERE SFZH IN ({marks})",
                [f"新地址{state['tick']}号", f"2030-01-{state['tick']:02d} 00:00:00", *keys],
            ).rowcount
        con.close()
        assert changed == len(keys) > 0
        return changed

    return hub, sync, change


def table_of(hub):
    return hub.iceberg.load_table(("population", "person"))


def gateway_rows(hub) -> list[tuple]:
    rows = run_query(hub, "SELECT resident_id, address FROM person ORDER BY 1").to_pylist()
    return [(r["resident_id"], r["address"]) for r in rows]


def pyiceberg_rows(hub) -> list[tuple]:
    table = table_of(hub).scan(selected_fields=("resident_id", "address")).to_arrow()
    keys, addresses = table.column("resident_id"), table.column("address")
    return sorted(zip(keys.to_pylist(), addresses.to_pylist(), strict=True))


def assert_readers_agree(hub, expected_rows: int) -> list[tuple]:
    rows = gateway_rows(hub)
    assert rows == pyiceberg_rows(hub)
    assert len(rows) == len({key for key, _ in rows}) == expected_rows
    table = table_of(hub)
    assert row_count(table) == expected_rows
    assert sum(rows_per_source(table).values()) == expected_rows
    return rows


@pytest.fixture
def planned(monkeypatch) -> list[int]:
    """One entry per scan pyiceberg plans (each reads every manifest of the snapshot)."""
    from pyiceberg.table import DataScan

    counted: list[int] = []
    plan_files = DataScan.plan_files
    monkeypatch.setattr(DataScan, "plan_files", lambda scan: counted.append(1) or plan_files(scan))
    return counted


def test_a_table_state_is_planned_once_and_again_after_each_commit(hukou, planned):
    hub, sync, change = hukou
    sync()
    planned.clear()
    first = rows_per_source(table_of(hub))
    assert rows_per_source(table_of(hub)) == first and storage(table_of(hub))["data_files"] > 0
    before = gateway_rows(hub)
    assert gateway_rows(hub) == before
    assert len(planned) == 1  # catalog facts and queries of one state, from five table loads
    moment = datetime.now(UTC)
    change(50)
    sync()
    planned.clear()  # the merge plans the table it changes
    assert sum(rows_per_source(table_of(hub)).values()) == sum(first.values())
    assert gateway_rows(hub) != before
    assert len(planned) == 1  # the merge committed a new state: planned again
    old = run_query(hub, "SELECT resident_id, address FROM person ORDER BY 1", as_of=moment)
    assert [(r["resident_id"], r["address"]) for r in old.to_pylist()] == before
    assert len(planned) == 1  # as of a moment before the merge: the first state's plan


def test_remembered_plans_are_bounded_by_the_files_they_hold(hukou, planned, monkeypatch):
    import exhub.publish.deletes as deletes

    hub, sync, change = hukou
    sync()
    files = len(deletes.live_files(table_of(hub)))
    planned.clear()
    monkeypatch.setattr(deletes, "_PLANNED", type(deletes._PLANNED)())
    monkeypatch.setattr(deletes, "PLANNED_FILES", files - 1)
    rows = gateway_rows(hub)
    assert gateway_rows(hub) == rows and len(planned) == 2  # larger than the bound: not kept
    monkeypatch.setattr(deletes, "PLANNED_FILES", files)
    gateway_rows(hub)
    gateway_rows(hub)
    assert len(planned) == 3 and len(deletes._PLANNED) == 1
    change(50)
    sync()
    after = len(deletes.live_files(table_of(hub)))
    monkeypatch.setattr(deletes, "PLANNED_FILES", max(files, after))
    planned.clear()
    assert gateway_rows(hub) != rows and len(planned) == 1
    (kept,) = deletes._PLANNED.values()  # the new state took the room of the old
    assert len(kept) == after


def test_merge_marks_rows_deleted_instead_of_copying_files(hukou):
    hub, sync, change = hukou
    first = sync()
    files_before = {f.data.file_path for f in live_files(table_of(hub))}
    changed = change(50)
    second = sync()
    assert second.published >= changed
    live = live_files(table_of(hub))
    # The first run's data files are all still there, untouched: nothing was rewritten.
    assert files_before <= {f.data.file_path for f in live}
    masked = [f for f in live if f.deletes]
    assert masked and all(len(f.deletes) == 1 for f in masked)
    assert sum(f.deleted_rows for f in live) == second.published
    rows = assert_readers_agree(hub, first.published)
    assert sum(address.startswith("新地址1号") for _, address in rows) == changed


def test_data_and_delete_files_are_file_uris_for_other_iceberg_readers(hukou):
    hub, sync, change = hukou
    sync()
    change(40)
    sync()
    live = live_files(table_of(hub))
    locations = [f.data.file_path for f in live] + [d.file_path for f in live for d in f.deletes]
    assert any(f.deletes for f in live)
    assert all(p.startswith("file:///") and "%" not in p for p in locations)
    for f in live:  # each delete file names its data file exactly as the manifest does
        for d in f.deletes:
            named = pq.read_table(d.file_path.removeprefix("file://"))
            assert set(named.column("file_path").to_pylist()) == {f.data.file_path}
            # Iceberg's position-delete schema: a required string path and position, ids kept.
            assert named.schema.equals(POSITION_DELETE_SCHEMA, check_metadata=True)


def _disjoint_deletes(hub) -> dict[str, int]:
    """Delete files per data file; asserts no position is in two of a data file's files."""
    table = table_of(hub)
    counts = {}
    for f in live_files(table):
        positions = deleted_positions(table, f)
        assert positions.size == f.deleted_rows == len(set(positions.tolist()))
        counts[f.data.file_path] = len(f.deletes)
    return counts


def test_repeated_merges_add_delete_files_then_fold_them(hukou, monkeypatch):
    import exhub.publish.commit as commit_module

    monkeypatch.setattr(commit_module, "DELETE_FILES_PER_DATA_FILE", 3)
    hub, sync, change = hukou
    first = sync()
    seen = []
    for every, offset in ((7, 0), (5, 0), (3, 1), (4, 2), (6, 3)):
        changed = change(every, offset)
        summary = sync()
        assert summary.published >= changed
        counts = _disjoint_deletes(hub)
        assert max(counts.values()) <= 3
        seen.append(counts)
        assert_readers_agree(hub, first.published)
    first_files = [path for path, count in seen[0].items() if count]
    growth = [[counts[path] for path in first_files] for counts in seen]
    # Each merge adds a file of its rows to a touched data file; the fourth folds three.
    assert growth[0] == [1] * len(first_files) and growth[2] == [3] * len(first_files)
    assert growth[3] == [1] * len(first_files)
    snapshots = history(table_of(hub))
    assert sum(s["added"] - s["removed"] for s in snapshots) == first.published
    assert [s["total"] for s in snapshots] == [first.published] * len(snapshots)


def _entries(table) -> dict[str, tuple]:
    """Live manifest entries of the current snapshot: file -> (kind, sequence numbers)."""
    entries = {}
    for manifest in table.current_snapshot().manifests(table.io):
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            numbers = (entry.sequence_number, entry.file_sequence_number, entry.snapshot_id)
            entries[entry.data_file.file_path] = (manifest.content, *numbers)
    return entries


def test_older_manifests_are_merged_keeping_every_file_and_its_sequence_numbers(hukou, monkeypatch):
    import exhub.publish.row_delta as row_delta

    monkeypatch.setattr(row_delta, "MERGE_MANIFESTS_AT", 4)
    hub, sync, change = hukou
    first = sync()
    before_merges = datetime.now(UTC)
    rows_before = gateway_rows(hub)
    counts, merged = [], 0
    for every, offset in ((7, 0), (5, 0), (3, 1), (4, 2), (6, 3), (9, 4)):
        previous = _entries(table_of(hub))
        change(every, offset)
        sync()
        table = table_of(hub)
        now = _entries(table)
        # A file live before and after keeps its kind and sequence numbers, merged or not.
        assert {p: now[p] for p in now.keys() & previous.keys()} == {
            p: previous[p] for p in now.keys() & previous.keys()
        }
        manifests = table.current_snapshot().manifests(table.io)
        counts.append(len(manifests))
        merged += any(
            m.added_snapshot_id == table.current_snapshot().snapshot_id
            and m.existing_files_count
            and not m.added_files_count
            and not m.deleted_files_count
            for m in manifests
        )
        assert_readers_agree(hub, first.published)
    assert merged >= 2  # the older manifests were merged, more than once
    assert max(counts) < 2 * 4  # never more than a kind's threshold, twice (data, deletes)
    old = run_query(hub, "SELECT resident_id, address FROM person ORDER BY 1", as_of=before_merges)
    assert [(r["resident_id"], r["address"]) for r in old.to_pylist()] == rows_before


def test_a_merge_writes_only_the_rows_it_deletes(hukou):
    hub, sync, change = hukou
    sync()
    change(7)
    sync()
    before = {f.data.file_path: f.deletes for f in live_files(table_of(hub))}
    changed = change(5, 0)
    sync()
    for f in live_files(table_of(hub)):
        earlier = before.get(f.data.file_path, ())
        assert set(earlier) <= set(f.deletes)  # kept as they were
        added = [d for d in f.deletes if d not in earlier]
        assert sum(d.record_count for d in added) <= changed


def test_deleted_positions_of_a_delete_file_another_engine_wrote(hukou, tmp_path):
    """Unsorted, repeated, and covering two data files: each file gets its own, sorted, once."""
    hub, sync, _ = hukou
    sync()
    table = table_of(hub)
    mine = live_files(table)[0]
    other = "file:///elsewhere/other-data-file.parquet"
    target = tmp_path / "foreign-deletes.parquet"
    pq.write_table(
        pa.table(
            {
                "file_path": [mine.data.file_path, other, mine.data.file_path, mine.data.file_path],
                "pos": pa.array([9, 1, 2, 9], pa.int64()),
            },
            schema=POSITION_DELETE_SCHEMA,
        ),
        target,
    )
    foreign = DataFile.from_args(
        content=DataFileContent.POSITION_DELETES,
        file_path=file_uri(target),
        file_format=FileFormat.PARQUET,
        record_count=4,
    )
    masked = LiveFile(mine.data, (foreign,))
    assert deleted_positions(table, masked).tolist() == [2, 9]
    assert deleted_positions(table, mine).tolist() == []
    # Readers skip exactly those two rows of this file, not the other file's position 1.
    con = duckdb.connect()
    keys = "resident_id"  # in file order: DuckDB keeps the insertion order of one file
    every = con.sql(f"SELECT {keys} FROM ({live_rows_sql([mine], keys)})").fetchall()
    live = con.sql(f"SELECT {keys} FROM ({live_rows_sql([masked], keys)})").fetchall()
    assert len(every) == mine.data.record_count
    assert sorted(live) == sorted(row for i, row in enumerate(every) if i not in (2, 9))


def test_a_data_file_with_no_live_row_left_is_dropped(hukou):
    hub, sync, change = hukou
    first = sync()
    change(40)
    sync()
    small = {f.data.file_path for f in live_files(table_of(hub))} - {
        f.data.file_path for f in live_files(table_of(hub), snapshot_id=_first_snapshot(hub))
    }
    assert small, "the merge added a data file"
    (small_file,) = small
    change(keys=pq.read_table(small_file, columns=["resident_id"]).column(0).to_pylist())
    sync()
    live = live_files(table_of(hub))
    assert not small & {f.data.file_path for f in live}
    masked_paths = {
        path
        for f in live
        for d in f.deletes
        for path in pq.read_table(d.file_path, columns=["file_path"]).column(0).to_pylist()
    }
    assert masked_paths and not small & masked_paths
    assert_readers_agree(hub, first.published)


def _first_snapshot(hub) -> int:
    return table_of(hub).snapshots()[0].snapshot_id


def test_full_refresh_after_merges_drops_every_delete_file(hukou):
    hub, sync, change = hukou
    first = sync()
    change(9)
    sync()
    assert table_of(hub).inspect.delete_files().num_rows > 0
    sync(full_refresh=True)
    assert table_of(hub).inspect.delete_files().num_rows == 0
    assert all(not f.deletes for f in live_files(table_of(hub)))
    assert_readers_agree(hub, first.published)


def test_as_of_before_a_merge_reads_the_old_rows(hukou):
    hub, sync, change = hukou
    sync()
    before = gateway_rows(hub)
    moment = datetime.now(UTC)
    change(13)
    sync()
    rows = run_query(hub, "SELECT resident_id, address FROM person ORDER BY 1", as_of=moment)
    assert [(r["resident_id"], r["address"]) for r in rows.to_pylist()] == before
    assert gateway_rows(hub) != before


def test_compaction_folds_deletes_back_into_the_data_files(hukou):
    hub, sync, change = hukou
    first = sync()
    change(4)  # a quarter of the rows: past the compaction threshold
    sync()
    rows = gateway_rows(hub)
    before = storage(table_of(hub))
    assert before["delete_files"] >= 1 and before["rows_masked_by_deletes"] >= len(rows) // 4
    reports = maintain(hub)
    assert reports[0].compacted_partitions == ["ps_hukou"]
    table = table_of(hub)
    assert table.inspect.delete_files().num_rows == 0
    assert storage(table)["rows_masked_by_deletes"] == 0
    assert gateway_rows(hub) == rows
    assert_readers_agree(hub, first.published)


def test_orphan_sweep_keeps_live_delete_files(hukou):
    hub, sync, change = hukou
    first = sync()
    change(30)  # few deletes: below the compaction threshold
    sync()
    rows = gateway_rows(hub)
    masked = [f for f in live_files(table_of(hub)) if f.deletes]
    assert masked
    settings = hub.settings.model_copy(update={"orphan_guard_hours": 0})
    maintain(Hub(settings), now=datetime.now(UTC) + timedelta(days=1))
    assert [f.deletes for f in live_files(table_of(hub)) if f.deletes] == [
        f.deletes for f in masked
    ]
    assert gateway_rows(hub) == rows
    assert_readers_agree(hub, first.published)


def test_a_sync_matches_each_staged_batch_as_it_goes_and_the_commit_scans_nothing(
    hub_home, monkeypatch
):
    import threading

    import exhub.publish.commit as commit_module
    from exhub.publish.merge_scan import KeyMatcher

    hub, source, path, world = hukou_hub(hub_home, scale=0.05, batch_size=16)

    def sync():
        return sync_stream(hub, source, source.streams[0], source_file=path)

    first = sync()
    with sqlite3.connect(world.root / "legacy" / "hukou.db") as con:
        keys = [key for key, _ in gateway_rows(hub)][::2]
        changed = con.execute(
            "UPDATE T_RK_JBXX SET ZZ = '新地址', GXSJ = '2030-01-01 00:00:00' "
            f"WHERE SFZH IN ({','.join('?' * len(keys))})",
            keys,
        ).rowcount
    con.close()
    matched, rescans = [], []
    real_add = KeyMatcher.add

    def recording_add(self, con, keys, *, replaced):
        matched.append((threading.current_thread().name, keys.num_rows, replaced))
        return real_add(self, con, keys, replaced=replaced)

    monkeypatch.setattr(KeyMatcher, "add", recording_add)
    monkeypatch.setattr(commit_module, "scan_merge", lambda *a, **k: rescans.append(1))
    second = sync()
    assert rescans == []  # the commit used the scan made while validating
    brought = [rows for thread, rows, replaced in matched if replaced]
    assert len(brought) >= 3 and sum(brought) == second.published  # batch by batch
    assert all(thread.startswith("merge-scan-ahead") for thread, _, _ in matched)
    assert second.published >= changed > 40
    hukou_rows = assert_readers_agree(hub, first.published)
    assert sum(address == "新地址" for _, address in hukou_rows) == changed
