"""OpenLineage events of a run, through the file transport: inputs, output, facets, no secrets."""

from __future__ import annotations

import json
import sqlite3

import pytest

from exhub.demo.world import build_world
from exhub.engine.hub import Hub
from exhub.engine.run import start_plan
from exhub.engine.sync import register, sync_stream
from exhub.errors import ExhubError
from exhub.lineage import emit_run_event, lineage_enabled
from exhub.lineage.events import lineage_run_id, run_event
from exhub.settings import load_settings
from exhub.sources import config_hash, load_source

pytestmark = pytest.mark.unit
PASSWORD = "Lineage-S3cret/pw"


@pytest.fixture
def hukou(hub_home, monkeypatch):
    for key in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE_DISABLED"):
        monkeypatch.delenv(key, raising=False)
    world = build_world(hub_home / "world", scale=0.05)
    path = world.sources_dir / "ps_hukou.yaml"
    hub = Hub(load_settings(hub_home).model_copy(update={"sources_dir": str(world.sources_dir)}))
    source = load_source(path)
    register(hub, source, config_hash(path))
    return hub, source, path, world


@pytest.fixture
def lineage_file(hub_home, monkeypatch):
    path = hub_home / "lineage.jsonl"
    monkeypatch.setenv("EXHUB_LINEAGE_FILE", str(path))
    return path


def events(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_run_emits_start_and_complete_naming_input_and_output(hukou, lineage_file):
    hub, source, path, world = hukou
    summary = sync_stream(hub, source, source.streams[0], source_file=path, run_id="lineage-1")
    start, complete = events(lineage_file)
    assert [start["eventType"], complete["eventType"]] == ["START", "COMPLETE"]
    assert start["run"]["runId"] == complete["run"]["runId"] == lineage_run_id("lineage-1")
    assert complete["job"]["namespace"] == "exhub"
    assert complete["job"]["name"] == "ps_hukou.residents"

    (source_in,) = complete["inputs"]
    legacy_db = (world.root / "legacy" / "hukou.db").resolve()
    assert source_in["namespace"] == f"sql:sqlite:///{legacy_db}"
    assert source_in["name"] == "T_RK_JBXX"
    columns = [f["name"] for f in source_in["facets"]["schema"]["fields"]]
    assert {"SFZH", "XM", "CSRQ", "GXSJ"} <= set(columns)
    quality = source_in["inputFacets"]["dataQualityMetrics"]
    assert quality["rowCount"] == summary.extracted
    assertions = {
        a["assertion"]: a for a in source_in["inputFacets"]["dataQualityAssertions"]["assertions"]
    }
    for rule, failed in summary.rule_counts.items():
        assert assertions[rule]["actual"] == str(failed)
        assert assertions[rule]["success"] is (failed == 0)
    assert assertions["unique_key"]["success"] is True

    (dataset,) = complete["outputs"]
    assert dataset["namespace"] == hub.settings.warehouse_path.resolve().as_uri()
    assert dataset["name"] == "population.person"
    fields = {f["name"]: f["type"] for f in dataset["facets"]["schema"]["fields"]}
    assert fields["resident_id"] and "birth_date" in fields
    lineage = dataset["facets"]["columnLineage"]["fields"]
    assert lineage["resident_id"]["inputFields"][0]["field"] == "SFZH"
    assert dataset["outputFacets"]["outputStatistics"]["rowCount"] == summary.published
    assert dataset["facets"]["dataQualityMetrics"]["rowCount"] == summary.published
    facet = complete["run"]["facets"]["exhub_run"]
    assert facet["runId"] == "lineage-1"
    assert (facet["extractedRows"], facet["publishedRows"], facet["quarantinedRows"]) == (
        summary.extracted,
        summary.published,
        summary.quarantined,
    )
    assert summary.extracted == summary.published + summary.quarantined > 0


def test_a_failed_run_emits_fail_with_the_error(hukou, lineage_file):
    hub, source, path, world = hukou
    with sqlite3.connect(world.root / "legacy" / "hukou.db") as con:
        con.execute("DROP TABLE T_RK_JBXX")
    con.close()
    with pytest.raises(ExhubError):
        sync_stream(hub, source, source.streams[0], source_file=path, run_id="lineage-2")
    start, fail = events(lineage_file)
    assert [start["eventType"], fail["eventType"]] == ["START", "FAIL"]
    assert "T_RK_JBXX" in fail["run"]["facets"]["errorMessage"]["message"]
    assert fail["run"]["facets"]["exhub_run"]["status"] == "failed"


def test_events_never_carry_a_password_or_user(hukou, monkeypatch):
    hub, source, path, _ = hukou
    monkeypatch.setenv("LEGACY_PW", PASSWORD)
    options = {"url": "postgresql+psycopg2://reader:${LEGACY_PW}@db.example:5432/hukou"}
    remote = source.model_copy(update={"options": options})
    plan = start_plan(hub, remote, remote.streams[0], source_file=path, run_id="lineage-3")
    event = run_event(plan, "FAIL", error=RuntimeError("cannot reach db.example: refused"))
    from openlineage.client.serde import Serde

    text = Serde.to_json(event)
    assert event.inputs[0].namespace == "sql:postgresql+psycopg2://db.example:5432/hukou"
    assert PASSWORD not in text and "reader" not in text and "S3cret" not in text


def test_lineage_is_off_unless_configured(hukou, monkeypatch):
    hub, source, path, _ = hukou
    monkeypatch.delenv("EXHUB_LINEAGE_FILE", raising=False)
    assert not lineage_enabled({})
    assert lineage_enabled({"OPENLINEAGE_URL": "http://marquez:5000"})
    assert lineage_enabled({"OPENLINEAGE__TRANSPORT__TYPE": "console"})
    assert not lineage_enabled({"EXHUB_LINEAGE_FILE": "x", "OPENLINEAGE_DISABLED": "true"})
    plan = start_plan(hub, source, source.streams[0], source_file=path, run_id="lineage-4")
    assert emit_run_event(plan, "START") is False


def test_a_broken_transport_never_fails_the_run(hukou, hub_home, monkeypatch, caplog):
    hub, source, path, _ = hukou
    monkeypatch.setenv("EXHUB_LINEAGE_FILE", str(hub_home / "missing-folder" / "x.jsonl"))
    summary = sync_stream(hub, source, source.streams[0], source_file=path, run_id="lineage-5")
    assert summary.status == "succeeded"
    assert "OpenLineage START event of run lineage-5 not sent" in caplog.text
