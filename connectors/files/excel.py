"""Read one sheet of the ``.xlsx`` workbooks dropped into a folder, row by row.

Workbooks are opened with openpyxl in read-only mode (rows are streamed, never the whole
sheet) and with the values Excel last calculated for formulas. Every column is text, so that
batches keep one schema whatever the cells hold (the conform stage casts):

* integers ``"123"`` (a whole number stored as a float too, e.g. ``123.0`` → ``"123"``),
  other numbers as Python's shortest round-trip text (``"0.1"``), booleans ``"true"``/``"false"``;
* dates ``"2024-03-01"``, date-times ``"2024-03-01T08:30:00"`` (naive: the source's zone),
  times ``"08:30:00"``, durations ``"30:00:00"``. A number in a cell with a date format (an
  Excel date serial) is a date, as Excel shows it; a serial in a ``General`` cell stays a number;
* text as written; an empty cell is null.

The header row (``header_row``) names the columns (blank names are numbered, duplicates
suffixed, as in the CSV connector); rows above it are skipped. Blank rows are skipped and
counted in a log line. A merged cell's value is read in its top-left cell only (read-only mode
does not see merges): the other rows of a merged block read as empty there, and are skipped
when wholly blank. A row holding an
Excel error (``#DIV/0!``, ``#N/A``, ...) or a value right of the header's last column is a
reject. A file that is not a readable workbook is one reject naming the file.

Every row carries ``_source_position`` = ``"<file>!<sheet>:<row>"`` (Excel's row number).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import Field

from connectors.base import ExtractBatch, ReadRequest
from connectors.files.batch import RowBatch, header_names
from connectors.files.folder import FileConnector
from connectors.files.options import FolderOptions
from exhub.errors import ConfigError

log = logging.getLogger(__name__)

_EXACT_FLOAT = 2**53
"""Whole floats below this are exact integers."""


class ExcelOptions(FolderOptions):
    """Where the workbooks are and which rows hold the data.

    Attributes:
        path: folder holding the files; a stream's ``source_object`` is a glob under it,
            e.g. ``"登记_*.xlsx"``.
        sheet: the sheet to read, by name; None reads the first sheet.
        header_row: 1-based row holding the column names; data starts below it.
    """

    sheet: str | None = Field(default=None, min_length=1, description="Sheet name (default first)")
    header_row: int = Field(default=1, ge=1, description="1-based row of the column names")


class ExcelConnector(FileConnector[ExcelOptions]):
    """Streams one sheet of each ``.xlsx``/``.xlsm`` workbook matching a glob, in name order.

    A stream may override ``sheet`` and ``header_row`` (one stream per sheet).
    """

    name: ClassVar[str] = "excel"
    options_model: ClassVar[type[ExcelOptions]] = ExcelOptions
    stream_options: ClassVar[frozenset[str]] = frozenset({"sheet", "header_row"})
    gzip: ClassVar[bool] = False

    def describe(self) -> str:
        """Folder and sheet."""
        sheet = f"sheet '{self.options.sheet}'" if self.options.sheet else "first sheet"
        return f"excel {self.options.path} ({sheet})"

    def read_file(
        self, path: Path, name: str, request: ReadRequest, options: ExcelOptions
    ) -> Iterator[ExtractBatch]:
        """Yield the rows of one workbook's sheet (see the module docstring)."""
        try:
            with warnings.catch_warnings():
                # openpyxl warns about workbook features it ignores (data validation, ...).
                warnings.simplefilter("ignore")
                workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except InvalidFileException as exc:
            raise ConfigError(
                f"{path} is not a workbook openpyxl can read: {exc}",
                fix="match only .xlsx/.xlsm files in source_object (save .xls files as .xlsx)",
                key="source_object",
            ) from None
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            batch = RowBatch(request.batch_size, [])
            batch.reject(name, "", f"cannot read the workbook: {type(exc).__name__}: {exc}")
            yield batch.flush()
            return
        try:
            yield from self._read_sheet(workbook, name, request, options)
        finally:
            workbook.close()

    def _read_sheet(
        self, workbook: Any, name: str, request: ReadRequest, options: ExcelOptions
    ) -> Iterator[ExtractBatch]:
        if options.sheet is None:
            sheet = workbook.worksheets[0]
        elif options.sheet in workbook.sheetnames:
            sheet = workbook[options.sheet]
        else:
            raise ConfigError(
                f"{name} has no sheet '{options.sheet}'; its sheets: "
                + ", ".join(workbook.sheetnames),
                fix="set options.sheet to one of them (on the source or the stream)",
                key="options.sheet",
            )
        sheet.reset_dimensions()  # some exporters record a wrong size: read every row
        where = f"{name}!{sheet.title}"
        batch = RowBatch(request.batch_size)
        blank = 0
        for number, row in enumerate(sheet.iter_rows(), start=1):
            if number < options.header_row:
                continue
            texts = [_text(cell) for cell in row]
            if number == options.header_row:
                while texts and _is_blank(texts[-1]):
                    texts.pop()
                batch.set_columns(header_names([t or "" for t in texts], f"{where}:{number}"))
                continue
            if all(_is_blank(t) for t in texts):
                blank += 1
                continue
            position = f"{where}:{number}"
            reason = _problem(row, texts, number, len(batch.columns or ()))
            if reason:
                batch.reject(position, json.dumps(texts, ensure_ascii=False), reason)
            else:
                width = len(batch.columns or ())
                batch.add(texts[:width] + [None] * (width - len(texts)), position)
            if batch.full:
                yield batch.flush()
        if batch.columns is None:
            log.warning("%s: no header row %d: the sheet is shorter", where, options.header_row)
        if blank:
            log.info("%s: %d blank row(s) skipped", where, blank)
        if batch.pending:
            yield batch.flush()


def _problem(row: Sequence[Any], texts: list[str | None], number: int, width: int) -> str | None:
    """Why a data row cannot be a record: an error cell, or a value outside the header."""
    for index, cell in enumerate(row):
        if getattr(cell, "data_type", None) == "e":
            return f"cell {get_column_letter(index + 1)}{number} holds the Excel error {cell.value}"
    for index in range(width, len(texts)):
        if not _is_blank(texts[index]):
            return (
                f"cell {get_column_letter(index + 1)}{number} has a value right of the header "
                f"(which names {width} columns)"
            )
    return None


def _is_blank(text: str | None) -> bool:
    return text is None or not text.strip()


def _text(cell: Any) -> str | None:
    """A cell's value as text (see the module docstring)."""
    value = cell.value
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _EXACT_FLOAT:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time() and not _shows_time(cell.number_format):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _duration(value)
    return str(value)


def _shows_time(number_format: str | None) -> bool:
    """Whether an Excel number format shows hours or seconds (quoted text aside)."""
    fmt = (number_format or "").lower()
    kept, quoted = [], False
    for char in fmt:
        if char == '"':
            quoted = not quoted
        elif not quoted:
            kept.append(char)
    plain = "".join(kept)
    while "[" in plain and "]" in plain:  # [$-804], [red]; [h] is a duration, not a date
        start = plain.index("[")
        end = plain.index("]", start)
        plain = plain[:start] + plain[end + 1 :]
    return "h" in plain or "s" in plain


def _duration(value: dt.timedelta) -> str:
    """``[h]:mm:ss`` text of a duration, fractions of a second kept."""
    sign = "-" if value < dt.timedelta(0) else ""
    micros = abs(value) // dt.timedelta(microseconds=1)
    seconds, micro = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    text = f"{sign}{hours}:{minute:02d}:{second:02d}"
    return f"{text}.{micro:06d}".rstrip("0") if micro else text
