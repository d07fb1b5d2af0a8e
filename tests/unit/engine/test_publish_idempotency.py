"""Retried and repeated runs never duplicate; incremental runs merge on (key, source)."""

from __future__ import annotations

import sqlite3

import pytest

from exhub.engine.sync import sync_stream
from exhub.query import run_query
from tests.support import hukou_hub

pytestmark = pytest.mark.unit
NEW_ADDRESS = "安徽省合肥市新地址1号"


@pytest.fixture
def hukou(hub_home):
    return hukou_hub(hub_home, scale=0.1)


def rows_by_source(hub) -> dict:
    table = run_query(
        hub,
        "SELECT _source, count(*) AS n, count(DISTINCT resident_id) AS k FROM person GROUP BY 1",
    )
    return {r["_source"]: (r["n"], r["k"]) for r in table.to_pylist()}


def test_retry_with_same_run_id_commits_once(hukou):
    hub, source, path, _ = hukou
    stream = source.streams[0]
    first = sync_stream(hub, source, stream, source_file=path, full_refresh=True, run_id="r-1")
    counts = rows_by_source(hub)
    again = sync_stream(hub, source, stream, source_file=path, full_refresh=True, run_id="r-1")
    assert rows_by_source(hub) == counts
    assert again.published == first.published
    table = hub.iceberg.load_table(("population", "person"))
    runs = [s.summary["exhub.run-id"] for s in table.snapshots()]
    assert runs.count("r-1") == 1
    n, distinct = counts["ps_hukou"]
    assert n == distinct == first.published


def test_incremental_merges_updates_without_duplicates(hukou):
    hub, source, path, world = hukou
    stream = source.streams[0]
    first = sync_stream(hub, source, stream, source_file=path, full_refresh=True)
    assert hub.repository.get_watermark(source.id, stream.name) is not None
    db = world.root / "legacy" / "hukou.db"
    published = run_query(hub, "SELECT resident_id FROM person ORDER BY 1 LIMIT 5")
    keys = published.column("resident_id").to_pylist()
    with sqlite3.connect(db) as con:
        boundary = con.execute("SELECT max(GXSJ) FROM T_RK_JBXX").fetchone()[0]
        con.execute(
            "UPDATE T_RK_JBXX SET ZZ = ?, GXSJ = '2030-01-01 00:00:00' "
            f"WHERE SFZH IN ({','.join('?' * len(keys))})",
            [NEW_ADDRESS, *keys],
        )
    con.close()
    with sqlite3.connect(db) as con:
        at_boundary = con.execute(
            "SELECT count(*) FROM T_RK_JBXX WHERE GXSJ = ?", [boundary]
        ).fetchone()[0]
    con.close()
    second = sync_stream(hub, source, stream, source_file=path)
    # Reads are >= the watermark: rows committed at the boundary time are read again, not lost.
    assert second.extracted == 5 + at_boundary
    n, distinct = rows_by_source(hub)["ps_hukou"]
    assert n == distinct == first.published
    moved = run_query(
        hub, "SELECT count(*) AS n FROM person WHERE address = '安徽省合肥市新地址1号'"
    )
    assert moved.to_pylist() == [{"n": 5}]


def test_each_run_is_one_snapshot_and_as_of_reads_the_past(hukou):
    import time
    from datetime import UTC, datetime

    hub, source, path, world = hukou
    stream = source.streams[0]
    sync_stream(hub, source, stream, source_file=path)
    table = hub.iceberg.load_table(("population", "person"))
    assert len(table.snapshots()) == 1
    time.sleep(0.05)
    yesterday = datetime.now(UTC)
    time.sleep(0.05)
    key = run_query(hub, "SELECT resident_id FROM person ORDER BY 1 LIMIT 1").to_pylist()[0]
    with sqlite3.connect(world.root / "legacy" / "hukou.db") as con:
        con.execute(
            "UPDATE T_RK_JBXX SET ZZ = ?, GXSJ = '2031-01-01 00:00:00' WHERE SFZH = ?",
            [NEW_ADDRESS, key["resident_id"]],
        )
    con.close()
    sync_stream(hub, source, stream, source_file=path)
    table.refresh()
    assert len(table.snapshots()) == 2
    sql = f"SELECT address FROM person WHERE resident_id = '{key['resident_id']}'"
    assert run_query(hub, sql).to_pylist() == [{"address": NEW_ADDRESS}]
    before = run_query(hub, sql, as_of=yesterday).to_pylist()
    assert len(before) == 1 and before[0]["address"] != NEW_ADDRESS
    total_now = run_query(hub, "SELECT count(*) AS n FROM person").to_pylist()
    total_then = run_query(hub, "SELECT count(*) AS n FROM person", as_of=yesterday).to_pylist()
    assert total_now == total_then


def test_landing_manifest_checksums_match_the_files(hukou):
    import hashlib

    from exhub.extract import LandingManifest, landing_folder

    hub, source, path, _ = hukou
    summary = sync_stream(hub, source, source.streams[0], source_file=path, run_id="r-sum")
    folder = landing_folder(hub.settings.warehouse_path, source.id, "residents", summary.run_id)
    manifest = LandingManifest.load(folder)
    assert manifest.parts and manifest.record_rows == summary.extracted
    for part in manifest.parts + manifest.rejects:
        data = (folder / part.file).read_bytes()
        assert hashlib.sha256(data).hexdigest() == part.sha256
        assert len(data) == part.bytes
