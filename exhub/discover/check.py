"""``exhub sources check``: connect to a source, read one batch per stream, report what is there.

The connector is built exactly as a sync builds it (secret references resolved, options
validated), so a check that passes means the first extract will connect and find its columns.
Sample values of columns mapped to protected fields (PII, or graded L3/L4: what dataset
masking hides too) are masked (first and last character kept), as are unmapped columns whose
values look like ID numbers, mobiles or names; the report never carries a secret: the target
is described by the connector's ``describe``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from connectors import POSITION_COLUMN, Connector, ReadRequest, load_connector
from exhub.contracts import Contract, ContractRegistry
from exhub.discover.profile import ColumnProfile
from exhub.errors import ConfigError
from exhub.sources import SourceConfig, StreamConfig
from exhub.sources.secrets import resolve_references

CHECK_BATCH_SIZE = 200
SAMPLE_SIZE = 5
MAX_VALUE_CHARS = 40


def mask(value: str) -> str:
    """Hide all but the first and last character (``张三丰`` → ``张*丰``)."""
    if len(value) <= 1:
        return "*"
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def truncate(value: str, limit: int = MAX_VALUE_CHARS) -> str:
    """Shorten long values for display."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass
class StreamCheck:
    """What one stream's first batch showed."""

    name: str
    source_object: str
    target: str
    columns: list[dict[str, str]] = field(default_factory=list)
    rows_read: int | None = None
    rejects: int | None = None
    sample: list[dict[str, Any]] = field(default_factory=list)
    masked_columns: list[str] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)
    unused_columns: list[str] = field(default_factory=list)
    error: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        """No error and every mapped column present."""
        return self.error is None and not self.missing

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "source_object": self.source_object,
            "target": self.target,
            "ok": self.ok,
            "columns": self.columns,
            "rows_read": self.rows_read,
            "rejects": self.rejects,
            "sample": self.sample,
            "masked_columns": self.masked_columns,
            "mapping": {
                "checked": bool(self.columns),
                "all_columns_present": not self.missing if self.columns else None,
                "missing": self.missing,
            },
            "unused_columns": self.unused_columns,
            "error": self.error,
            "note": self.note,
        }


@dataclass
class SourceCheck:
    """The whole report."""

    source: str
    connector: str
    target_system: str
    streams: list[StreamCheck]

    @property
    def ok(self) -> bool:
        """Every stream is fine."""
        return all(s.ok for s in self.streams)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "source": self.source,
            "connector": self.connector,
            "target_system": self.target_system,
            "reachable": True,
            "ok": self.ok,
            "streams": [s.as_dict() for s in self.streams],
        }

    def problems(self) -> list[str]:
        """One line per problem found, for the error message."""
        lines = []
        for stream in self.streams:
            if stream.error:
                lines.append(f"stream '{stream.name}': {stream.error}")
            for item in stream.missing:
                lines.append(
                    f"stream '{stream.name}': mapping '{item['field']}' reads column "
                    f"'{item['column']}', which '{stream.source_object}' does not have"
                )
        return lines


def _protected_columns(contract: Contract, stream: StreamConfig) -> set[str]:
    names = set(contract.protected_columns)
    return {m.from_ for f, m in stream.mapping.items() if f in names and m.from_ is not None}


def _looks_personal(column: pa.Array, name: str) -> bool:
    """Unmapped values that look like ID numbers, mobiles or names are masked too."""
    profile = ColumnProfile(name, column.type, column)
    if not profile.present or profile.is_numeric or profile.is_temporal:
        return False
    ratios = (profile.resident_id_ratio(), profile.mobile_ratio(), profile.person_name_ratio())
    return max(ratios) >= 0.5


def _display(value: Any, masked: bool) -> Any:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.hex()
    text = str(value)
    return truncate(mask(text) if masked else text)


def _check_stream(
    connector: Connector,
    source: SourceConfig,
    stream: StreamConfig,
    contracts: ContractRegistry,
    batch_size: int,
) -> StreamCheck:
    result = StreamCheck(stream.name, stream.source, stream.target)
    try:
        contract = contracts.get(stream.target)
        request = ReadRequest(
            source_object=stream.source,
            key_columns=stream.key_columns(contract.primary_key),
            cursor=stream.cursor,
            lookback_seconds=stream.lookback_seconds,
            batch_size=batch_size,
            timezone=source.timezone,
            options=stream.options,
        )
        from exhub.discover.introspect import first_rows  # the SQL drivers: on use only

        records, rejects = first_rows(connector, request)
    except ConfigError as exc:
        result.error = exc.message + (f" (fix: {exc.fix})" if exc.fix else "")
        return result
    if records is None:
        result.rows_read, result.rejects = 0, 0
        result.note = "nothing read: the table is empty or no file matches; columns not checked"
        return result
    names = [n for n in records.schema.names if n != POSITION_COLUMN]
    result.columns = [{"name": n, "type": str(records.schema.field(n).type)} for n in names]
    result.rows_read = records.num_rows
    result.rejects = rejects
    masked = _protected_columns(contract, stream)
    mapped = {m.from_ for m in stream.mapping.values()}
    masked |= {n for n in names if n not in mapped and _looks_personal(records.column(n), n)}
    result.masked_columns = [n for n in names if n in masked]
    for row in records.slice(0, SAMPLE_SIZE).to_pylist():
        result.sample.append({n: _display(row[n], n in masked) for n in names})
    used = set()
    for target, mapping in stream.mapping.items():
        if mapping.from_ is None:
            continue
        used.add(mapping.from_)
        if mapping.from_ not in names:
            result.missing.append({"field": target, "column": mapping.from_})
    result.unused_columns = [n for n in names if n not in used]
    return result


def check_source(
    source: SourceConfig, contracts: ContractRegistry, *, batch_size: int = CHECK_BATCH_SIZE
) -> SourceCheck:
    """Connect to ``source`` and read one batch of every stream.

    Args:
        source: the loaded source file.
        contracts: the shared schemas (to find PII fields and primary keys).
        batch_size: rows read per stream.

    Returns:
        The report; per-stream configuration problems are in it, not raised.

    Raises:
        ConfigError: a secret reference is not set or a connector option is wrong.
        SourceUnreachableError: the system cannot be reached.
    """
    options = resolve_references(source.options, where=f"{source.id}.options")
    connector = load_connector(source.connector).from_options(
        options, where=f"source '{source.id}'"
    )
    with connector:
        connector.check()
        streams = [
            _check_stream(connector, source, stream, contracts, batch_size)
            for stream in source.streams
        ]
        return SourceCheck(source.id, source.connector, connector.describe(), streams)
