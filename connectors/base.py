"""The connector protocol: a connector declares what it is, then yields Arrow batches.

Modelled on the Singer SDK: class attributes declare the name, the options model and the
capabilities; one generator (``read_batches``) does the work. Memory is bounded by
``ReadRequest.batch_size``, never by the size of the source.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

import pyarrow as pa
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
