"""Every shipped schema's generated Great Expectations suite runs and agrees with exhub's rules."""

from __future__ import annotations

import sys
from decimal import Decimal

import pyarrow as pa
import pytest

from connectors import POSITION_COLUMN
from exhub.conform.conformer import Conformer
from exhub.contracts import load_contract
from exhub.sources.models import StreamConfig
from exhub.validate.expectations import (
    computed_rule_ids,
    expectation_specs,
    run_suite,
    suite_columns,
    suite_table,
)
from exhub.validate.row_rules import apply_row_rules
from tests.unit.contracts.test_realistic_rows import REGISTRY, ROWS

pytestmark = pytest.mark.unit


def gx_frame(contract, rows):
    names = list(rows[0])
    stream = StreamConfig(
        name="s", source="s", target=contract.ref, mapping={n: {"from": n} for n in names}
    )
    columns = {n: pa.array([r[n] for r in rows], pa.string()) for n in names}
    columns[POSITION_COLUMN] = pa.array([f"row {i}" for i in range(len(rows))])
    conformed = Conformer(contract, stream, where="t", timezone="Asia/Shanghai").conform(
        pa.record_batch(columns)
    )
    failures = apply_row_rules(contract, conformed)
    computed = computed_rule_ids(contract)
    failed = {f.rule_id: f.mask for f in failures if f.rule_id in computed}
    frame = suite_table(conformed.values, computed, failed, suite_columns(contract)).to_pandas()
    return frame, {f.rule_id for f in failures}


@pytest.mark.parametrize("ref", sorted(ROWS))
def test_suite_runs_and_passes_a_clean_row(ref):
    contract = REGISTRY.get(ref)
    frame, failed = gx_frame(contract, [ROWS[ref]])
    assert failed == set()
    result = run_suite(contract, frame)
    assert result["success"], [r for r in result["results"] if not r["success"]]
    rule_ids = {r["expectation_config"]["meta"]["rule_id"] for r in result["results"]}
    required = {f"{f.name}.required" for f in contract.fields if f.required}
    assert required <= rule_ids
    assert "unique_key" in rule_ids


def test_suite_flags_the_same_row_as_exhub():
    contract = REGISTRY.get("person@1")
    bad = {**ROWS["person@1"], "resident_id": ROWS["person@1"]["resident_id"][:-1] + "0"}
    if bad["resident_id"] == ROWS["person@1"]["resident_id"]:
        bad["resident_id"] = bad["resident_id"][:-1] + "1"
    frame, failed = gx_frame(contract, [ROWS["person@1"], bad])
    assert failed == {"resident_id.cn_resident_id"}
    result = run_suite(contract, frame)
    flagged = {
        r["expectation_config"]["meta"]["rule_id"]: r["result"].get("unexpected_count")
        for r in result["results"]
        if not r["success"]
    }
    assert flagged.get("resident_id.cn_resident_id") == 1


FEES = """\
name: fee
version: 1
domain: testing
title: {zh: 费用, en: Fee}
owner: data_resources
sharing:
  class: unconditional
update_cycle: daily
primary_key: [fee_id]
drift: freeze
fields:
  - name: fee_id
    type: string
    required: true
    description: {zh: 编号, en: Id}
  - name: amount
    type: decimal(12,2)
    range: {min: 0, max: 9999999999.99}
    description: {zh: 金额, en: Amount}
  - name: capital
    type: decimal(18,2)
    range: {min: 0}
    description: {zh: 资本, en: Capital}
"""


@pytest.fixture
def fees(tmp_path):
    path = tmp_path / "schemas" / "testing" / "fee.v1.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(FEES, encoding="utf-8")
    return load_contract(path)


def test_decimals_a_double_orders_exactly_reach_gx_as_floats_and_keep_their_bounds(fees):
    rows = [
        {"fee_id": "a", "amount": "0.00", "capital": "0.00"},
        {"fee_id": "b", "amount": "9999999999.99", "capital": "1234567890123456.78"},
        {"fee_id": "c", "amount": "-0.01", "capital": "-0.01"},
    ]
    frame, failed = gx_frame(fees, rows)
    assert failed == {"amount.range", "capital.range"}
    assert frame["amount"].dtype == "float64"
    assert frame["amount"].tolist() == [0.0, 9999999999.99, -0.01]
    # 18 digits do not fit a double: those stay exact Decimals.
    assert frame["capital"].tolist()[1] == Decimal("1234567890123456.78")
    result = run_suite(fees, frame)
    unexpected = {
        r["expectation_config"]["meta"]["rule_id"]: r["result"]["partial_unexpected_list"]
        for r in result["results"]
        if not r["success"]
    }
    assert unexpected == {"amount.range": [-0.01], "capital.range": [-0.01]}


def test_the_suite_never_fingerprints_its_frame(monkeypatch):
    from great_expectations.execution_engine import pandas_execution_engine as engine

    calls = []
    fingerprint = engine.hash_pandas_dataframe

    def counted(frame):
        calls.append(len(frame))
        return fingerprint(frame)

    monkeypatch.setattr(engine, "hash_pandas_dataframe", counted)
    contract = REGISTRY.get("person@1")
    frame, _ = gx_frame(contract, [ROWS["person@1"]])
    result = run_suite(contract, frame)
    assert result["success"]
    assert calls == []  # GX would hash every row to mark a frame that lives for one run
    assert result["meta"]["batch_parameters"] == {"dataframe": "<DATAFRAME>"}


def test_prewarming_great_expectations_starts_one_import_per_process():
    from exhub.validate.gx_import import prewarm

    first = prewarm()
    assert prewarm() is first
    first.join(timeout=120)
    assert "great_expectations" in sys.modules


def test_computed_rules_without_a_mask_pass_every_row():
    values = pa.table({"a": ["x", "y"], "b": ["1", "2"], "unread": ["p", "q"]})
    frame = suite_table(
        values, ["a.type", "b.type"], {"a.type": pa.array([True, None])}, columns=["a", "b"]
    ).to_pandas()
    assert frame["a.type__ok"].tolist() == [False, True]
    assert frame["b.type__ok"].tolist() == [True, True]
    assert list(frame.columns) == ["a", "b", "a.type__ok", "b.type__ok"]


@pytest.mark.parametrize("ref", sorted(ROWS))
def test_the_frame_holds_every_column_an_expectation_reads(ref):
    contract = REGISTRY.get(ref)
    frame, _ = gx_frame(contract, [ROWS[ref]])
    read = set()
    for _, kwargs in expectation_specs(contract):
        read |= {kwargs.get("column"), *kwargs.get("column_list", ())} - {None}
    # Exactly those: a column nobody reads only costs GX time, a missing one fails the suite.
    assert set(frame.columns) == read
    assert set(contract.primary_key) <= set(suite_columns(contract))
