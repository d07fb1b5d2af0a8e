"""``exhub sync`` on a deployment's own sources/ folder, including a failed gate."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.support import run_exhub

pytestmark = pytest.mark.e2e


def person_rows(home) -> int:
    result = run_exhub(
        "query", "--format", "json", "SELECT count(*) AS n FROM person", home=home, check=True
    )
    return json.loads(result.stdout)[0]["n"]


def test_sync_publishes_and_lists(deployment):
    home, world = deployment
    result = run_exhub("sync", "ps_hukou", "--format", "json", home=home, check=True)
    runs = json.loads(result.stdout)
    assert runs[0]["status"] == "succeeded"
    assert runs[0]["extracted"] == world.rows["ps_hukou"]
    assert runs[0]["published"] + runs[0]["quarantined"] == runs[0]["extracted"]
    assert person_rows(home) == runs[0]["published"]
    listed = json.loads(
        run_exhub("sources", "list", "--format", "json", home=home, check=True).stdout
    )
    assert [s["id"] for s in listed] == ["ps_hukou"]


def test_row_count_drop_gate_fails_with_exit_1_and_publishes_nothing(deployment):
    home, world = deployment
    run_exhub("sync", "ps_hukou", "--full-refresh", home=home, check=True)
    before = person_rows(home)
    with sqlite3.connect(world.root / "legacy" / "hukou.db") as con:
        con.execute("DELETE FROM T_RK_JBXX WHERE rowid % 4 != 0")
    con.close()
    result = run_exhub("sync", "ps_hukou", "--full-refresh", home=home)
    assert result.returncode == 1, result.stderr
    assert "row_count_drop" in result.stderr and "nothing was published" in result.stderr
    assert person_rows(home) == before
    runs = json.loads(run_exhub("runs", "list", "--format", "json", home=home, check=True).stdout)
    assert runs[0]["status"] == "gated"


def test_unreachable_source_exits_3(deployment):
    home, world = deployment
    (world.root / "legacy" / "hukou.db").unlink()
    result = run_exhub("sync", "ps_hukou", home=home)
    assert result.returncode == 3, result.stderr


def test_quarantine_replay_publishes_rows_a_fixed_mapping_accepts(deployment):
    home, world = deployment
    first = json.loads(
        run_exhub(
            "sync", "ps_hukou", "--full-refresh", "--format", "json", home=home, check=True
        ).stdout
    )[0]
    planted = world.planted["ps_hukou"]["gender.map"]
    assert planted > 0
    # The operator learns that 'X' means 未说明 in this system and fixes the mapping.
    source_file = home / "sources" / "ps_hukou.yaml"
    source_file.write_text(
        source_file.read_text(encoding="utf-8").replace(
            '"9": unknown}', '"9": unknown, "X": unknown}'
        ),
        encoding="utf-8",
    )
    replayed = json.loads(
        run_exhub(
            "quarantine", "replay", first["run_id"], "--format", "json", home=home, check=True
        ).stdout
    )[0]
    assert replayed["replay_of"] == first["run_id"]
    assert replayed["extracted"] == first["extracted"]
    assert replayed["published"] == first["published"] + planted
    assert replayed["quarantined"] == first["quarantined"] - planted
    assert person_rows(home) == replayed["published"]


def test_mapping_error_while_extracting_stops_cleanly(deployment):
    home, _ = deployment
    source_file = home / "sources" / "ps_hukou.yaml"
    source_file.write_text(
        source_file.read_text(encoding="utf-8").replace("address: ZZ", "address: ZZDZ"),
        encoding="utf-8",
    )
    # Small batches: validation fails on the first part while extraction still runs.
    result = run_exhub("sync", "ps_hukou", home=home, env={"EXHUB_BATCH_SIZE": "20"})
    assert result.returncode == 2, result.stderr
    assert "ZZDZ" in result.stderr and "mapping 'address'" in result.stderr
    runs = json.loads(run_exhub("runs", "list", "--format", "json", home=home, check=True).stdout)
    assert runs[0]["status"] == "failed"
