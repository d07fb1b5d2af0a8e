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
from exhub.query import run_query
from exhub.query.names import tables_named
from tests.support import hukou_hub

pytestmark = pytest.mark.unit
# Seconds of hashing over the 131-row sample (131^4 rows), in constant memory. DuckDB checks
# for Ctrl-C between the tasks of such a join; a longer single-source scan it would not stop.
LONG_QUERY = (
    "SELECT sum(hash(a.resident_id, b.resident_id, c.resident_id, d.resident_id)) "
    "FROM person a, person b, person c, person d"
)


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


def test_ctrl_c_stops_a_running_query_which_is_audited_as_interrupted(published, monkeypatch):
    import exhub.query.gateway as gateway

    opened = threading.Event()
    open_connection = gateway.open_query_connection

    def open_and_tell(*args, **kwargs):
        con = open_connection(*args, **kwargs)
        opened.set()
        return con

    def press_ctrl_c():
        assert opened.wait(30)
        time.sleep(0.3)  # the query is running
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(gateway, "open_query_connection", open_and_tell)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    presser = threading.Thread(target=press_ctrl_c)
    try:
        presser.start()
        with pytest.raises(KeyboardInterrupt):
            run_query(published, LONG_QUERY, actor="x")
    finally:
        presser.join()
        signal.signal(signal.SIGINT, previous)
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
        con.execute("CREATE TABLE person AS SELECT range AS resident_id FROM range(181)")
        con.sql(LONG_QUERY).fetchall()
        return name_tables(sql)

    def press_ctrl_c():
        assert parsing.wait(30)
        time.sleep(0.3)  # DuckDB is busy inside the parsing step
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(gateway, "tables_named", slow_parse)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    presser = threading.Thread(target=press_ctrl_c)
    try:
        presser.start()
        with pytest.raises(KeyboardInterrupt):
            run_query(published, "SELECT count(*) FROM person", actor="x")
    finally:
        presser.join()
        signal.signal(signal.SIGINT, previous)
    (entry,) = published.repository.list_audit()
    assert entry.detail["outcome"] == "failed" and entry.detail["error"] == "interrupted"
    assert entry.target == ""  # interrupted before the statement's tables were known
