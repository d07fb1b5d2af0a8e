"""A realistic Hefei record of every shipped schema passes the engine's row rules.

Guards against a contract that loads but rejects real data: a pattern too strict for real
codes, a range that excludes real dates, a semantic type on the wrong field. The rows go
through the same conform + row-rule code as a sync, typed as text the way legacy exports are.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.base import POSITION_COLUMN
from exhub.conform.conformer import Conformer
from exhub.contracts import Contract, ContractRegistry
from exhub.semantic.generators import make_resident_id, make_uscc
from exhub.sources.models import StreamConfig
from exhub.validate.row_rules import apply_row_rules

pytestmark = pytest.mark.unit

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
REGISTRY = ContractRegistry(SCHEMAS)

_rng = random.Random(2019)
RESIDENT_ID = make_resident_id(_rng, dt.date(1985, 6, 1), area="340104")
COMPANY = make_uscc(_rng, area="340100")
AGENCY = make_uscc(_rng, area="340100")  # the department implementing the item
ITEM_CODE = AGENCY + "000105004000"
CASE_NUMBER = "340100-2024-000123"

ROWS: dict[str, dict[str, str | None]] = {
    "person@1": {
        "resident_id": RESIDENT_ID,
        "name": "张三",
        "gender": "male",
        "birth_date": "19850601",
        "ethnicity": "汉族",
        "household_division": "340104",
        "address": "安徽省合肥市蜀山区长江西路100号",
        "mobile": "13905510000",
        "updated_at": "2024-03-01 08:00:00",
    },
    "legal_entity@1": {
        "uscc": COMPANY,
        "entity_name": "合肥示例科技有限公司",
        "entity_type": "company",
        "legal_representative": "李四",
        "registered_capital": "500.00",
        "established_on": "2016/5/20",
        "division": "340100",
        "status": "active",
        "updated_at": "2024-03-01 08:00:00",
    },
    "service_item@1": {
        "item_code": ITEM_CODE,
        "basic_code": "000105004000",
        "item_name": "住房公积金个人住房贷款",
        "item_type": "public_service",
        "service_object": "person",
        "implementing_department": "合肥住房公积金管理中心",
        "implementing_department_uscc": AGENCY,
        "exercise_level": "municipal",
        "item_nature": "commitment",
        "legal_time_limit_days": "20",
        "promised_time_limit_days": "5",
        "max_visits": "0",
        "charges_fee": "false",
        "online_level": "full_online",
        "division": "340100",
        "status": "in_effect",
        "updated_at": "2024-03-01 10:00:00",
    },
    "service_case@1": {
        "case_number": CASE_NUMBER,
        "item_code": ITEM_CODE,
        "item_name": "住房公积金个人住房贷款",
        "applicant_type": "person",
        "applicant_resident_id": RESIDENT_ID,
        "applicant_uscc": None,
        "applicant_name": "张三",
        "applicant_mobile": "13905510000",
        "department_uscc": AGENCY,
        "submitted_at": "2024-03-01 09:00:00",
        "accepted_at": "2024-03-01 09:30:00",
        "promised_due_on": "2024-03-08",
        "completed_at": "2024-03-05 16:00:00",
        "status": "completed",
        "result": "approved",
        "certificate_id": None,
        "division": "340104",
        "channel": "window",
        "updated_at": "2024-03-05 16:00:00",
    },
    "service_evaluation@1": {
        "evaluation_id": "EV340100202403050001",
        "case_number": CASE_NUMBER,
        "item_code": ITEM_CODE,
        "department_uscc": AGENCY,
        "rating": "2",
        "rating_level": "dissatisfied",
        "complaint": "true",
        "complaint_text": "窗口等候时间过长",
        "anonymous": "false",
        "evaluator_mobile": "13905510000",
        "evaluated_at": "2024-03-05 17:00:00",
        "channel": "sms",
        "rectification_status": "rectifying",
        "rectify_due_on": "2024-03-26",
        "rectified_at": None,
        "division": "340104",
        "updated_at": "2024-03-06 09:00:00",
    },
    "certificate@1": {
        "certificate_id": f"1.2.156.3005.2.11100000000013127D001.{AGENCY}.340100202400001.001.K",
        "certificate_number": "340100000202403010001",
        "certificate_type_code": "11100000000013127D001",
        "certificate_type_name": "营业执照",
        "holder_type": "legal_entity",
        "holder_resident_id": None,
        "holder_uscc": COMPANY,
        "holder_name": "合肥示例科技有限公司",
        "issuing_department": "合肥市市场监督管理局",
        "issuing_department_uscc": AGENCY,
        "issued_on": "2024年3月1日",
        "valid_from": "20240301",
        "valid_until": None,
        "status": "valid",
        "case_number": CASE_NUMBER,
        "division": "340100",
        "updated_at": "2024-03-01 10:00:00",
    },
}
ROWS["person@2"] = {
    **{k: v for k, v in ROWS["person@1"].items() if k != "updated_at"},
    "nationality": "CHN",
    "death_date": None,
    "updated_at": ROWS["person@1"]["updated_at"],
}


def row_failures(contract: Contract, rows: list[dict[str, str | None]]) -> list[str]:
    """Rule ids of every failure of ``rows``, conformed with an identity mapping."""
    names = list(rows[0])
    stream = StreamConfig(
        name="sample",
        source="sample",
        target=contract.ref,
        mapping={name: {"from": name} for name in names},
    )
    columns = {name: pa.array([r[name] for r in rows], pa.string()) for name in names}
    columns[POSITION_COLUMN] = pa.array([str(i) for i in range(len(rows))])
    conformer = Conformer(contract, stream, where="sample", timezone="Asia/Shanghai")
    batch = conformer.conform(pa.record_batch(columns))
    return sorted(failure.rule_id for failure in apply_row_rules(contract, batch))


def test_every_shipped_schema_has_a_sample_row() -> None:
    assert set(ROWS) == set(REGISTRY.refs())


@pytest.mark.parametrize("ref", sorted(ROWS))
def test_realistic_row_passes(ref: str) -> None:
    contract = REGISTRY.get(ref)
    assert list(ROWS[ref]) == [f.name for f in contract.fields]
    assert row_failures(contract, [ROWS[ref]]) == []


@pytest.mark.parametrize(
    ("ref", "changes", "rule_ids"),
    [
        pytest.param("service_evaluation@1", {"rating": "6"}, ["rating.range"], id="rating-6"),
        pytest.param(
            "service_evaluation@1", {"rating_level": "good"}, ["rating_level.values"], id="level"
        ),
        pytest.param(
            "service_case@1",
            {"applicant_resident_id": RESIDENT_ID[:-1] + ("0" if RESIDENT_ID[-1] != "0" else "1")},
            ["applicant_resident_id.cn_resident_id"],
            id="bad-check-digit",
        ),
        pytest.param("service_case@1", {"channel": "fax"}, ["channel.values"], id="channel"),
        pytest.param("service_case@1", {"accepted_at": None}, ["accepted_at.required"], id="req"),
        pytest.param(
            "service_item@1", {"item_code": "000105004000"}, ["item_code.pattern"], id="code"
        ),
        pytest.param(
            "certificate@1", {"issued_on": "1900-01-01"}, ["issued_on.range"], id="issued-1900"
        ),
        pytest.param("person@2", {"nationality": "China"}, ["nationality.pattern"], id="nation"),
    ],
)
def test_broken_value_fails_its_rule(
    ref: str, changes: dict[str, str | None], rule_ids: list[str]
) -> None:
    assert row_failures(REGISTRY.get(ref), [{**ROWS[ref], **changes}]) == rule_ids
