"""Quarantine raw JSON built by Arrow kernels equals json.dumps, value by value."""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pytest

from exhub.validate.raw_json import rows_as_json

pytestmark = pytest.mark.unit

ALPHABET = [
    *"abcXYZ019 ",
    '"',
    "\\",
    "/",
    "\n",
    "\r",
    "\t",
    "\b",
    "\f",
    "\x00",
    "\x01",
    "\x1f",
    "\x7f",
    "张",
    "伟",
    "，",
    "\u3000",
    "\ufeff",
    "\u2028",
    "Ａ",
    "😀",
    "é",
]


def _value(rng: random.Random, null_share: float) -> str | None:
    if rng.random() < null_share:
        return None
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))


@pytest.mark.parametrize("null_share", [0.0, 0.15])
def test_rows_match_json_dumps_for_every_kind_of_character(null_share):
    rng = random.Random(20261126)
    names = ["sfzh", "姓名", 'odd "name"', "back\\slash", "tab\tname"]
    rows = [{name: _value(rng, null_share) for name in names} for _ in range(3000)]
    table = pa.table({name: pa.array([r[name] for r in rows], pa.string()) for name in names})
    built = rows_as_json(table).to_pylist()
    assert built == [json.dumps(row, ensure_ascii=False) for row in rows]
    assert [json.loads(text) for text in built] == rows


def test_columns_without_control_characters_and_empty_tables():
    table = pa.table(
        {"a": ["x", None, ""], "b": ['q"uote', "c:\\path", "地址"], "c": ["1", "2", "3"]}
    )
    expected = [json.dumps(r, ensure_ascii=False) for r in table.to_pylist()]
    assert rows_as_json(table).to_pylist() == expected
    assert rows_as_json(table.slice(0, 0)).to_pylist() == []
    assert rows_as_json(pa.table({"a": pa.array([], pa.string())})).to_pylist() == []
