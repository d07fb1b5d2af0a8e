"""Mapping expressions: a closed set of vectorized functions, nothing else."""

from __future__ import annotations

import pyarrow as pa
import pytest

from exhub.conform.expressions import ExpressionError, parse_expression
from exhub.sources.models import StreamConfig

pytestmark = pytest.mark.unit

BATCH = pa.RecordBatch.from_pydict(
    {
        "SJHM": [None, "13800138000", None],
        "LXDH": ["0551-1234567", "0551-7654321", None],
        "证件号码": ["34010419850301123X", "340104198503011239", "X"],
        "登记 日期": ["2019", "2020", "2021"],
    }
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("coalesce(SJHM, LXDH)", ["0551-1234567", "13800138000", None], id="coalesce"),
        pytest.param(
            "concat(LXDH, '#', 证件号码)",
            ["0551-1234567#34010419850301123X", "0551-7654321#340104198503011239", None],
            id="concat-chinese-column",
        ),
        pytest.param("substr(证件号码, 6, 8)", ["19850301", "19850301", ""], id="substr"),
        pytest.param("right(证件号码, 4)", ["123X", "1239", "X"], id="right"),
        pytest.param("left(LXDH, 4)", ["0551", "0551", None], id="left"),
        pytest.param("replace(LXDH, '-', '')", ["05511234567", "05517654321", None], id="replace"),
        pytest.param("lower(right(证件号码, 1))", ["x", "9", "x"], id="nested"),
        pytest.param('col("登记 日期")', ["2019", "2020", "2021"], id="col-with-space"),
    ],
)
def test_evaluates_vectorized(text, expected):
    assert parse_expression(text).evaluate(BATCH).to_pylist() == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("__import__('os').system('id')", id="import"),
        pytest.param("SJHM.upper()", id="attribute"),
        pytest.param("SJHM + LXDH", id="operator"),
        pytest.param("open('/etc/passwd')", id="unknown-function"),
        pytest.param("(lambda: 1)()", id="lambda"),
        pytest.param("upper(x=SJHM)", id="keyword"),
        pytest.param("[SJHM]", id="list"),
    ],
)
def test_refuses_anything_else(text):
    with pytest.raises(ExpressionError):
        parse_expression(text)


def test_columns_are_collected():
    assert parse_expression("coalesce(SJHM, col('登记 日期'), '无')").columns == (
        "SJHM",
        "登记 日期",
    )


def test_bad_expression_in_a_source_file_is_a_validation_error():
    with pytest.raises(ValueError, match="not allowed"):
        StreamConfig.model_validate(
            {
                "name": "s",
                "source": "T",
                "target": "person@1",
                "mapping": {"mobile": {"expr": "eval('1')"}},
            }
        )
