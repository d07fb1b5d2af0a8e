"""What a sample of one column looks like: the value patterns discovery scores fields with.

Every ratio is over the sample's non-blank values (text is normalized first: trimmed,
full-width → half-width), computed with the same vectorized checks the conform stage runs,
so "98% valid GB 11643" here means 98% would pass ``cn_resident_id`` there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

from exhub.semantic import (
    check_admin_division,
    check_mobile,
    check_resident_id,
    check_uscc,
    normalize_text,
    parse_dates,
)
from exhub.semantic.result import SemanticResult, to_string_array

DISTINCT_SHOWN = 50
"""Most distinct values kept per column (code sets are small; free text is not)."""

# Excel serial numbers parse as dates; a bare 1-5 digit number is not evidence of a date.
_BARE_NUMBER = r"^\d{1,5}(?:\.0+)?$"
_HAN_NAME = r"^[\x{4e00}-\x{9fff}]{2,4}$|^[\x{4e00}-\x{9fff}]{1,8}·[\x{4e00}-\x{9fff}·]{1,16}$"
_ENTITY_NAME = (
    r"[\x{4e00}-\x{9fff}]{2,}.*(公司|厂|店|社|中心|部|所|院|行|馆|会|局|站|集团|企业|合作社)"
    r"(\)|）)?$"
)
_ADDRESS = r"(省|市|区|县|镇|乡|村|路|街|道|巷|号|弄|组|栋|室)"
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
_TIME_OF_DAY = r"\d{1,2}:\d{2}"
_ISO_STAMP = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$"
ETHNIC_NAMES = frozenset((
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜",
    "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳",
    "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
    "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
    "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔",
    "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
))  # fmt: skip
"""The 56 ethnic groups of GB/T 3304 (without the 族 suffix)."""


@dataclass
class ColumnProfile:
    """A column's name, Arrow type and a sample of its values.

    Attributes:
        name: the source column name.
        arrow_type: the type the connector reads it as.
        sample: up to ``sample_rows`` values as the connector returned them.
        source_type: the type as the source declares it (SQL type), when known.
    """

    name: str
    arrow_type: pa.DataType
    sample: pa.Array
    source_type: str | None = None
    _cache: dict[str, float] = field(default_factory=dict, repr=False)

    @cached_property
    def text(self) -> pa.Array:
        """Non-blank sample values as normalized text (no nulls)."""
        values = self.sample
        if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
            return pa.array([], pa.string())
        texts = normalize_text(to_string_array(values))
        return texts.filter(pc.is_valid(texts))

    @property
    def present(self) -> int:
        """Number of non-blank values in the sample."""
        return len(self.text)

    @property
    def null_ratio(self) -> float:
        """Share of the sample that is null or blank."""
        return 1 - self.present / len(self.sample) if len(self.sample) else 1.0

    @cached_property
    def counts(self) -> Counter[str]:
        """How often each distinct value occurs in the sample (most common first)."""
        if not self.present:
            return Counter()
        counted = pc.value_counts(self.text)
        return Counter(
            dict(
                zip(
                    counted.field("values").to_pylist(),
                    counted.field("counts").to_pylist(),
                    strict=True,
                )
            )
        )

    @property
    def distinct(self) -> int:
        """Number of distinct non-blank values in the sample."""
        return len(self.counts)

    def examples(self, count: int = 3) -> list[str]:
        """The most common values (for comments on unmapped columns)."""
        return [value for value, _ in self.counts.most_common(count)]

    # --- pattern ratios ---------------------------------------------------------------

    def _valid_ratio(self, key: str, check) -> float:
        if key not in self._cache:
            if not self.present:
                self._cache[key] = 0.0
            else:
                result: SemanticResult = check(self.text)
                self._cache[key] = 1 - result.invalid_count / self.present
        return self._cache[key]

    def _match_ratio(self, pattern: str) -> float:
        if not self.present:
            return 0.0
        hits = pc.sum(pc.match_substring_regex(self.text, pattern).cast(pa.int64())).as_py()
        return (hits or 0) / self.present

    @property
    def is_temporal(self) -> bool:
        """The connector already reads the column as a date or timestamp."""
        kind = self.arrow_type
        return pa.types.is_date(kind) or pa.types.is_timestamp(kind)

    @property
    def is_numeric(self) -> bool:
        """The connector reads the column as a number."""
        kind = self.arrow_type
        return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)

    def resident_id_ratio(self) -> float:
        """Share that passes ``cn_resident_id`` (GB 11643 check digit, 15 → 18 upgrade)."""
        return self._valid_ratio("resident_id", check_resident_id)

    def uscc_ratio(self) -> float:
        """Share that passes ``cn_uscc`` (GB 32100 check character)."""
        return self._valid_ratio("uscc", check_uscc)

    def mobile_ratio(self) -> float:
        """Share that passes ``cn_mobile``."""
        return self._valid_ratio("mobile", check_mobile)

    def division_ratio(self) -> float:
        """Share that is a GB/T 2260 code in force today (six digits, listed or plausible)."""
        if self.is_numeric and not pa.types.is_integer(self.arrow_type):
            return 0.0
        return self._valid_ratio("division", check_admin_division)

    def date_ratio(self) -> float:
        """Share that parses as a calendar day in a legacy shape (bare small numbers excluded)."""
        if self.is_temporal:
            return 1.0
        if self.is_numeric or not self.present:
            return 0.0
        if "date" not in self._cache:
            bare = pc.match_substring_regex(self.text, _BARE_NUMBER)
            candidates = self.text.filter(pc.invert(bare))
            parsed = parse_dates(candidates).values if len(candidates) else pa.array([])
            self._cache["date"] = (len(parsed) - parsed.null_count) / self.present
        return self._cache["date"]

    def datetime_ratio(self) -> float:
        """Share that is a date with a time of day (update stamps, acceptance times)."""
        if pa.types.is_timestamp(self.arrow_type):
            return 1.0
        if self.is_temporal or self.is_numeric:
            return 0.0
        return min(self.date_ratio(), self._match_ratio(_TIME_OF_DAY))

    def iso_sortable_ratio(self) -> float:
        """Share written as zero-padded ISO text, whose text order is time order (cursors)."""
        if self.is_temporal:
            return 1.0
        if self.is_numeric:
            return 0.0
        return self._match_ratio(_ISO_STAMP)

    def numeric_ratio(self) -> float:
        """Share that is a plain decimal number."""
        if self.is_numeric:
            return 1.0
        return self._match_ratio(_NUMBER)

    def person_name_ratio(self) -> float:
        """Share that looks like a Chinese personal name (2-4 Han characters, or X·Y)."""
        return self._match_ratio(_HAN_NAME)

    def entity_name_ratio(self) -> float:
        """Share that looks like an organisation name (ends in 公司, 合作社, 中心 ...)."""
        return self._match_ratio(_ENTITY_NAME)

    def address_ratio(self) -> float:
        """Share that looks like a postal address (6+ characters with 省/市/路/号 ...)."""
        if not self.present:
            return 0.0
        long_enough = pc.greater_equal(pc.utf8_length(self.text), 6)
        has_part = pc.match_substring_regex(self.text, _ADDRESS)
        hits = pc.sum(pc.and_(long_enough, has_part).cast(pa.int64())).as_py() or 0
        return hits / self.present

    def ethnicity_ratio(self) -> float:
        """Share that is a GB/T 3304 ethnic group, by name (汉族) or two-digit code (01-56)."""
        if not self.present:
            return 0.0
        known = 0
        for value, count in self.counts.items():
            bare = value.removesuffix("族")
            code_ok = value.isdigit() and len(value) == 2 and 1 <= int(value) <= 58
            if bare in ETHNIC_NAMES or code_ok or value in {"97", "98"}:
                known += count
        return known / self.present


@dataclass
class TableSample:
    """One table (or group of files) and a sample of its rows.

    Attributes:
        name: how the summary names it (table name, or the files' glob).
        source_object: what a stream's ``source`` says: the table name or file glob.
        columns: one profile per column, in source order.
        row_count: rows in the table (files: records read, rejects included), if counted.
        rejects: records the connector could not read (quarantined in a run): in the sample
            for tables, in every matched file for files.
        notes: evidence about the table itself (files matched, header detected ...).
        options: stream-level connector options (files whose encoding differs ...).
    """

    name: str
    source_object: str
    columns: list[ColumnProfile]
    row_count: int | None = None
    rejects: int = 0
    notes: list[str] = field(default_factory=list)
    options: dict[str, object] = field(default_factory=dict)

    @property
    def sampled(self) -> int:
        """Rows in the sample."""
        return len(self.columns[0].sample) if self.columns else 0
