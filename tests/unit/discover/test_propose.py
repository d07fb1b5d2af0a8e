"""Choosing what to propose: ids, departments, tables that fit no shared schema."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from pathlib import Path

import pytest

from exhub.discover import discover
from exhub.discover.propose import resolve_source_id
from exhub.errors import ConfigError
from exhub.semantic import make_resident_id
from exhub.sources import load_source

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    rng = random.Random(11)
    path = tmp_path_factory.mktemp("db") / "civil.db"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE MZ_HYDJ (GMSFHM TEXT, XM TEXT, XB TEXT, CSRQ TEXT, SCBZ TEXT, XGSJ TEXT)"
        )
        con.executemany(
            "INSERT INTO MZ_HYDJ VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    make_resident_id(rng, dt.date(1970 + i % 30, 1 + i % 12, 1), "340102"),
                    "张三李四王五"[i % 3 * 2 : i % 3 * 2 + 2],
                    "男女"[i % 2],
                    f"{1970 + i % 30}-{1 + i % 12:02d}-01",
                    "0" if i % 10 else "1",
                    f"2024-02-{1 + i % 28:02d} 10:00:00",
                )
                for i in range(80)
            ],
        )
        con.execute("CREATE TABLE SYS_LOG (ID INTEGER, MSG TEXT)")
        con.executemany("INSERT INTO SYS_LOG VALUES (?, ?)", [(i, "login") for i in range(5)])
    con.close()
    return path


def test_tables_fitting_no_schema_are_left_out_and_listed(database, contracts):
    found = discover(f"sqlite:///{database}", contracts, department="civil_affairs")
    assert [p.table.name for p in found.proposals] == ["MZ_HYDJ"]
    assert "# not proposed:" in found.text and "SYS_LOG" in found.text
    assert found.header.source_id == "civil"
    assert "department: {id: civil_affairs" in found.text


def test_deletion_flag_is_pointed_out(database, contracts):
    found = discover(f"sqlite:///{database}", contracts)
    line = next(x for x in found.text.splitlines() if "SCBZ (" in x)
    assert "deletion flag (删除标志)" in line


def test_written_file_loads(database, contracts, tmp_path):
    out = tmp_path / "mz_hydj.yaml"
    found = discover(f"sqlite:///{database}", contracts, output=out)
    out.write_text(found.text, encoding="utf-8")
    source = load_source(out)
    assert source.id == "mz_hydj"
    stream = source.streams[0]
    assert stream.cursor == "XGSJ"
    assert stream.mapping["resident_id"].from_ == "GMSFHM"


def test_id_comes_from_the_option_then_the_output_name():
    assert resolve_source_id("a_b", None, "x") == "a_b"
    assert resolve_source_id(None, Path("out/hukou_v2.yaml"), "x") == "hukou_v2"
    assert resolve_source_id(None, None, "x") == "x"


@pytest.mark.parametrize(
    ("source_id", "output"),
    [("Bad-Id", None), ("a", Path("b.yaml")), (None, Path("2024 export.yaml"))],
)
def test_bad_or_conflicting_ids_are_config_errors(source_id, output):
    with pytest.raises(ConfigError):
        resolve_source_id(source_id, output, "x")


def test_bad_department_is_a_config_error(database, contracts):
    with pytest.raises(ConfigError, match="--department"):
        discover(f"sqlite:///{database}", contracts, department="公安局")
