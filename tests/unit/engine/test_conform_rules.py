"""Conform and row rules on small batches: each dirty value fails exactly its rule."""

from __future__ import annotations

import pyarrow as pa
import pytest

from connectors import POSITION_COLUMN
from exhub.conform.conformer import Conformer
from exhub.contracts import ContractRegistry
from exhub.settings import SHIPPED_SCHEMAS
from exhub.sources.models import StreamConfig
from exhub.validate.quarantine import failed_mask
from exhub.validate.row_rules import apply_row_rules

pytestmark = pytest.mark.unit

VALID_ID = "11010519491231002X"


def conform(rows: dict[str, list], mapping: dict):
    contract = ContractRegistry(SHIPPED_SCHEMAS).get("person@1")
    stream = StreamConfig.model_validate(
        {"name": "s", "source": "T", "target": "person@1", "mapping": mapping}
    )
    conformer = Conformer(contract, stream, where="test.yaml", timezone="Asia/Shanghai")
    length = len(next(iter(rows.values())))
    batch = pa.RecordBatch.from_pydict(
        {**rows, POSITION_COLUMN: [f"T row={i}" for i in range(length)]}
    )
    conformed = conformer.conform(batch)
    failures = apply_row_rules(contract, conformed)
    return conformed, {f.rule_id: f.mask.to_pylist() for f in failures}, failures


MAPPING = {
    "resident_id": "SFZH",
    "name": "XM",
    "gender": {"from": "XB", "map": {"1": "male", "2": "female"}, "map_unmapped": "reject"},
    "birth_date": "CSRQ",
}


def test_clean_legacy_values_are_conformed():
    conformed, failures, _ = conform(
        {
            "SFZH": [" 11010519491231002x ", "１１０１０５１９４９１２３１００２Ｘ"],
            "XM": [" 张三 ", "李四"],
            "XB": ["1", "2"],
            "CSRQ": ["1949年12月31日", "19491231"],
        },
        MAPPING,
    )
    assert failures == {}
    values = conformed.values.to_pydict()
    assert values["resident_id"] == [VALID_ID, VALID_ID]
    assert values["name"] == ["张三", "李四"]
    assert values["gender"] == ["male", "female"]
    assert [d.isoformat() for d in values["birth_date"]] == ["1949-12-31", "1949-12-31"]


def test_each_defect_fails_its_own_rule_once():
    _, failures, all_failures = conform(
        {
            "SFZH": [VALID_ID[:-1] + "1", VALID_ID, VALID_ID, VALID_ID],
            "XM": ["王五", "", "赵六", "钱七"],
            "XB": ["1", "1", "X", "2"],
            "CSRQ": ["19491231", "19491231", "19491231", "0000-00-00"],
        },
        MAPPING,
    )
    assert failures == {
        "resident_id.cn_resident_id": [True, False, False, False],
        "name.required": [False, True, False, False],
        "gender.map": [False, False, True, False],
        "birth_date.type": [False, False, False, True],
    }
    assert failed_mask(all_failures, 4).to_pylist() == [True, True, True, True]


def test_missing_source_column_names_mapping_key():
    from exhub.errors import ConfigError

    contract = ContractRegistry(SHIPPED_SCHEMAS).get("person@1")
    stream = StreamConfig.model_validate(
        {"name": "s", "source": "T", "target": "person@1", "mapping": MAPPING}
    )
    conformer = Conformer(contract, stream, where="sources/x.yaml", timezone="Asia/Shanghai")
    with pytest.raises(ConfigError) as info:
        conformer.check_columns(pa.schema([("SFZH", pa.string()), ("XM", pa.string())]))
    assert "sources/x.yaml" in str(info.value) and "XB" in str(info.value)


def test_expression_mapping_feeds_semantic_check():
    _, failures, _ = conform(
        {
            "SFZH": [VALID_ID, VALID_ID],
            "XM": ["王五", "赵六"],
            "XB": ["1", "2"],
            "CSRQ": ["19491231", "19491231"],
            "SJHM": [None, "12345"],
            "LXDH": ["138-0013-8000", "13900139000"],
        },
        {**MAPPING, "mobile": {"expr": "coalesce(SJHM, LXDH)"}},
    )
    assert failures == {"mobile.cn_mobile": [False, True]}
