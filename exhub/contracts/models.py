"""Shared schema contracts (数据标准): the one truth every source is conformed to.

Contracts are data: ``schemas/<domain>/<name>.v<N>.yaml`` parsed into these frozen models.
Dataset rules are a union discriminated on ``type``, as dlt models schema hints.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, model_validator

FIELD_NAME = r"^[a-z][a-z0-9_]*$"
DECIMAL_TYPE = re.compile(r"^decimal\((\d{1,2}),\s*(\d{1,2})\)$")
SCALAR_TYPES = {"string", "int", "long", "double", "boolean", "date", "timestamp"}


class LocatedError(ValueError):
    """A cross-key check failure that knows which key is at fault (for file:line errors)."""

    def __init__(self, message: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.loc = loc


class Frozen(BaseModel):
    """Base of contract models: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class SharingClass(StrEnum):
    """Sharing class of government data (政务数据共享分类)."""

    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NOT_SHARED = "not_shared"  # 不予共享


class UpdateCycle(StrEnum):
    """How often the owner promises fresh data (更新周期)."""

    REALTIME = "realtime"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class DriftPolicy(StrEnum):
    """What to do when a source sends columns the contract does not know (dlt vocabulary)."""

    EVOLVE = "evolve"
    FREEZE = "freeze"
    DISCARD_ROW = "discard_row"
    DISCARD_VALUE = "discard_value"


class Sensitivity(StrEnum):
    """Sensitivity grade of a column, lowest to highest."""

    L1 = "L1"  # public
    L2 = "L2"  # internal
    L3 = "L3"  # sensitive (PII)
    L4 = "L4"  # highly sensitive


class SemanticType(StrEnum):
    """Semantic types with vectorized checks in ``exhub.semantic``."""

    CN_RESIDENT_ID = "cn_resident_id"
    CN_USCC = "cn_uscc"
    CN_ADMIN_DIVISION = "cn_admin_division"
    CN_MOBILE = "cn_mobile"


class Text(Frozen):
    """A bilingual text."""

    zh: str
    en: str


class Range(Frozen):
    """Inclusive bounds for numbers or ISO dates."""

    min: float | str | None = None
    max: float | str | None = None


class FieldSpec(Frozen):
    """One column of a shared schema."""

    name: str = Field(pattern=FIELD_NAME)
    type: str
    required: bool = False
    description: Text
    semantic: SemanticType | None = None
    pattern: str | None = None
    values: list[str] | None = None
    range: Range | None = None
    pii: bool = False
    sensitivity: Sensitivity = Sensitivity.L1

    @model_validator(mode="after")
    def _check_type(self) -> FieldSpec:
        decimal = DECIMAL_TYPE.match(self.type)
        if self.type not in SCALAR_TYPES and not decimal:
            raise LocatedError(
                f"type '{self.type}' unknown; use one of {sorted(SCALAR_TYPES)} or decimal(p,s)",
                ("type",),
            )
        if decimal and not (1 <= int(decimal[1]) <= 38 and int(decimal[2]) <= int(decimal[1])):
            raise LocatedError("decimal(p,s) needs 1 <= p <= 38 and s <= p", ("type",))
        text_only = {"semantic": self.semantic, "pattern": self.pattern}
        for key, value in text_only.items():
            if value is not None and self.type != "string":
                raise LocatedError(f"'{key}' applies to string fields, not {self.type}", (key,))
        if self.range is not None:
            self._check_range()
        if self.pattern is not None:
            try:
                # Arrow (RE2) evaluates patterns, so check them with Arrow, not Python's re.
                pc.match_substring_regex(pa.array([""]), self.pattern)
            except pa.ArrowInvalid as exc:
                raise ValueError(
                    f"pattern is not a valid RE2 regular expression (no look-arounds or "
                    f"back-references): {exc}"
                ) from exc
        if self.pii and self.sensitivity < Sensitivity.L3:
            raise ValueError("a PII field needs sensitivity L3 or L4")
        return self

    @property
    def protected(self) -> bool:
        """PII, or graded sensitive (L3) or highly sensitive (L4): masked unless granted."""
        return self.pii or self.sensitivity in (Sensitivity.L3, Sensitivity.L4)

    def _check_range(self) -> None:
        assert self.range is not None
        low, high = self.range.min, self.range.max
        if self.type in {"date", "timestamp"}:
            for bound in (low, high):
                if bound is not None and not isinstance(bound, str):
                    raise LocatedError(
                        f'{self.type} range bounds are ISO dates in quotes, e.g. "1949-10-01"',
                        ("range",),
                    )
        elif self.type in {"string", "boolean"}:
            raise LocatedError(f"'range' does not apply to {self.type} fields", ("range",))
        if (
            low is not None and high is not None and str(low) > str(high)
            if isinstance(low, str)
            else (low is not None and high is not None and float(low) > float(high))
        ):
            raise LocatedError(f"range min {low} is above max {high}", ("range",))


