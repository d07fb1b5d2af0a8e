"""Masked column forms, and which datasets and columns each department may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date

import duckdb
import pytest

from exhub.access.masking import masked_sql
from exhub.access.policy import ColumnAccess, _decide, is_protected
from exhub.contracts.loader import ContractRegistry
from exhub.contracts.models import FieldSpec
from exhub.errors import ConfigError
from exhub.settings import SHIPPED_SCHEMAS

pytestmark = pytest.mark.unit


def _mask(spec: dict, values: list, sql_type: str = "VARCHAR") -> list:
    field = FieldSpec.model_validate({"description": {"zh": "x", "en": "x"}, **spec})
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t ({field.name} {sql_type})")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    return [row[0] for row in con.execute(f"SELECT {masked_sql(field)} FROM t").fetchall()]


def test_a_resident_id_keeps_its_division_and_last_four():
    spec = {"name": "resident_id", "type": "string", "semantic": "cn_resident_id"}
    masked = _mask(spec, ["340104198001011234", "34010480010112", "1234567", None])
    assert masked == ["340104********1234", "340104****0112", "*******", None]


def test_a_mobile_keeps_its_first_three_and_last_four():
    masked = _mask({"name": "mobile", "type": "string", "semantic": "cn_mobile"}, ["13812345678"])
    assert masked == ["138****5678"]


def test_other_text_keeps_its_first_character():
    assert _mask({"name": "name", "type": "string"}, ["张三丰", "李", ""]) == ["张**", "李", ""]


def test_other_types_become_null_of_their_own_type():
    field = FieldSpec.model_validate(
        {"name": "birth_date", "type": "date", "description": {"zh": "x", "en": "x"}}
    )
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT DATE '1980-01-01' AS birth_date")
    row = con.execute(f"SELECT {masked_sql(field)}, typeof(birth_date) FROM t").fetchone()
    assert row == (None, "DATE")
    assert con.execute("SELECT birth_date FROM t").fetchone() == (date(1980, 1, 1),)


@pytest.fixture(scope="module")
def contracts():
    return ContractRegistry(SHIPPED_SCHEMAS)


@pytest.fixture(scope="module")
def person(contracts):
    return contracts.get("person@1")  # conditional, owned by public_security


@pytest.fixture(scope="module")
def legal_entity(contracts):
    return contracts.get("legal_entity@1")  # unconditional, owned by market_regulation


@dataclass(frozen=True)
class Grant:
    id: int
    columns: list[str]
    row_filter: str | None = None
    decided_by: str = "public_security"


def test_the_owner_reads_everything_raw(person):
    access = _decide(person, "public_security", [])
    assert access.readable and access.basis == "owner" and access.masked == []
    assert "_department" in access.columns


def test_unconditional_masks_protected_columns_unless_granted(legal_entity):
    protected = {f.name for f in legal_entity.fields if is_protected(f)}
    assert protected == {"legal_representative"}
    access = _decide(legal_entity, "civil_affairs", [])
    assert access.readable and access.masked == ["legal_representative"]
    assert access.columns["uscc"] is ColumnAccess.RAW
    granted = _decide(legal_entity, "civil_affairs", [Grant(7, ["legal_representative"])])
    assert granted.masked == [] and granted.grants == (7,) and "#7" in granted.basis


def test_conditional_needs_a_grant_and_shows_only_the_granted_columns_raw(person):
    denied = _decide(person, "civil_affairs", [])
    assert not denied.readable and "needs a grant" in denied.basis
    access = _decide(person, "civil_affairs", [Grant(1, ["resident_id"]), Grant(2, ["name"])])
    assert access.readable and access.grants == (1, 2)
    raw = {name for name, how in access.columns.items() if how is ColumnAccess.RAW}
    assert raw == {"resident_id", "name", "_source", "_department", "_run_id", "_extracted_at"}
    assert "gender" in access.masked  # not protected, but not granted either


def test_not_shared_does_not_exist_for_other_departments(person):
    hidden = person.model_copy(
        update={"sharing": person.sharing.model_copy(update={"class_": "not_shared"})}
    )
    assert _decide(hidden, "civil_affairs", [Grant(1, ["resident_id"])]) is None
    assert _decide(hidden, "public_security", []).readable


def test_a_grant_the_hub_made_never_opens_what_the_owner_must_review(legal_entity, person):
    """Found by review: hub-made grants (unconditional, unprotected) survived contract changes."""
    direct = Grant(3, ["uscc", "legal_representative"], decided_by="exhub")
    access = _decide(legal_entity, "civil_affairs", [direct])
    assert access.masked == ["legal_representative"]  # protected now: the hub cannot grant it
    conditional = _decide(person, "civil_affairs", [Grant(4, ["name"], decided_by="exhub")])
    assert not conditional.readable
    reviewed = _decide(person, "civil_affairs", [Grant(5, ["name"])])
    assert reviewed.readable and reviewed.columns["name"] is ColumnAccess.RAW


def test_an_expiry_date_lasts_through_that_day_in_the_hubs_time_zone():
    from datetime import datetime, timedelta

    from exhub.access.requests import parse_expiry

    end = parse_expiry("2027-06-30", "Asia/Shanghai")
    assert end == datetime(2027, 6, 30, 16, 0, tzinfo=UTC)  # 07-01 00:00 in Beijing
    naive = parse_expiry("2027-06-30T18:00:00", "Asia/Shanghai")
    assert naive.utcoffset() == timedelta(hours=8)
    with pytest.raises(ConfigError, match="not an ISO date or time"):
        parse_expiry("next year", "Asia/Shanghai")
