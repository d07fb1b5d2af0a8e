"""Read delimited text files (CSV, TSV, ...) dropped by legacy systems into a folder.

Every column is text (the conform stage casts); an empty field is an empty string. Each row
carries ``_source_position`` = ``"<file>:<line>@<byte offset>"`` (file relative to the folder,
1-based line of the record's first physical line, 0-based offset of its first byte; for
``.gz`` files, offsets in the decompressed text). Lines that cannot be decoded, records with
the wrong number of fields and malformed quoting are rejects, never dropped, never U+FFFD.

A batch never spans two files, so each file may bring its own header (schema drift is the
conform stage's business). Which files were already ingested is not remembered yet
(``Capability.FILE_LEDGER``): every read reads every matching file.
"""

from __future__ import annotations

import csv
import gzip
import logging
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.base import (
    POSITION_COLUMN,
    REJECT_SCHEMA,
    Capability,
    Connector,
    ExtractBatch,
    ReadRequest,
)
from connectors.files.records import LineReader, Record, read_records
from exhub.errors import ConfigError

log = logging.getLogger(__name__)

Encoding = Literal["utf-8", "utf-8-sig", "gbk", "gb18030"]


class CsvOptions(BaseModel):
    """Where the files are and how they are written.

    Attributes:
        path: folder holding the files; a stream's ``source_object`` is a glob under it.
        encoding: the files' encoding; a BOM is stripped whichever is chosen.
        delimiter: one character separating fields (a tab for TSV).
        header: whether the first record names the columns (else ``column_1``, ...).
        quotechar: one character quoting fields that hold delimiters or newlines.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="Folder holding the files")
    encoding: Encoding = Field(default="utf-8", description="Encoding of the files")
    delimiter: str = Field(default=",", description="Field delimiter (one character)")
    header: bool = Field(default=True, description="First record holds the column names")
    quotechar: str = Field(default='"', description="Quote character (one character)")

    @field_validator("delimiter", "quotechar")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1 or value in "\r\n":
            raise ValueError("must be exactly one character, not a line break (e.g. ',' or '\\t')")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> CsvOptions:
        if self.delimiter == self.quotechar:
            raise ValueError("delimiter and quotechar must differ")
        return self


class CsvConnector(Connector):
    """Streams the files matching a glob, in name order, ``.gz`` ones decompressed."""

    name: ClassVar[str] = "csv"
    options_model: ClassVar[type[CsvOptions]] = CsvOptions
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    options: CsvOptions

    def describe(self) -> str:
        """Folder and encoding."""
        return f"csv {self.options.path} ({self.options.encoding})"

    @property
    def folder(self) -> Path:
        """The folder, checked to exist.

        Raises:
            ConfigError: the folder does not exist.
        """
        folder = Path(self.options.path).expanduser()
        if not folder.is_dir():
            raise ConfigError(
                f"csv folder '{folder}' does not exist or is not a folder",
                fix="fix options.path, or check that the shared folder is mounted",
                key="options.path",
            )
        return folder

    def check(self) -> None:
        """Check that the folder exists.

        Raises:
            ConfigError: the folder does not exist.
        """
        _ = self.folder

    def files(self, pattern: str) -> list[Path]:
        """The files matching ``pattern`` (and ``pattern + ".gz"``), sorted by relative path.

        Args:
            pattern: a glob relative to the folder, e.g. ``"persons_*.csv"``.

        Returns:
            list[Path]: matching regular files.

        Raises:
            ConfigError: the folder does not exist or the pattern is not a relative glob.
        """
        folder = self.folder
        patterns = [pattern] if pattern.endswith(".gz") else [pattern, pattern + ".gz"]
        try:
            found = {p for glob in patterns for p in folder.glob(glob) if p.is_file()}
        except (NotImplementedError, ValueError) as exc:
            raise ConfigError(
                f"source_object '{pattern}' is not a glob relative to {folder}: {exc}",
                fix="write a relative glob such as 'persons_*.csv'",
                key="source_object",
            ) from None
        return sorted(found, key=lambda p: p.relative_to(folder).as_posix())

    def read_batches(self, request: ReadRequest) -> Iterator[ExtractBatch]:
        """Yield the records of every matching file, at most ``batch_size`` rows per batch.

        Args:
            request: ``source_object`` is the glob; cursor and watermark are ignored.

        Yields:
            ExtractBatch: string columns plus ``_source_position``; unreadable records as
            rejects.

        Raises:
            ConfigError: the folder is missing or a file cannot be opened.
        """
        files = self.files(request.source_object)
        if not files:
            log.warning("no file matches %r in %s", request.source_object, self.options.path)
            return
        for path in files:
            yield from self._read_file(path, path.relative_to(self.folder).as_posix(), request)

    def _read_file(self, path: Path, name: str, request: ReadRequest) -> Iterator[ExtractBatch]:
        opener = gzip.open if path.suffix == ".gz" else open
        try:
            stream = opener(path, "rb")
        except OSError as exc:
            raise ConfigError(
                f"cannot open {path}: {exc.strerror or exc}",
                fix="check the file's permissions",
                key="options.path",
            ) from None
        batch = _FileBatch(request.batch_size, header=self.options.header)
        with stream:
            reader = LineReader(stream)  # type: ignore[arg-type]
            records = read_records(
                iter(reader), self.options.encoding, self.options.quotechar, self.options.delimiter
            )
            try:
                for record in records:
                    self._add(batch, record, name)
                    if batch.full:
                        yield batch.flush()
            except (EOFError, OSError, zlib.error) as exc:  # truncated or corrupt .gz
                batch.reject(
                    f"{name}:{reader.line + 1}@{reader.offset}",
                    "",
                    f"cannot read the rest of the file: {exc}",
                )
        if batch.pending:
            yield batch.flush()

    def _add(self, batch: _FileBatch, record: Record, name: str) -> None:
        position = f"{name}:{record.line}@{record.offset}"
        if record.error:
            batch.reject(position, record.raw, record.error)
            return
        if batch.header_error:
            batch.reject(position, record.raw, batch.header_error)
            return
        try:
            rows = list(
                csv.reader(
                    record.lines,
                    delimiter=self.options.delimiter,
                    quotechar=self.options.quotechar,
                    strict=True,
                )
            )
        except csv.Error as exc:
            batch.reject(position, record.raw, f"malformed record: {exc}")
            return
        if not rows or rows == [[]]:
            return  # a blank line holds no data
        if len(rows) != 1:
            batch.reject(position, record.raw, f"malformed record: parsed as {len(rows)} rows")
            return
        fields = rows[0]
        if batch.columns is None:
            if self.options.header:
                batch.set_columns(_header_names(fields, position))
                return
            batch.set_columns([f"column_{i}" for i in range(1, len(fields) + 1)])
        expected = len(batch.columns or ())
        if len(fields) != expected:
            batch.reject(position, record.raw, f"expected {expected} fields, found {len(fields)}")
            return
        batch.add(fields, position)


def _header_names(fields: Sequence[str], position: str) -> list[str]:
    """Header names stripped of blanks and BOM; empty ones numbered, duplicates suffixed."""
    names: list[str] = []
    for i, field in enumerate(fields, start=1):
        name = field.strip().lstrip("\ufeff").strip() or f"column_{i}"
        if name in names or name == POSITION_COLUMN:
            taken = {*names, POSITION_COLUMN}
            unique = next(
                f"{name}_{n}" for n in range(2, len(fields) + 3) if f"{name}_{n}" not in taken
            )
            log.warning(
                "%s: column %d renamed from %r to %r (duplicate)", position, i, name, unique
            )
            name = unique
        names.append(name)
    return names


class _FileBatch:
    """Accumulates one file's rows and rejects until a batch is full."""

    def __init__(self, size: int, *, header: bool) -> None:
        self.size = size
        self.header = header
        self.columns: list[str] | None = None
        self.header_error: str | None = None
        self.values: list[list[str]] = []
        self.positions: list[str] = []
        self.rejects: list[tuple[str, str, str]] = []

    def set_columns(self, columns: list[str]) -> None:
        self.columns = columns
        self.values = [[] for _ in columns]

    def add(self, fields: Sequence[str], position: str) -> None:
        for column, value in zip(self.values, fields, strict=True):
            column.append(value)
        self.positions.append(position)

    def reject(self, position: str, raw: str, reason: str) -> None:
        if self.header and self.columns is None:
            # The header itself is unreadable: no later record can be named, so each is
            # quarantined rather than read under a guessed header.
            self.header_error = f"the header ({position}) could not be read: {reason}"
            self.columns = []
        self.rejects.append((position, raw, reason))

    @property
    def pending(self) -> int:
        return len(self.positions) + len(self.rejects)

    @property
    def full(self) -> bool:
        return self.pending >= self.size

    def flush(self) -> ExtractBatch:
        columns = self.columns or []
        schema = pa.schema(
            [pa.field(name, pa.string()) for name in columns]
            + [pa.field(POSITION_COLUMN, pa.string(), nullable=False)]
        )
        arrays = [pa.array(values, pa.string()) for values in self.values]
        records = pa.RecordBatch.from_arrays(
            [*arrays, pa.array(self.positions, pa.string())], schema=schema
        )
        rejects = None
        if self.rejects:
            rejects = pa.table(
                [pa.array(list(column), pa.string()) for column in zip(*self.rejects, strict=True)],
                schema=REJECT_SCHEMA,
            )
        self.values = [[] for _ in columns]
        self.positions, self.rejects = [], []
        return ExtractBatch(records, rejects)
