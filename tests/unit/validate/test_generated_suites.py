"""Every shipped schema's generated Great Expectations suite runs and agrees with exhub's rules."""

from __future__ import annotations

import sys

import pyarrow as pa
import pytest

from connectors import POSITION_COLUMN
from exhub.conform.conformer import Conformer
from exhub.sources.models import StreamConfig
from exhub.validate.expectations import COMPUTED_SUFFIX, computed_rule_ids, run_suite
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
    frame = conformed.values.to_pandas()
    frame[POSITION_COLUMN] = conformed.positions.to_pylist()
    for rule in computed_rule_ids(contract):
        frame[rule + COMPUTED_SUFFIX] = True
    for failure in failures:
        if failure.rule_id in computed_rule_ids(contract):
            frame[failure.rule_id + COMPUTED_SUFFIX] = [not m for m in failure.mask.to_pylist()]
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


def test_prewarming_great_expectations_starts_one_import_per_process():
    from exhub.validate.expectations import prewarm

    first = prewarm()
    assert prewarm() is first
    first.join(timeout=120)
    assert "great_expectations" in sys.modules
