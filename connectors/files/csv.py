"""Read delimited text files (CSV, TSV, ...) dropped by legacy systems into a folder.

Every column is text (the conform stage casts); an empty field is an empty string. Each row
carries ``_source_position`` = ``"<file>:<line>@<byte offset>"`` (file relative to the folder,
1-based line of the record's first physical line, 0-based offset of its first byte; for
``.gz`` files, offsets in the decompressed text). Lines that cannot be decoded, records with
the wrong number of fields and malformed quoting are rejects, never dropped, never U+FFFD.

A batch never spans two files, so each file may bring its own header (schema drift is the
conform stage's business). Files already ingested unchanged are skipped when the request
carries the stream's file ledger (``Capability.FILE_LEDGER``, see ``connectors.files.ledger``).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from connectors.base import ExtractBatch, ReadRequest
from connectors.files.batch import RowBatch, header_names
from connectors.files.folder import READ_ERRORS, FileConnector, open_binary, reject_rest_of_file
from connectors.files.options import Encoding, FolderOptions
from connectors.files.records import LineReader, Record, read_records

log = logging.getLogger(__name__)


class CsvOptions(FolderOptions):
    """Where the files are and how they are written.

    Attributes:
        path: folder holding the files; a stream's ``source_object`` is a glob under it.
        encoding: the files' encoding; a BOM is stripped whichever is chosen.
        delimiter: one character separating fields (a tab for TSV).
        header: whether the first record names the columns (else ``column_1``, ...).
        quotechar: one character quoting fields that hold delimiters or newlines.
    """

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


class CsvConnector(FileConnector[CsvOptions]):
    """Streams the files matching a glob, in name order, ``.gz`` ones decompressed.

    A stream may override ``encoding``, ``delimiter``, ``header`` and ``quotechar``.
    """

    name: ClassVar[str] = "csv"
    options_model: ClassVar[type[CsvOptions]] = CsvOptions
    stream_options: ClassVar[frozenset[str]] = frozenset(
        {"encoding", "delimiter", "header", "quotechar"}
    )

    def describe(self) -> str:
        """Folder and encoding."""
        return f"csv {self.options.path} ({self.options.encoding})"

    def read_file(
        self, path: Path, name: str, request: ReadRequest, options: CsvOptions
    ) -> Iterator[ExtractBatch]:
        """Yield the records of one delimited file (see the module docstring)."""
        batch = _FileBatch(request.batch_size, header=options.header)
        with open_binary(path) as stream:
            reader = LineReader(stream)
            records = read_records(
                iter(reader), options.encoding, options.quotechar, options.delimiter
            )
            try:
                for record in records:
                    self._add(batch, record, name, options)
                    if batch.full:
                        yield batch.flush()
            except READ_ERRORS as exc:  # truncated or corrupt .gz
                reject_rest_of_file(batch, name, reader, exc)
        if batch.pending:
            yield batch.flush()

    def _add(self, batch: _FileBatch, record: Record, name: str, options: CsvOptions) -> None:
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
                    delimiter=options.delimiter,
                    quotechar=options.quotechar,
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
            if options.header:
                batch.set_columns(header_names(fields, position))
                return
            batch.set_columns([f"column_{i}" for i in range(1, len(fields) + 1)])
        expected = len(batch.columns or ())
        if len(fields) != expected:
            batch.reject(position, record.raw, f"expected {expected} fields, found {len(fields)}")
            return
        batch.add(fields, position)


class _FileBatch(RowBatch):
    """One file's rows; an unreadable header makes every later record a reject."""

    def __init__(self, size: int, *, header: bool) -> None:
        super().__init__(size)
        self.header = header
        self.header_error: str | None = None

    def reject(self, position: str, raw: str, reason: str) -> None:
        if self.header and self.columns is None:
            # The header itself is unreadable: no later record can be named, so each is
            # quarantined rather than read under a guessed header.
            self.header_error = f"the header ({position}) could not be read: {reason}"
            self.columns = []
        super().reject(position, raw, reason)
