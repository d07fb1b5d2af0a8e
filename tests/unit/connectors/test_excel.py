"""The Excel connector: behaviour suite plus typed cells, sheets, blank rows and rejects."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pytest

from connectors.base import POSITION_COLUMN, ReadRequest
from connectors.files.excel import ExcelConnector
from connectors.registry import load_connector
from connectors.testing import ConnectorBehaviour, ErrorCase, read_all, records_of, rejects_of
from exhub.errors import ConfigError

pytestmark = pytest.mark.unit


def workbook(path: Path, rows: list[list[Any]], title: str = "人员", **sheets: list) -> Path:
    """Write an .xlsx whose first sheet holds ``rows`` (plus more sheets by name)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for name, more in sheets.items():
        extra = book.create_sheet(name)
        for row in more:
            extra.append(row)
    book.save(path)
    return path


def xl_connector(folder: Path, **options: object) -> ExcelConnector:
    return ExcelConnector.from_options({"path": str(folder), **options}, where="test.yaml")


def read(folder: Path, pattern: str = "*.xlsx", batch_size: int = 100, **options: object):
    batches = read_all(xl_connector(folder, **options), ReadRequest(pattern, batch_size=batch_size))
    return records_of(batches), rejects_of(batches)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    workbook(tmp_path / "登记_1.xlsx", [["编号", "姓名"], [1, "张三"], [2, "李四"]])
    workbook(tmp_path / "登记_2.xlsx", [["编号", "姓名"], [3, "王五"], [], [4, "赵六"]])
    return tmp_path


