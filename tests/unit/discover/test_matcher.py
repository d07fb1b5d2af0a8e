"""Column → field scoring on names and values, and the choice of contract."""

from __future__ import annotations

import pyarrow as pa
import pytest

from exhub.discover.matcher import THRESHOLD, propose_stream, score_pair
from exhub.discover.profile import ColumnProfile, TableSample
from exhub.semantic import make_resident_id, make_uscc

pytestmark = pytest.mark.unit


def column(name: str, values: list, kind: pa.DataType | None = None) -> ColumnProfile:
    array = pa.array(values, kind or pa.string())
    return ColumnProfile(name, array.type, array)


def table(name: str, *columns: ColumnProfile) -> TableSample:
    return TableSample(name, name, list(columns), len(columns[0].sample))


@pytest.fixture(scope="module")
def people() -> dict[str, list[str]]:
    import datetime as dt
    import random

    rng = random.Random(7)
    ids = [make_resident_id(rng, dt.date(1980, 1, 1 + i % 28), "340104") for i in range(60)]
    return {
        "ids": ids,
        "names": ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"] * 10,
        "mobiles": [f"13{i:09d}" for i in range(60)],
        "births": [f"1980-01-{1 + i % 28:02d}" for i in range(60)],
        "genders": ["1", "2"] * 30,
    }


def spec(contracts, ref: str, field: str):
    contract = next(c for c in contracts if c.ref == ref)
    return contract.field(field)


@pytest.mark.parametrize(
    ("name", "field", "evidence"),
    [
        ("SFZH", "resident_id", "pinyin 身份证号"),
        ("GMSFHM", "resident_id", "pinyin 公民身份号码"),
        ("ZJHM", "resident_id", "pinyin 证件号码"),
        ("AAC002", "resident_id", "HRSS code 公民身份号码"),
        ("身份证号码", "resident_id", "name 身份证号码"),
        ("id_card", "resident_id", "name id_card"),
        ("idCard", "resident_id", "name idCard"),
        ("XM", "name", "pinyin 姓名"),
        ("姓名", "name", "name 姓名"),
        ("CSRQ", "birth_date", "pinyin 出生日期"),
        ("birthday", "birth_date", "name birthday"),
        ("SJHM", "mobile", "pinyin 手机号码"),
        ("手机号码", "mobile", "name 手机号码"),
        ("AAB301", "household_division", "HRSS code"),
        ("MZ", "ethnicity", "pinyin 民族"),
        ("GXSJ", "updated_at", "pinyin 更新时间"),
        ("sex", "gender", "name sex"),
    ],
)
def test_names_alone_reach_the_threshold(contracts, name, field, evidence):
    suggestion = score_pair(column(name, []), spec(contracts, "person@1", field))
    assert suggestion.confidence >= THRESHOLD
    assert any(evidence in e for e in suggestion.evidence), suggestion.evidence


def test_values_alone_find_resident_ids_and_report_the_valid_ratio(contracts, people):
    ids = people["ids"][:50] + ["340104198001019999"] * 0 + ["123456789012345678"] * 10
    suggestion = score_pair(column("COL7", ids), spec(contracts, "person@1", "resident_id"))
    assert suggestion.confidence >= THRESHOLD
    assert "83% valid GB 11643" in suggestion.evidence


def test_values_that_contradict_the_name_lower_the_confidence(contracts, people):
    good = score_pair(column("SFZH", people["ids"]), spec(contracts, "person@1", "resident_id"))
    bad = score_pair(column("SFZH", people["names"]), spec(contracts, "person@1", "resident_id"))
    assert good.confidence > 0.95
    assert bad.confidence < good.confidence - 0.3


def test_values_alone_find_uscc_and_mobiles(contracts):
    import random

    rng = random.Random(3)
    codes = [make_uscc(rng, "340104") for _ in range(40)]
    uscc = score_pair(column("C1", codes), spec(contracts, "legal_entity@1", "uscc"))
    assert uscc.confidence >= 0.8 and "100% valid GB 32100" in uscc.evidence
    mobiles = [f"+86 139-{i:04d}-{i:04d}" for i in range(40)]
    mobile = score_pair(column("C2", mobiles), spec(contracts, "person@1", "mobile"))
    assert mobile.confidence >= 0.8


def test_gender_labels_propose_a_map(contracts):
    suggestion = score_pair(
        column("性别", ["男", "女", "男", "未知", "?"] * 5), spec(contracts, "person@1", "gender")
    )
    assert suggestion.code_map == {"女": "female", "未知": "unknown", "男": "male"}
    assert suggestion.unknown_codes == [("?", 5)]


def test_a_qualifier_picks_the_applicant_field(contracts, people):
    case = next(c for c in contracts if c.ref == "service_case@1")
    sample = table("BJ", column("申请人身份证号", people["ids"]))
    proposal = propose_stream(sample, [case], incremental=False)
    assert proposal.suggestions[0].field == "applicant_resident_id"


def test_english_table_is_proposed_as_person(contracts, people):
    sample = table(
        "citizens",
        column("id_card", people["ids"]),
        column("full_name", people["names"]),
        column("sex", people["genders"]),
        column("birthday", people["births"]),
        column("phone", people["mobiles"]),
    )
    proposal = propose_stream(sample, contracts, incremental=True)
    assert proposal.contract.ref == "person@1"
    assert {s.field: s.column for s in proposal.suggestions} == {
        "resident_id": "id_card",
        "name": "full_name",
        "gender": "sex",
        "birth_date": "birthday",
        "mobile": "phone",
    }
    assert proposal.cursor is None  # no update-time column
    assert proposal.key_filled and not proposal.missing_required


def test_unmatched_columns_are_reported_with_a_hint(contracts, people):
    sample = table(
        "T",
        column("SFZH", people["ids"]),
        column("BZ", ["备注"] * 60),
        column("DJRQ", people["births"]),
    )
    proposal = propose_stream(sample, contracts, incremental=False)
    unmapped = {u.column.name: u.hint for u in proposal.unmapped}
    assert set(unmapped) == {"BZ", "DJRQ"}
    assert unmapped["DJRQ"] and "parseable dates" in unmapped["DJRQ"]


def test_cursor_needs_sortable_values(contracts, people):
    stamps = [f"2024-01-{1 + i % 28:02d} 08:00:00" for i in range(60)]
    sortable = table("T", column("SFZH", people["ids"]), column("GXSJ", stamps))
    assert propose_stream(sortable, contracts, incremental=True).cursor.column == "GXSJ"
    legacy = [f"2024年1月{1 + i % 28}日 8:00" for i in range(60)]
    unsortable = table("T", column("SFZH", people["ids"]), column("GXSJ", legacy))
    assert propose_stream(unsortable, contracts, incremental=True).cursor is None
