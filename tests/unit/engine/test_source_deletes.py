"""Rows the legacy system flags as deleted leave the dataset and are counted, not dropped."""

from __future__ import annotations

import sqlite3

import pytest

from exhub.demo.world import build_world
from exhub.engine.hub import Hub
from exhub.engine.sync import register, sync_stream
from exhub.query import run_query
from exhub.settings import load_settings
from exhub.sources import config_hash, load_source

pytestmark = pytest.mark.unit


def test_delete_marker_removes_keys_and_counts_them(hub_home):
    world = build_world(hub_home / "world", scale=0.05)
    db = world.root / "legacy" / "hukou.db"
    with sqlite3.connect(db) as con:
        con.execute("ALTER TABLE T_RK_JBXX ADD COLUMN SCBZ TEXT DEFAULT '0'")
    con.close()
    path = world.sources_dir / "ps_hukou.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "    cursor: GXSJ\n", "    cursor: GXSJ\n    delete_marker: {column: SCBZ, values: ['1']}\n"
    )
    path.write_text(text, encoding="utf-8")
    hub = Hub(load_settings(hub_home).model_copy(update={"sources_dir": str(world.sources_dir)}))
    source = load_source(path)
    register(hub, source, config_hash(path))
    stream = source.streams[0]
    first = sync_stream(hub, source, stream, source_file=path)
    doomed = [
        r["resident_id"]
        for r in run_query(hub, "SELECT resident_id FROM person ORDER BY 1 LIMIT 3").to_pylist()
    ]
    with sqlite3.connect(db) as con:
        con.execute(
            f"UPDATE T_RK_JBXX SET SCBZ = '1', GXSJ = '2032-01-01 00:00:00' "
            f"WHERE SFZH IN ({','.join('?' * len(doomed))})",
            doomed,
        )
    con.close()
    second = sync_stream(hub, source, stream, source_file=path)
    assert second.tombstoned == 3
    assert second.deleted == 3
    assert second.extracted == second.published + second.quarantined + second.tombstoned
    left = run_query(hub, "SELECT count(*) AS n FROM person").to_pylist()[0]["n"]
    assert left == first.published - 3
    listed = ",".join(repr(d) for d in doomed)
    found = run_query(
        hub, f"SELECT count(*) AS n FROM person WHERE resident_id IN ({listed})"
    ).to_pylist()
    assert found == [{"n": 0}]
