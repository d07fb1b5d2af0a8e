"""Every query through the gateway leaves an audit entry: who, what, why, how many rows."""

from __future__ import annotations

import os
import signal
import threading
import time

import duckdb
import pytest

from exhub.engine.sync import sync_stream
from exhub.errors import QueryError
from exhub.interrupts import ctrl_c_interrupts
from exhub.query import run_query
from exhub.query.names import tables_named
from tests.support import event_after_call, hukou_hub

pytestmark = pytest.mark.unit
# Minutes of hashing in constant memory unless Ctrl-C stops it. DuckDB notices Ctrl-C between
# the chunks its scans produce: `range()` yields many; a cross product over a small input
# (one chunk, however many rows it expands into) it would only stop at the end.
LONG_QUERY = (
    "SELECT sum(hash(p.resident_id, r.range)) "
    "FROM range(10000000000) r, (SELECT resident_id FROM person LIMIT 10) p"
)
STOPPED_WITHIN_SECONDS = 60  # not a speed target: far below the query's minutes


@pytest.fixture
def published(hub_home):
    hub, source, path, _ = hukou_hub(hub_home, scale=0.05)
    sync_stream(hub, source, source.streams[0], source_file=path)
    return hub


def test_a_query_is_audited_with_actor_purpose_tables_and_rows(published):
    sql = "SELECT gender, count(*) AS n FROM person GROUP BY 1"
    result = run_query(published, sql, actor="civil_affairs", purpose="婚姻登记核验")
    (entry,) = published.repository.list_audit()
    assert (entry.actor, entry.action, entry.target) == ("civil_affairs", "query", "person")
    assert entry.purpose == "婚姻登记核验"
    assert entry.detail == {"sql": sql, "as_of": None, "outcome": "ok", "rows": result.num_rows}
    assert published.repository.verify_audit().intact


def test_refused_and_failed_queries_are_audited_too(published):
    with pytest.raises(QueryError):
        run_query(published, "DROP TABLE person", actor="x")
    with pytest.raises(QueryError):
        run_query(published, "SELECT no_such_column FROM person", actor="x")
    failed, refused = published.repository.list_audit()
    assert refused.detail["outcome"] == "refused"
    assert "only SELECT" in refused.detail["error"]
    assert failed.detail["outcome"] == "failed" and failed.target == "person"
    assert "no_such_column" in failed.detail["error"]


def test_a_query_that_cannot_be_audited_returns_nothing(published, monkeypatch):
    def refuse(**_):
        raise RuntimeError("catalog unavailable")

    monkeypatch.setattr(published.repository, "append_audit", refuse)
    with pytest.raises(RuntimeError, match="catalog unavailable"):
        run_query(published, "SELECT count(*) FROM person", actor="x")


def test_the_actor_defaults_to_the_login_name(published, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "analyst_li")
    run_query(published, "SELECT 1 AS one")
    assert published.repository.list_audit()[0].actor == "analyst_li"


@pytest.mark.parametrize(
    "sql, tables",
    [
        ("SELECT * FROM person p JOIN legal_entity l ON p.x = l.x", ["legal_entity", "person"]),
        ("WITH recent AS (SELECT * FROM person) SELECT * FROM recent", ["person"]),
        ("WITH person AS (SELECT * FROM person WHERE 1 = 1) SELECT * FROM person", ["person"]),
        (
            "SELECT * FROM certificate WHERE id IN (SELECT id FROM service_case)",
            ["certificate", "service_case"],
        ),
        ("SELECT * FROM read_csv('/etc/passwd')", []),
        ("DROP TABLE person", []),
        ("SELEC broken", []),
    ],
)
def test_tables_come_from_the_parse_tree_alone(sql, tables):
    assert tables_named(sql) == tables


def ctrl_c_once(ready: threading.Event, call) -> float:
    """Press Ctrl-C 0.3 s after ``ready``; seconds from then to ``call``'s KeyboardInterrupt."""
    pressed: list[float] = []

    def press_ctrl_c():
        assert ready.wait(30)
        time.sleep(0.3)  # DuckDB is busy by now
        pressed.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    presser = threading.Thread(target=press_ctrl_c)
    try:
        presser.start()
        with pytest.raises(KeyboardInterrupt):
            call()
        ended = time.monotonic()
    finally:
        presser.join()
        signal.signal(signal.SIGINT, previous)
    return ended - pressed[0]


def test_ctrl_c_stops_a_running_query_which_is_audited_as_interrupted(published, monkeypatch):
    import exhub.query.gateway as gateway

    opened = event_after_call(monkeypatch, gateway, "open_query_connection")
    waited = ctrl_c_once(opened, lambda: run_query(published, LONG_QUERY, actor="x"))
    assert waited < STOPPED_WITHIN_SECONDS  # stopped, not run to its end
    (entry,) = published.repository.list_audit()
    assert entry.detail["outcome"] == "failed" and entry.detail["error"] == "interrupted"


def test_ctrl_c_before_the_query_runs_is_audited_as_interrupted_too(published, monkeypatch):
    """Ctrl-C can land in DuckDB while the statement is still being parsed or checked."""
    import exhub.query.gateway as gateway

    parsing = threading.Event()
    name_tables = gateway.tables_named

    def slow_parse(sql):
        parsing.set()
        con = duckdb.connect()
        with ctrl_c_interrupts(con):
            con.sql("SELECT sum(hash(range)) FROM range(100000000000)").fetchall()
        return name_tables(sql)

    monkeypatch.setattr(gateway, "tables_named", slow_parse)
    waited = ctrl_c_once(parsing, lambda: run_query(published, "SELECT 1 FROM person", actor="x"))
    assert waited < STOPPED_WITHIN_SECONDS
    (entry,) = published.repository.list_audit()
    assert entry.detail["outcome"] == "failed" and entry.detail["error"] == "interrupted"
    assert entry.target == ""  # interrupted before the statement's tables were known
