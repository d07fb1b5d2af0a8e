"""``exhub query`` is audited; ``exhub audit log`` shows it and ``exhub audit verify`` catches
an entry changed behind exhub's back (exit 1, naming the entry)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

from tests.support import EXHUB, run_exhub

pytestmark = pytest.mark.e2e


@pytest.fixture
def queried(deployment):
    hub_home, _ = deployment
    run_exhub("sync", "ps_hukou", home=hub_home, check=True)
    for purpose in ("户籍核验", "人口统计"):
        run_exhub(
            "query", "--purpose", purpose, "SELECT count(*) AS n FROM person",
            home=hub_home, check=True,
        )  # fmt: skip
    assert run_exhub("query", "DELETE FROM person", home=hub_home).returncode == 2
    return hub_home


def test_audit_log_lists_every_query_newest_first(queried):
    result = run_exhub("audit", "log", "--format", "json", home=queried, check=True)
    entries = json.loads(result.stdout)
    assert [e["seq"] for e in entries] == [3, 2, 1]
    assert [e["outcome"] for e in entries] == ["refused", "ok", "ok"]
    assert [e["purpose"] for e in entries[1:]] == ["人口统计", "户籍核验"]
    assert entries[1]["target"] == "person" and entries[1]["rows"] == 1
    assert entries[0]["sql"] == "DELETE FROM person"


def test_verify_passes_then_names_the_entry_changed_behind_exhubs_back(queried):
    ok = run_exhub("audit", "verify", "--format", "json", home=queried, check=True)
    verdict = json.loads(ok.stdout)
    assert verdict["intact"] and verdict["entries_checked"] == 3 and verdict["head_seq"] == 3

    with sqlite3.connect(queried / ".exhub" / "catalog.db") as con:
        con.execute("UPDATE exhub_audit_log SET purpose = '随便看看' WHERE seq = 2")
    broken = run_exhub("audit", "verify", home=queried)
    assert broken.returncode == 1
    assert "broken at entry 2" in broken.stderr
    assert "changed after it was written" in broken.stderr


def test_reading_quarantined_raw_values_is_audited(queried):
    listed = run_exhub(
        "quarantine", "list", "person", "--limit", "5", "--format", "json", home=queried, check=True
    )
    assert len(json.loads(listed.stdout)) == 5
    target = queried / "quarantine.csv"
    run_exhub("quarantine", "export", "person", "-o", str(target), home=queried, check=True)
    exported = sum(1 for _ in target.open(encoding="utf-8")) - 1  # header

    entries = json.loads(
        run_exhub("audit", "log", "--limit", "2", "--format", "json", home=queried).stdout
    )
    assert [(e["action"], e["target"], e["rows"]) for e in entries] == [
        ("quarantine_export", "person", exported),
        ("quarantine_list", "person", 5),
    ]
    assert run_exhub("audit", "verify", home=queried).returncode == 0


def test_a_limit_below_one_is_a_usage_error(hub_home):
    result = run_exhub("audit", "log", "--limit", "0", home=hub_home)
    assert result.returncode == 2
    assert "--limit" in result.stderr + result.stdout


@pytest.mark.parametrize("after_seconds", [0.5, 0.8, 1.1, 1.4, 4.0])
def test_ctrl_c_ends_a_query_with_code_130_and_no_traceback(queried, after_seconds):
    """Early (start-up, parsing, connecting: DuckDB may catch it first) or late (the query's
    own run): the shell's code, one quiet exit."""
    # Minutes of hashing in constant memory unless Ctrl-C stops it: DuckDB notices Ctrl-C
    # between the chunks `range()` yields (a cross product over a small input, one chunk
    # however many rows it expands into, it would only stop at its end).
    query = (
        "SELECT sum(hash(p.resident_id, r.range)) "
        "FROM range(10000000000) r, (SELECT resident_id FROM person LIMIT 10) p"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EXHUB_")}
    environ["EXHUB_HOME"] = str(queried)
    process = subprocess.Popen(
        [*EXHUB, "query", query], cwd=queried, env=environ, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(after_seconds)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()  # a query Ctrl-C did not stop must not outlive the test
    # 130, or killed by SIGINT itself if it came before Python ran exhub: a shell says 130 to both.
    assert process.returncode in (130, -signal.SIGINT), stderr
    assert "Traceback" not in stderr