class Sharing(Frozen):
    """Sharing class with its conditions or legal basis."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    class_: SharingClass = Field(alias="class")
    conditions: str | None = None
    legal_basis: str | None = None

    @model_validator(mode="after")
    def _needs_basis(self) -> Sharing:
        if self.class_ is not SharingClass.UNCONDITIONAL and not self.legal_basis:
            raise ValueError(f"sharing class '{self.class_}' needs a legal_basis")
        if self.class_ is SharingClass.CONDITIONAL and not self.conditions:
            raise ValueError("conditional sharing needs 'conditions' (who may ask, for what)")
        if self.class_ is not SharingClass.CONDITIONAL and self.conditions:
            raise LocatedError(
                f"'conditions' only apply to conditional sharing, not '{self.class_}'",
                ("conditions",),
            )
        return self


class UniqueKeyRule(Frozen):
    """The primary key is unique within the run."""

    type: Literal["unique_key"]


class RowCountDropRule(Frozen):
    """The run must not shrink by more than ``max_drop`` versus the last good run."""

    type: Literal["row_count_drop"]
    max_drop: float = Field(gt=0, le=1)


class NullRatioRule(Frozen):
    """At most ``max`` of a field's values may be null."""

    type: Literal["null_ratio"]
    field: str
    max: float = Field(ge=0, le=1)


class FreshnessRule(Frozen):
    """The newest value of a date/timestamp field must be at most ``max_age_hours`` old."""

    type: Literal["freshness"]
    field: str
    max_age_hours: float = Field(gt=0)


DatasetRule = Annotated[
    UniqueKeyRule | RowCountDropRule | NullRatioRule | FreshnessRule, Field(discriminator="type")
]


class Contract(Frozen):
    """A shared schema (data contract) at one version."""

    name: str = Field(pattern=FIELD_NAME)
    version: int = Field(ge=1)
    domain: str = Field(pattern=FIELD_NAME)
    title: Text
    description: Text | None = None
    owner: str = Field(pattern=FIELD_NAME, description="owner department id")
    sharing: Sharing
    update_cycle: UpdateCycle
    primary_key: list[str] = Field(min_length=1)
    drift: DriftPolicy = DriftPolicy.FREEZE
    fields: list[FieldSpec] = Field(min_length=1)
    rules: list[DatasetRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_references(self) -> Contract:
        names = [f.name for f in self.fields]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"field names repeat: {sorted(dupes)}")
        for index, key in enumerate(self.primary_key):
            if key not in names:
                raise LocatedError(
                    f"primary_key names unknown field '{key}'", ("primary_key", index)
                )
            if not self.field(key).required:
                raise LocatedError(
                    f"primary key field '{key}' must be required: true", ("primary_key", index)
                )
        seen_rules = set()
        for index, rule in enumerate(self.rules):
            signature = rule.model_dump_json()
            if signature in seen_rules:
                raise LocatedError("this dataset rule is listed twice", ("rules", index))
            seen_rules.add(signature)
            if isinstance(rule, FreshnessRule) and (
                rule.field not in names or self.field(rule.field).type not in {"date", "timestamp"}
            ):
                raise LocatedError(
                    f"freshness rule needs a date or timestamp field, got '{rule.field}'",
                    ("rules", index, "field"),
                )
            if isinstance(rule, NullRatioRule) and rule.field not in names:
                raise LocatedError(
                    f"null_ratio rule names unknown field '{rule.field}'",
                    ("rules", index, "field"),
                )
        return self

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def protected_columns(self) -> list[str]:
        """Fields masked unless granted (see ``FieldSpec.protected``)."""
        return [spec.name for spec in self.fields if spec.protected]

    @property
    def ref(self) -> str:
        """``name@version``, the form sources use to target a contract."""
        return f"{self.name}@{self.version}"

    @property
    def iceberg_identifier(self) -> tuple[str, str]:
        """Namespace (the domain) and table name of the dataset."""
        return (self.domain, self.name)
