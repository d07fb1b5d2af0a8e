"""Read fixed-width text files (mainframe and COBOL exports) dropped into a folder.

Fields are given by BYTE offsets, as the legacy layouts (copybooks) define them: a GBK
Chinese character takes two bytes, a GB18030 extension character (e.g. 䶮) four. Each line is
sliced into bytes first, then every slice is decoded strictly. A double-byte character cut by
a field's edge or an undecodable byte makes the record a reject naming the field, the byte
and its offset; it never becomes U+FFFD and is never dropped. Bytes between or after the
fields (filler) are checked the same way, since a character cut there shifts every later
field. Values are stripped of blanks, full-width blanks (U+3000) and NUL padding.

Every row carries ``_source_position`` = ``"<file>:<line>@<byte offset>"`` like the CSV
connector (1-based line, 0-based offset of the line's first byte; ``.gz`` files decompressed).
Lines end in LF or CRLF; blank lines and a DOS end-of-file mark (0x1A) are skipped, a UTF-8
BOM is not counted in the first line's offsets. A
line shorter than the layout gives empty trailing fields; bytes past the last field are
filler.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.base import POSITION_COLUMN, ExtractBatch, ReadRequest
from connectors.files.batch import RowBatch
from connectors.files.folder import READ_ERRORS, FileConnector, open_binary, reject_rest_of_file
from connectors.files.options import FolderOptions
from connectors.files.records import LineReader
from exhub.errors import ConfigError

log = logging.getLogger(__name__)

FixedWidthEncoding = Literal["gbk", "gb18030", "utf-8"]

_CUT_REASONS = frozenset({"incomplete multibyte sequence", "unexpected end of data"})
"""What Python's codecs say when the bytes end inside a character."""
_DOS_EOF = b"\x1a"
_UTF8_BOM = b"\xef\xbb\xbf"


