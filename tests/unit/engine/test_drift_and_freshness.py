"""Schema-drift policies and the freshness rule, on the demo's household register."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from exhub.demo.world import build_world
from exhub.engine.hub import Hub
from exhub.engine.sync import register, sync_stream
from exhub.errors import GateFailedError
from exhub.query import run_query
from exhub.settings import SHIPPED_SCHEMAS, load_settings
from exhub.sources import config_hash, load_source

pytestmark = pytest.mark.unit


def make_hub(home, *, drift: str, extra_rules: str = ""):
    schemas = home / "schemas"
    shutil.copytree(SHIPPED_SCHEMAS, schemas)
    contract = schemas / "population" / "person.v1.yaml"
    text = contract.read_text(encoding="utf-8").replace("drift: discard_value", f"drift: {drift}")
    contract.write_text(text + extra_rules, encoding="utf-8")
    world = build_world(home / "world", scale=0.05)
    settings = load_settings(home).model_copy(
        update={"sources_dir": str(world.sources_dir), "schemas_dir": str(schemas)}
    )
    hub = Hub(settings)
    path = world.sources_dir / "ps_hukou.yaml"
    source = load_source(path)
    register(hub, source, config_hash(path))
    return hub, source, path, world.root / "legacy" / "hukou.db"


def add_column(db, value_for_some_rows: str | None):
    with sqlite3.connect(db) as con:
        con.execute("ALTER TABLE T_RK_JBXX ADD COLUMN ZY TEXT")  # 职业, new in the source
        if value_for_some_rows is not None:
            con.execute("UPDATE T_RK_JBXX SET ZY = ? WHERE rowid % 10 = 0", [value_for_some_rows])
    con.close()


def test_freeze_fails_the_gate_until_accepted(hub_home):
    hub, source, path, db = make_hub(hub_home, drift="freeze")
    stream = source.streams[0]
    first = sync_stream(hub, source, stream, source_file=path, full_refresh=True)
    add_column(db, None)
    with pytest.raises(GateFailedError, match="schema_drift"):
        sync_stream(hub, source, stream, source_file=path, full_refresh=True)
    count = run_query(hub, "SELECT count(*) AS n FROM person").to_pylist()[0]["n"]
    assert count == first.published
    accepted = sync_stream(
        hub, source, stream, source_file=path, full_refresh=True, accept_drift=True
    )
    assert accepted.status == "succeeded"
    again = sync_stream(hub, source, stream, source_file=path, full_refresh=True)
    assert again.status == "succeeded"  # the accepted schema is the new baseline


def test_discard_row_quarantines_rows_using_new_columns(hub_home):
    hub, source, path, db = make_hub(hub_home, drift="discard_row")
    stream = source.streams[0]
    first = sync_stream(hub, source, stream, source_file=path, full_refresh=True)
    add_column(db, "教师")
    second = sync_stream(hub, source, stream, source_file=path, full_refresh=True)
    with sqlite3.connect(db) as con:
        marked = con.execute("SELECT count(*) FROM T_RK_JBXX WHERE ZY IS NOT NULL").fetchone()[0]
    con.close()
    assert second.rule_counts["schema.drift"] == marked
    assert second.published < first.published
    assert second.extracted == second.published + second.quarantined


def test_evolve_records_drift_and_publishes_everything(hub_home):
    hub, source, path, db = make_hub(hub_home, drift="evolve")
    stream = source.streams[0]
    first = sync_stream(hub, source, stream, source_file=path, full_refresh=True)
    add_column(db, "教师")
    second = sync_stream(hub, source, stream, source_file=path, full_refresh=True)
    assert second.published == first.published
    drift = [g for g in second.gates if g["rule"] == "schema_drift"]
    assert drift and drift[0]["passed"] and "ZY" in drift[0]["detail"]


def test_freshness_rule_gates_stale_data(hub_home):
    rule = "  - type: freshness\n    field: updated_at\n    max_age_hours: 24\n"
    hub, source, path, _ = make_hub(hub_home, drift="discard_value", extra_rules=rule)
    with pytest.raises(GateFailedError, match="freshness:updated_at"):
        # The demo's register was last updated in 2025: far older than a day.
        sync_stream(hub, source, source.streams[0], source_file=path, full_refresh=True)
