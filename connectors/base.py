"""The connector protocol: a connector declares what it is, then yields Arrow batches.

Modelled on the Singer SDK: class attributes declare the name, the options model and the
capabilities; one generator (``read_batches``) does the work. Memory is bounded by
``ReadRequest.batch_size``, never by the size of the source.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ValidationError

from exhub.errors import ConfigError

POSITION_COLUMN = "_source_position"
"""Every batch carries, per row, where it came from: table+key, file:line@byte, or page."""

REJECT_SCHEMA = pa.schema(
    [
        pa.field(POSITION_COLUMN, pa.string(), nullable=False),
        pa.field("raw", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
    ]
)
"""Records a connector could not even parse (e.g. an undecodable GBK line); quarantined."""


class Capability(StrEnum):
    """What a connector can do beyond a full read."""

    INCREMENTAL = "incremental"  # reads rows with cursor >= watermark
    DISCOVER = "discover"  # introspects the source and proposes streams
    FILE_LEDGER = "file_ledger"  # remembers which files it ingested


@dataclass(frozen=True)
class ReadRequest:
    """What to read from one stream.

    Attributes:
        source_object: table name, file glob or endpoint path.
        key_columns: source columns forming the primary key (used for positions).
        cursor: incremental cursor column, or None for a full read.
        watermark: ISO text of the last published cursor value, or None.
        lookback_seconds: re-read this far before the watermark (late commits).
        batch_size: most rows per yielded batch.
        timezone: zone of naive source timestamps.
        options: stream-level connector options.
    """

    source_object: str
    key_columns: tuple[str, ...] = ()
    cursor: str | None = None
    watermark: str | None = None
    lookback_seconds: int = 0
    batch_size: int = 100_000
    timezone: str = "Asia/Shanghai"
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExtractBatch:
    """One batch as the source sent it, plus what could not be parsed.

    Attributes:
        records: the source's columns, plus ``POSITION_COLUMN``.
        rejects: rows that could not be parsed, with ``REJECT_SCHEMA``; never dropped.
    """

    records: pa.RecordBatch
    rejects: pa.Table | None = None


@dataclass(frozen=True)
class KeyPositions:
    """Positions ``"<object> k1=v1,k2=v2"`` built from each row's key values.

    A connector whose positions follow this rule declares it (``Connector.key_positions``).
    The landing then stores the key columns only and rebuilds the positions when a part is
    read back: one string per row less to encode, compress and store, and the same text.
    """

    source_object: str
    key_columns: tuple[str, ...]

    def build(self, keys: Sequence[pa.Array]) -> pa.Array:
        """The positions of rows with these key values (one array per key column, in order)."""
        parts: list[Any] = []
        for i, (name, values) in enumerate(zip(self.key_columns, keys, strict=True)):
            parts.append(f"{self.source_object} {name}=" if i == 0 else f",{name}=")
            parts.append(_as_text(values))
        return pc.binary_join_element_wise(
            *parts, "", null_handling="replace", null_replacement="NULL"
        )

    def of(self, records: pa.Table | pa.RecordBatch) -> pa.Array:
        """The positions of every row of ``records`` (which hold the key columns)."""
        columns = [records.column(name) for name in self.key_columns]
        if isinstance(records, pa.Table):
            columns = [column.combine_chunks() for column in columns]
        return self.build(columns)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, kept in a landing manifest."""
        return {"source_object": self.source_object, "key_columns": list(self.key_columns)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KeyPositions:
        """The rule a landing manifest recorded."""
        return cls(data["source_object"], tuple(data["key_columns"]))


def ramping_batch_sizes(batch_size: int) -> Iterator[int]:
    """Batch sizes that start small and reach ``batch_size``: 1/8, 1/4, 1/2, then whole.

    Validation starts on a batch only once it is complete. An incremental read of 50k rows
    in one 50k batch left conform, Great Expectations and the merge scan waiting until the
    last row had arrived; small first batches let them start while the rest is read, at the
    cost of three more batches in a read of millions.
    """
    for divisor in (8, 4, 2):
        yield max(1, batch_size // divisor)
    while True:
        yield batch_size


def _as_text(array: pa.Array) -> pa.Array:
    if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
        return pa.array([None if v is None else v.hex() for v in array.to_pylist()], pa.string())
    return array.cast(pa.string())


class Connector(ABC):
    """Base of every connector.

    Subclasses set ``name``, ``options_model`` and ``capabilities`` and implement
    ``read_batches``. Options arrive with secret references already resolved; a connector
    must never put a secret in an exception message or a log line (use ``describe``).
    """

    name: ClassVar[str]
    options_model: ClassVar[type[BaseModel]]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, options: BaseModel) -> None:
        self.options = options

    @classmethod
    def from_options(cls, raw: Mapping[str, Any], *, where: str) -> Connector:
        """Validate raw (already secret-resolved) options and build the connector.

        Raises:
            ConfigError: an option is unknown or invalid; names ``where`` and the key.
        """
        try:
            options = cls.options_model.model_validate(dict(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            # Never echo the input value: it may hold a resolved secret.
            raise ConfigError(
                f"{where}: connector '{cls.name}' option '{key}': {err['msg']}",
                fix=f"see the options of the '{cls.name}' connector in README",
                key=f"options.{key}",
            ) from None
        return cls(options)

    def describe(self) -> str:
        """A one-line description safe for logs (no secrets)."""
        return self.name

    def key_positions(self, request: ReadRequest) -> KeyPositions | None:
        """The rule its positions follow, when they are built from the key columns alone.

        Only a connector whose ``POSITION_COLUMN`` equals ``KeyPositions.of(records)`` for
        every batch may return one (the shared connector tests check it).
        """
        return None

    def check(self) -> None:  # noqa: B027 - optional hook, default is no-op
        """Connect once and fail fast.

        Raises:
            SourceUnreachableError: the system cannot be reached.
        """

    @abstractmethod
    def read_batches(self, request: ReadRequest) -> Iterator[ExtractBatch]:
        """Yield the stream's records in batches of at most ``request.batch_size`` rows.

        Args:
            request: what to read.

        Yields:
            ExtractBatch: records (source columns + ``POSITION_COLUMN``) and rejects.

        Raises:
            SourceUnreachableError: connection refused or timed out (retriable).
            ConfigError: the source object does not exist or options are wrong (terminal).
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
