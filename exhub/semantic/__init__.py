"""Vectorized checks and normalizers for Chinese government semantic types (SPEC §7).

Every check takes a pyarrow array and returns a :class:`SemanticResult`: normalized values
(null where invalid), a validity mask (null inputs count as valid; required-ness is a
separate rule) and a short reason for quarantine. Work is done column-wise with
``pyarrow.compute``; Python loops run only over distinct values or character positions.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from exhub.semantic.admin_division import check_admin_division
from exhub.semantic.dates import parse_dates
from exhub.semantic.generators import corrupt_one_char, make_resident_id, make_uscc
from exhub.semantic.mobile import check_mobile
from exhub.semantic.resident_id import check_resident_id
from exhub.semantic.result import SemanticResult
from exhub.semantic.text import normalize_text
from exhub.semantic.uscc import check_uscc

SEMANTIC_TYPES: dict[str, Callable[[pa.Array], SemanticResult]] = {
    "cn_resident_id": check_resident_id,
    "cn_uscc": check_uscc,
    "cn_admin_division": check_admin_division,
    "cn_mobile": check_mobile,
    "date": parse_dates,
}

__all__ = [
    "SEMANTIC_TYPES",
    "SemanticResult",
    "check_admin_division",
    "check_mobile",
    "check_resident_id",
    "check_uscc",
    "corrupt_one_char",
    "make_resident_id",
    "make_uscc",
    "normalize_text",
    "parse_dates",
]
