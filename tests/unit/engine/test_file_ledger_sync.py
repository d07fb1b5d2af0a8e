"""A nightly export folder: each file is ingested once; new and changed files are picked up."""

from __future__ import annotations

import pytest

from exhub.demo.world import build_world
from exhub.engine.hub import Hub
from exhub.engine.sync import register, sync_stream
from exhub.query import run_query
from exhub.settings import load_settings
from exhub.sources import config_hash, load_source

pytestmark = pytest.mark.unit


def test_files_are_ingested_once_and_changes_are_noticed(hub_home):
    world = build_world(hub_home / "world", scale=0.05)
    hub = Hub(load_settings(hub_home).model_copy(update={"sources_dir": str(world.sources_dir)}))
    path = world.sources_dir / "mz_marriage.yaml"
    source = load_source(path)
    register(hub, source, config_hash(path))
    stream = source.streams[0]
    exports = world.root / "legacy" / "marriage_exports"
    original = exports / "HYDJ_20261125.csv"

    first = sync_stream(hub, source, stream, source_file=path)
    assert first.extracted == world.rows["mz_marriage"]
    assert first.status == "succeeded"

    unchanged = sync_stream(hub, source, stream, source_file=path)
    assert unchanged.extracted == 0 and unchanged.status == "succeeded"
    count = run_query(hub, "SELECT count(*) AS n FROM person").to_pylist()[0]["n"]
    assert count == first.published

    lines = original.read_bytes().split(b"\r\n")
    header = lines[0]
    # Rows with a mobile number: a 3-row increment must not trip the null-ratio gate.
    rows = [r for r in lines[1:] if r and r.split(b",")[4]]
    (exports / "HYDJ_20261126.csv").write_bytes(b"\r\n".join([header, *rows[:3]]) + b"\r\n")
    nightly = sync_stream(hub, source, stream, source_file=path)
    assert nightly.extracted == 3

    original.write_bytes(b"\r\n".join([header, *rows[:10]]) + b"\r\n")  # re-exported, smaller
    changed = sync_stream(hub, source, stream, source_file=path)
    assert changed.extracted == 10
    total = run_query(hub, "SELECT count(*) AS n, count(DISTINCT resident_id) AS k FROM person")
    row = total.to_pylist()[0]
    assert row["n"] == row["k"]  # merged on the key: no duplicates
