"""Strict, streaming split of a delimited text file into logical records.

The file is read in binary, one physical line at a time, and every line is decoded with the
strict codec, so an undecodable byte is reported with its line, byte offset and column and
never becomes U+FFFD. A quoted field may span lines: physical lines are joined until the
quotes balance (a quote opens a quoted field only at the start of a field, as in Python's
``csv`` module). Splitting on the newline byte is safe for every supported encoding: in
UTF-8, GBK and GB18030 the byte 0x0A never occurs inside a multi-byte character.

Memory is bounded by one logical record, itself bounded: a quote that is never closed within
``MAX_RECORD_LINES`` lines or ``MAX_RECORD_BYTES`` bytes (or before the end of the file)
rejects the line that opened it, and the lines after it are read again as new records.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

MAX_RECORD_LINES = 10_000
MAX_RECORD_BYTES = 16 * 1024 * 1024
CODECS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gbk", "gb18030": "gb18030"}
"""Codec used per option value: a BOM is stripped from the first line whatever the encoding."""


@dataclass(frozen=True)
class Line:
    """One physical line: 1-based number, 0-based byte offset of its start, its bytes."""

    number: int
    offset: int
    data: bytes


@dataclass(frozen=True)
class Record:
    """One logical record, or the bytes of one that could not be read.

    Attributes:
        line: 1-based number of its first physical line.
        offset: 0-based byte offset of its start.
        lines: its decoded physical lines, line endings included (empty when ``error``).
        raw: its bytes, shown with backslash escapes, without the final line ending.
        error: why it could not be read, or None.
    """

    line: int
    offset: int
    lines: tuple[str, ...]
    raw: str
    error: str | None = None


class LineReader:
    """Iterates the physical lines of a binary stream, remembering where it is."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.line = 0
        self.offset = 0

    def __iter__(self) -> Iterator[Line]:
        for data in self.stream:
            self.line += 1
            yield Line(self.line, self.offset, data)
            self.offset += len(data)


def _show(data: bytes, codec: str) -> str:
    return data.decode(codec, errors="backslashreplace").rstrip("\r\n")


def _ends_inside_quotes(text: str, in_quotes: bool, quote: str, delimiter: str) -> bool:
    """Whether ``text`` (one physical line) leaves a quoted field open."""
    pos = 0
    while True:
        if in_quotes:
            j = text.find(quote, pos)
            if j < 0:
                return True
            if text.startswith(quote, j + 1):  # a doubled quote is a literal quote
                pos = j + 2
                continue
            in_quotes, pos = False, j + 1
        else:
            j = text.find(quote, pos)
            if j < 0:
                return False
            # Only a quote at the start of a field opens one (pos > 0 here means just after
            # a closing quote, so text[j - 1] is a quote, not the delimiter).
            in_quotes = j == 0 or text[j - 1] == delimiter
            pos = j + 1


def read_records(
    lines: Iterator[Line], encoding: str, quote: str, delimiter: str
) -> Iterator[Record]:
    """Split physical lines into logical records, decoding strictly.

    Args:
        lines: the file's physical lines, in order.
        encoding: one of ``CODECS``.
        quote: the quote character.
        delimiter: the field delimiter.

    Yields:
        Record: each logical record in file order, including unreadable ones (``error`` set).
    """
    codec = CODECS[encoding]
    pending: deque[Line] = deque()  # lines to read again after an unterminated quote
    group: list[tuple[Line, str]] = []  # the physical lines of the record being assembled
    group_bytes = 0
    in_quotes = False

    while True:
        line = pending.popleft() if pending else next(lines, None)
        if line is None and not group:
            return
        if line is None or len(group) >= MAX_RECORD_LINES or group_bytes > MAX_RECORD_BYTES:
            # The quote opened by the group's first line never closes: reject that line and
            # read the others again as records of their own.
            first = group[0][0]
            yield Record(
                first.number,
                first.offset,
                (),
                _show(first.data, codec),
                f"unterminated quoted field: the {quote} opened on this line is never closed",
            )
            pending.extendleft(reversed([g for g, _ in group[1:]] + ([line] if line else [])))
            group, group_bytes, in_quotes = [], 0, False
            continue
        try:
            text = line.data.decode(codec)
        except UnicodeDecodeError as exc:
            reason = (
                f"undecodable {encoding} byte 0x{line.data[exc.start]:02x} "
                f"at column {exc.start + 1}"
            )
            lines_of_record = [g for g, _ in group] + [line]
            if group:
                reason += f" of line {line.number}"
            first = lines_of_record[0]
            data = b"".join(g.data for g in lines_of_record)
            yield Record(first.number, first.offset, (), _show(data, codec), reason)
            group, group_bytes, in_quotes = [], 0, False
            continue
        if line.number == 1:
            text = text.removeprefix("\ufeff")
        group.append((line, text))
        group_bytes += len(line.data)
        in_quotes = _ends_inside_quotes(text, in_quotes, quote, delimiter)
        if not in_quotes:
            first = group[0][0]
            data = b"".join(g.data for g, _ in group)
            yield Record(first.number, first.offset, tuple(t for _, t in group), _show(data, codec))
            group, group_bytes = [], 0
