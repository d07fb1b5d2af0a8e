"""Source-system files (``sources/<id>.yaml``): one legacy system, its streams and mappings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SOURCE_ID = r"^[a-z][a-z0-9_]*$"
TARGET_REF = re.compile(r"^[a-z][a-z0-9_]*@\d+$")


class Frozen(BaseModel):
    """Base of source models: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DepartmentRef(Frozen):
    """The department that owns the system."""

    id: str = Field(pattern=SOURCE_ID)
    name: str = Field(min_length=1, description="official name, e.g. 合肥市公安局")


class FieldMapping(Frozen):
    """How one target field is filled from the source record.

    Steps run in this order: take ``from`` (or ``default`` when absent/empty), normalize text
    (trim, full-width → half-width, BOM), map code values, then cast to the contract type
    (dates through ``date_formats`` plus the legacy formats every source may use).
    """

    from_: str | None = Field(default=None, alias="from")
    expr: str | None = Field(
        default=None, description="a safe expression over source columns, e.g. coalesce(SJHM, LXDH)"
    )
    default: str | int | float | bool | None = None
    map: dict[str, str | None] | None = None
    map_unmapped: str = Field(
        default="keep",
        pattern="^(keep|null|reject)$",
        description="what a value missing from 'map' becomes: kept, null, or a rule failure",
    )
    date_formats: list[str] | None = None
    normalize: bool = True

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _has_input(self) -> FieldMapping:
        if self.from_ is None and self.default is None and self.expr is None:
            raise ValueError("a mapping needs 'from' (a source column), an 'expr' or a 'default'")
        if self.from_ is not None and self.expr is not None:
            raise ValueError("use either 'from' or 'expr', not both")
        if self.expr is not None:
            from exhub.conform.expressions import ExpressionError, parse_expression

            try:
                parse_expression(self.expr)
            except ExpressionError as exc:
                raise ValueError(f"expr: {exc}") from None
        return self

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Source columns this mapping reads."""
        if self.from_ is not None:
            return (self.from_,)
        if self.expr is not None:
            from exhub.conform.expressions import parse_expression

            return parse_expression(self.expr).columns
        return ()

    @field_validator("map", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        # YAML reads 1: male as an int key; legacy codes are compared as text.
        if isinstance(value, dict):
            return {str(k): (None if v is None else str(v)) for k, v in value.items()}
        return value


class DeleteMarker(Frozen):
    """A source column that flags rows deleted in the legacy system (逻辑删除)."""

    column: str = Field(min_length=1)
    values: list[str] = Field(min_length=1, description="values meaning deleted, e.g. ['1']")

    @field_validator("values", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return [str(v) for v in value] if isinstance(value, list) else value


class StreamConfig(Frozen):
    """One table, file pattern or endpoint of the source, mapped to one shared schema."""

    name: str = Field(pattern=SOURCE_ID)
    source: str = Field(min_length=1, description="table name, file glob or endpoint path")
    target: str = Field(description="shared schema as name@version, e.g. person@1")
    cursor: str | None = Field(default=None, description="incremental cursor column")
    lookback_seconds: int = Field(default=0, ge=0)
    delete_marker: DeleteMarker | None = Field(
        default=None, description="rows flagged here are removed from the dataset and counted"
    )
    options: dict[str, Any] = Field(default_factory=dict)
    mapping: dict[str, FieldMapping]

    @field_validator("target")
    @classmethod
    def _target_ref(cls, value: str) -> str:
        if not TARGET_REF.match(value):
            raise ValueError("write the target as name@version, e.g. person@1")
        return value

    @field_validator("mapping", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `name: XM` is shorthand for `name: {from: XM}`.
        if isinstance(value, dict):
            return {k: ({"from": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @property
    def full_refresh_only(self) -> bool:
        """A stream without a cursor is re-read whole every run."""
        return self.cursor is None

    def key_columns(self, primary_key: Sequence[str]) -> tuple[str, ...]:
        """Source columns mapped to the contract's primary key (they make rows' positions)."""
        keys = []
        for key in primary_key:
            mapping = self.mapping.get(key)
            if mapping is not None and mapping.from_:
                keys.append(mapping.from_)
        return tuple(keys)


class SourceConfig(Frozen):
    """A legacy system: who owns it, how to reach it, how hard it may be hit, what it holds."""

    id: str = Field(pattern=SOURCE_ID)
    department: DepartmentRef
    system: str = Field(min_length=1, description="system name, e.g. 人口户籍管理系统")
    connector: str = Field(pattern=SOURCE_ID)
    options: dict[str, Any] = Field(default_factory=dict)
    schedule: str | None = "@daily"
    max_connections: int = Field(default=1, ge=1, le=64)
    timezone: str = "Asia/Shanghai"
    streams: list[StreamConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_streams(self) -> SourceConfig:
        names = [s.name for s in self.streams]
        if len(set(names)) != len(names):
            raise ValueError(f"stream names repeat: {names}")
        return self

    def stream(self, name: str) -> StreamConfig:
        """The stream called ``name``."""
        for stream in self.streams:
            if stream.name == name:
                return stream
        raise KeyError(name)