class FieldSpec(BaseModel):
    """One field of the layout.

    Attributes:
        name: the column name.
        start: 0-based byte offset of the field in the line.
        length: the field's length in bytes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="Column name")
    start: int = Field(ge=0, description="0-based byte offset in the line")
    length: int = Field(ge=1, description="Length in bytes")

    @property
    def end(self) -> int:
        """Offset of the first byte after the field."""
        return self.start + self.length

    def label(self) -> str:
        """``field 'name' (start 10, length 8)`` for messages."""
        return f"field '{self.name}' (start {self.start}, length {self.length})"


class FixedWidthOptions(FolderOptions):
    """Where the files are and how their lines are laid out.

    Attributes:
        path: folder holding the files; a stream's ``source_object`` is a glob under it.
        encoding: the files' encoding (``gb18030`` also reads every GBK file).
        fields: the layout, by byte offsets; required here or in every stream's options.
        skip_header_lines: physical lines to skip at the start of each file (not decoded).
    """

    encoding: FixedWidthEncoding = Field(default="gbk", description="Encoding of the files")
    fields: list[FieldSpec] | None = Field(
        default=None, description="Layout: name, 0-based byte start and byte length per field"
    )
    skip_header_lines: int = Field(default=0, ge=0, description="Lines to skip in each file")

    @field_validator("fields")
    @classmethod
    def _layout(cls, fields: list[FieldSpec] | None) -> list[FieldSpec] | None:
        if fields is None:
            return None
        if not fields:
            raise ValueError("give at least one field: {name, start, length}")
        names = [f.name for f in fields]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"field names repeat: {', '.join(repeated)}")
        if POSITION_COLUMN in names:
            raise ValueError(f"'{POSITION_COLUMN}' is reserved; rename that field")
        ordered = sorted(fields, key=lambda f: f.start)
        for left, right in pairwise(ordered):
            if right.start < left.end:
                raise ValueError(
                    f"{left.label()} and {right.label()} overlap; "
                    f"'{right.name}' must start at {left.end} or later"
                )
        return fields


@dataclass(frozen=True)
class _Piece:
    """A byte range of the line: one field, or filler (``field`` None) before ``next``."""

    start: int
    end: int
    field: int | None
    next: FieldSpec | None


class _Layout:
    """The fields in byte order, and how to cut a line into them."""

    def __init__(self, fields: Sequence[FieldSpec], codec: str) -> None:
        self.fields = list(fields)
        self.codec = codec
        self.order = sorted(range(len(self.fields)), key=lambda i: self.fields[i].start)

    def pieces(self, length: int) -> Iterator[_Piece]:
        """Fields and filler covering bytes ``0..length`` in order (fields clipped to it)."""
        pos = 0
        for index in self.order:
            field = self.fields[index]
            if field.start >= length:
                break
            if field.start > pos:
                yield _Piece(pos, field.start, None, field)
            end = min(field.end, length)
            yield _Piece(field.start, end, index, None)
            pos = end
        if pos < length:
            yield _Piece(pos, length, None, None)

    def split(self, data: bytes, offset: int) -> list[str] | str:
        """The stripped values of one line, or why it cannot be read.

        Args:
            data: the line without its terminator.
            offset: the line's byte offset in the file (for messages).

        Returns:
            list[str] | str: one value per field in layout order, or the reject reason.
        """
        values = [""] * len(self.fields)
        if data.isascii():  # every supported encoding is ASCII-compatible: no cut possible
            text = data.decode("ascii")
            for i, field in enumerate(self.fields):
                values[i] = _trim(text[field.start : field.end])
            return values
        # Pieces are decoded in byte order, each starting on a character boundary (the line
        # start, or the end of a piece that decoded whole), so a piece that fails either
        # ends inside a character or holds an undecodable byte.
        for piece in self.pieces(len(data)):
            chunk = data[piece.start : piece.end]
            try:
                text = chunk.decode(self.codec)
            except UnicodeDecodeError as exc:
                return self._why(data, offset, piece, exc)
            if piece.field is not None:
                values[piece.field] = _trim(text)
        return values

    def _why(self, data: bytes, offset: int, piece: _Piece, exc: UnicodeDecodeError) -> str:
        at = piece.start + exc.start
        where = f"byte offset {offset + at}"
        char = None
        if exc.reason in _CUT_REASONS and exc.end == piece.end - piece.start:
            char = _whole_char(data, at, piece.end, self.codec)
        if char is not None:
            # Only a field or the filler before one can end inside a whole character: the
            # filler after the last field ends with the line.
            hexed = " ".join(f"0x{b:02x}" for b in char.encode(self.codec))
            what = f"the {self.codec} character '{char}' ({hexed}) at {where}"
            if piece.field is not None:
                return f"{self.fields[piece.field].label()}: {what} is cut by the field's end"
            if piece.next is not None:
                return f"{piece.next.label()}: {what} is cut by the field's start"
        bad = f"undecodable {self.codec} byte 0x{data[at]:02x} at {where}"
        if piece.field is not None:
            return f"{self.fields[piece.field].label()}: {bad}"
        if piece.next is not None:
            return f"{bad}, in the filler before {piece.next.label()}"
        return f"{bad}, after the last field"


def _whole_char(data: bytes, at: int, end: int, codec: str) -> str | None:
    """The character starting at ``at`` if the line holds it whole, past ``end``."""
    for size in range(end - at + 1, min(4, len(data) - at) + 1):
        try:
            text = data[at : at + size].decode(codec)
        except UnicodeDecodeError:
            continue
        return text if len(text) == 1 else None
    return None


def _trim(text: str) -> str:
    """Strip blanks (U+3000 included) and NUL padding from both ends."""
    return text.strip().strip("\x00").strip()


class FixedWidthConnector(FileConnector[FixedWidthOptions]):
    """Streams fixed-width files matching a glob, in name order, ``.gz`` ones decompressed.

    A stream may override ``fields``, ``encoding`` and ``skip_header_lines`` (one folder
    holding files of several layouts).
    """

    name: ClassVar[str] = "fixed_width"
    options_model: ClassVar[type[FixedWidthOptions]] = FixedWidthOptions
    stream_options: ClassVar[frozenset[str]] = frozenset(
        {"fields", "encoding", "skip_header_lines"}
    )

    def describe(self) -> str:
        """Folder, encoding and number of fields."""
        fields = self.options.fields
        layout = f", {len(fields)} fields" if fields else ""
        return f"fixed_width {self.options.path} ({self.options.encoding}{layout})"

    def options_for(self, request: ReadRequest) -> FixedWidthOptions:
        """The options with the stream's overrides, checked to give a layout.

        Raises:
            ConfigError: an override is invalid, or no layout is given.
        """
        options = super().options_for(request)
        if options.fields is None:
            raise ConfigError(
                f"stream '{request.source_object}': the fixed_width connector needs a layout",
                fix="give options.fields as a list of {name, start, length} (byte offsets), "
                "on the source or on the stream",
                key="options.fields",
            )
        return options

    def read_file(
        self, path: Path, name: str, request: ReadRequest, options: FixedWidthOptions
    ) -> Iterator[ExtractBatch]:
        """Yield the records of one fixed-width file (see the module docstring)."""
        fields = options.fields or []
        layout = _Layout(fields, options.encoding)
        batch = RowBatch(request.batch_size, [f.name for f in fields])
        with open_binary(path) as stream:
            reader = LineReader(stream)
            try:
                for line in reader:
                    if line.number <= options.skip_header_lines:
                        continue
                    data = line.data.removesuffix(b"\n").removesuffix(b"\r")
                    if line.number == 1 and options.encoding == "utf-8":
                        data = data.removeprefix(_UTF8_BOM)  # offsets count from after it
                    if not data.strip() or data == _DOS_EOF:
                        continue
                    position = f"{name}:{line.number}@{line.offset}"
                    values = layout.split(data, line.offset)
                    if isinstance(values, str):
                        raw = data.decode(options.encoding, errors="backslashreplace")
                        batch.reject(position, raw, values)
                    else:
                        batch.add(values, position)
                    if batch.full:
                        yield batch.flush()
            except READ_ERRORS as exc:  # truncated or corrupt .gz
                reject_rest_of_file(batch, name, reader, exc)
        if batch.pending:
            yield batch.flush()