class TestExcelBehaviour(ConnectorBehaviour):
    @pytest.fixture
    def connector(self, folder: Path) -> Iterator[ExcelConnector]:
        with xl_connector(folder) as connector:
            yield connector

    @pytest.fixture
    def known_request(self) -> ReadRequest:
        return ReadRequest("登记_*.xlsx", batch_size=1)

    @pytest.fixture
    def expected_rows(self) -> list[dict]:
        names = ["张三", "李四", "王五", "赵六"]
        return [{"编号": str(i), "姓名": name} for i, name in enumerate(names, start=1)]

    @pytest.fixture
    def error_cases(self, tmp_path: Path, folder: Path) -> list[ErrorCase]:
        missing = xl_connector(tmp_path / "unmounted")
        no_sheet = xl_connector(folder, sheet="户籍")
        (folder / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
        return [
            ErrorCase(
                "missing folder",
                lambda: read_all(missing, ReadRequest("*.xlsx")),
                ConfigError,
                "does not exist",
            ),
            ErrorCase("check missing folder", missing.check, ConfigError),
            ErrorCase(
                "missing sheet",
                lambda: read_all(no_sheet, ReadRequest("*.xlsx")),
                ConfigError,
                "has no sheet '户籍'; its sheets: 人员",
            ),
            ErrorCase(
                "old .xls",
                lambda: read_all(xl_connector(folder), ReadRequest("*.xls")),
                ConfigError,
                "save .xls files as .xlsx",
            ),
            ErrorCase(
                "header row 0",
                lambda: xl_connector(folder, header_row=0),
                ConfigError,
                "option 'header_row'",
            ),
        ]


def test_registered_under_excel() -> None:
    assert load_connector("excel") is ExcelConnector


def test_typed_cells_become_text(tmp_path: Path) -> None:
    header = ["整数", "小数", "日期", "时刻", "时间", "文字", "真假", "整浮点"]
    row = [
        42,
        0.1,
        dt.date(1990, 3, 1),
        dt.datetime(2024, 3, 1, 8, 30, 15),
        dt.time(8, 30),
        "合肥市蜀山区",
        True,
        3.0,
    ]
    workbook(tmp_path / "a.xlsx", [header, row])
    records, rejects = read(tmp_path)
    assert all(t == pa.string() for t in records.schema.types)
    assert records.to_pylist() == [
        {
            "整数": "42",
            "小数": "0.1",
            "日期": "1990-03-01",
            "时刻": "2024-03-01T08:30:15",
            "时间": "08:30:00",
            "文字": "合肥市蜀山区",
            "真假": "true",
            "整浮点": "3",
            POSITION_COLUMN: "a.xlsx!人员:2",
        }
    ]
    assert rejects.num_rows == 0


def test_excel_date_serial_in_a_date_formatted_cell(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["出生日期", "登记时间", "序号"])
    sheet.append([45352, 45352.75, 45352])
    sheet["A2"].number_format = "yyyy-mm-dd"
    sheet["B2"].number_format = "yyyy/m/d h:mm"
    book.save(tmp_path / "a.xlsx")
    records, _ = read(tmp_path)
    row = records.to_pylist()[0]
    assert row["出生日期"] == "2024-03-01"
    assert row["登记时间"] == "2024-03-01T18:00:00"
    assert row["序号"] == "45352"  # a serial in a General cell is a number


def test_midnight_in_a_datetime_format_keeps_its_time(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["t"])
    sheet.append([dt.datetime(2024, 3, 1)])
    sheet["A2"].number_format = "yyyy-mm-dd hh:mm:ss"
    book.save(tmp_path / "a.xlsx")
    records, _ = read(tmp_path)
    assert records["t"].to_pylist() == ["2024-03-01T00:00:00"]


def test_blank_rows_are_skipped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [["id", "name"], [1, "张三"], [], [None, None], ["  ", None], [2, "李四"]]
    workbook(tmp_path / "a.xlsx", rows)
    with caplog.at_level(logging.INFO):
        records, rejects = read(tmp_path)
    assert records[POSITION_COLUMN].to_pylist() == ["a.xlsx!人员:2", "a.xlsx!人员:6"]
    assert rejects.num_rows == 0
    assert "a.xlsx!人员: 3 blank row(s) skipped" in caplog.text


def test_empty_cells_are_null_and_short_rows_padded(tmp_path: Path) -> None:
    workbook(tmp_path / "a.xlsx", [["a", "b", "c"], [1, None, 3], [4]])
    records, _ = read(tmp_path)
    assert records.drop_columns([POSITION_COLUMN]).to_pylist() == [
        {"a": "1", "b": None, "c": "3"},
        {"a": "4", "b": None, "c": None},
    ]


def test_header_row_and_sheet_per_stream(tmp_path: Path) -> None:
    title = [
        ["合肥市民政局 婚姻登记名册"],
        [],
        ["证件号码", "姓名"],
        ["340104199001011234", "张三"],
    ]
    workbook(tmp_path / "a.xlsx", [["ignored"]], 婚姻登记=title)
    connector = xl_connector(tmp_path)
    request = ReadRequest("*.xlsx", options={"sheet": "婚姻登记", "header_row": 3})
    records = records_of(read_all(connector, request))
    assert records.to_pylist() == [
        {"证件号码": "340104199001011234", "姓名": "张三", POSITION_COLUMN: "a.xlsx!婚姻登记:4"}
    ]


def test_duplicate_and_empty_header_names(tmp_path: Path) -> None:
    workbook(tmp_path / "a.xlsx", [["id", "name", None, "name", 2024, None], [1, 2, 3, 4, 5]])
    records, _ = read(tmp_path)
    assert records.schema.names == ["id", "name", "column_3", "name_2", "2024", POSITION_COLUMN]


def test_value_right_of_the_header_is_a_reject(tmp_path: Path) -> None:
    workbook(tmp_path / "a.xlsx", [["id", "name"], [1, "张三", "多余"], [2, "李四", None]])
    records, rejects = read(tmp_path)
    assert records["id"].to_pylist() == ["2"]
    assert rejects.to_pylist() == [
        {
            POSITION_COLUMN: "a.xlsx!人员:2",
            "raw": '["1", "张三", "多余"]',
            "reason": "cell C2 has a value right of the header (which names 2 columns)",
        }
    ]


def test_error_cell_is_a_reject(tmp_path: Path) -> None:
    path = workbook(tmp_path / "a.xlsx", [["id", "ratio"], [1, 0.5], [2, "#DIV/0!"]])
    book = openpyxl.load_workbook(path)
    book.active["B3"].data_type = "e"  # as Excel stores a cached formula error
    book.save(path)
    records, rejects = read(tmp_path)
    assert records["id"].to_pylist() == ["1"]
    assert rejects["reason"].to_pylist() == ["cell B3 holds the Excel error #DIV/0!"]
    assert rejects[POSITION_COLUMN].to_pylist() == ["a.xlsx!人员:3"]


def test_corrupt_workbook_is_one_reject_and_others_are_read(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").write_bytes(b"PK\x03\x04 truncated upload")
    workbook(tmp_path / "b.xlsx", [["id"], [1]])
    first, second = read_all(xl_connector(tmp_path), ReadRequest("*.xlsx"))
    assert first.records.num_rows == 0  # a batch never spans files: each has its columns
    assert second.records[POSITION_COLUMN].to_pylist() == ["b.xlsx!人员:2"]
    (reject,) = rejects_of([first, second]).to_pylist()
    assert reject[POSITION_COLUMN] == "a.xlsx"
    assert reject["reason"].startswith("cannot read the workbook: BadZipFile")


def test_batches_are_bounded_and_rows_streamed(tmp_path: Path) -> None:
    workbook(tmp_path / "a.xlsx", [["n"], *[[i] for i in range(7)]])
    batches = read_all(xl_connector(tmp_path), ReadRequest("*.xlsx", batch_size=3))
    assert [b.records.num_rows for b in batches] == [3, 3, 1]
