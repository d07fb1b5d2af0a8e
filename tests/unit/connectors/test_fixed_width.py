"""The fixed-width connector: behaviour suite plus byte layouts, encodings and rejects."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.base import POSITION_COLUMN, ReadRequest
from connectors.files.fixed_width import FixedWidthConnector
from connectors.registry import load_connector
from connectors.testing import ConnectorBehaviour, ErrorCase, read_all, records_of, rejects_of
from exhub.errors import ConfigError

pytestmark = pytest.mark.unit

# id: bytes 0-3, name: bytes 4-11 (four GBK characters), city: bytes 12-17.
FIELDS = [
    {"name": "id", "start": 0, "length": 4},
    {"name": "name", "start": 4, "length": 8},
    {"name": "city", "start": 12, "length": 6},
]


def line(id_: str, name: str, city: str, encoding: str = "gbk") -> bytes:
    """One record padded to the layout by BYTES, as a mainframe export writes it."""
    parts = [(id_, 4), (name, 8), (city, 6)]
    return b"".join(text.encode(encoding).ljust(width, b" ") for text, width in parts)


def fw_connector(folder: Path, **options: object) -> FixedWidthConnector:
    raw = {"path": str(folder), "encoding": "gbk", "fields": FIELDS, **options}
    return FixedWidthConnector.from_options(raw, where="test.yaml")


def read(folder: Path, pattern: str = "*.dat", batch_size: int = 100, **options: object):
    batches = read_all(fw_connector(folder, **options), ReadRequest(pattern, batch_size=batch_size))
    return records_of(batches), rejects_of(batches)


def write(path: Path, *lines: bytes, end: bytes = b"\r\n") -> Path:
    path.write_bytes(b"".join(x + end for x in lines))
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path / "hj_1.dat", line("1", "张三", "合肥"), line("2", "欧阳娜娜", "芜湖"))
    with gzip.open(tmp_path / "hj_2.dat.gz", "wb") as gz:
        gz.write(line("3", "李四", "蚌埠") + b"\n" + line("4", "王五", "") + b"\n")
    return tmp_path


class TestFixedWidthBehaviour(ConnectorBehaviour):
    @pytest.fixture
    def connector(self, folder: Path) -> Iterator[FixedWidthConnector]:
        with fw_connector(folder) as connector:
            yield connector

    @pytest.fixture
    def known_request(self) -> ReadRequest:
        return ReadRequest("hj_*.dat", batch_size=3)

    @pytest.fixture
    def expected_rows(self) -> list[dict]:
        rows = [
            ("1", "张三", "合肥"),
            ("2", "欧阳娜娜", "芜湖"),
            ("3", "李四", "蚌埠"),
            ("4", "王五", ""),
        ]
        return [dict(zip(("id", "name", "city"), row, strict=True)) for row in rows]

    @pytest.fixture
    def error_cases(self, tmp_path: Path, connector: FixedWidthConnector) -> list[ErrorCase]:
        missing = fw_connector(tmp_path / "unmounted")
        no_layout = FixedWidthConnector.from_options({"path": str(tmp_path)}, where="t.yaml")
        overlap = [{"name": "a", "start": 0, "length": 4}, {"name": "b", "start": 3, "length": 2}]
        return [
            ErrorCase(
                "missing folder",
                lambda: read_all(missing, ReadRequest("*.dat")),
                ConfigError,
                "does not exist",
            ),
            ErrorCase("check missing folder", missing.check, ConfigError),
            ErrorCase(
                "no layout",
                lambda: read_all(no_layout, ReadRequest("*.dat")),
                ConfigError,
                "needs a layout",
            ),
            ErrorCase(
                "overlapping fields",
                lambda: fw_connector(tmp_path, fields=overlap),
                ConfigError,
                "overlap",
            ),
            ErrorCase(
                "repeated names",
                lambda: fw_connector(tmp_path, fields=[FIELDS[0], FIELDS[0]]),
                ConfigError,
                "repeat",
            ),
            ErrorCase(
                "unknown encoding",
                lambda: fw_connector(tmp_path, encoding="big5"),
                ConfigError,
                "option 'encoding'",
            ),
            ErrorCase(
                "stream option not allowed",
                lambda: read_all(connector, ReadRequest("*.dat", options={"path": "/etc"})),
                ConfigError,
                "cannot be set per stream",
            ),
        ]


def test_registered_under_fixed_width() -> None:
    assert load_connector("fixed_width") is FixedWidthConnector


def test_fields_are_stripped_text_with_positions(tmp_path: Path) -> None:
    first = line("1", "张三", "合肥")
    write(tmp_path / "a.dat", first, line("22", "李四", "芜湖"))
    records, rejects = read(tmp_path)
    assert records.schema.names == ["id", "name", "city", POSITION_COLUMN]
    assert all(t == pa.string() for t in records.schema.types)
    assert records.to_pylist() == [
        {"id": "1", "name": "张三", "city": "合肥", POSITION_COLUMN: "a.dat:1@0"},
        {"id": "22", "name": "李四", "city": "芜湖", POSITION_COLUMN: f"a.dat:2@{len(first) + 2}"},
    ]
    assert rejects.num_rows == 0


@pytest.mark.parametrize("end", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_line_terminators(tmp_path: Path, end: bytes) -> None:
    write(tmp_path / "a.dat", line("1", "张三", "合肥"), line("2", "李四", "芜湖"), end=end)
    records, _ = read(tmp_path)
    assert records["city"].to_pylist() == ["合肥", "芜湖"]


def test_gb18030_character_outside_gbk(tmp_path: Path) -> None:
    write(tmp_path / "a.dat", line("1", "王䶮", "合肥", "gb18030"), line("2", "李明", "芜湖"))
    records, rejects = read(tmp_path, encoding="gb18030")
    assert records["name"].to_pylist() == ["王䶮", "李明"]
    assert rejects.num_rows == 0
    # As GBK the same bytes are a reject naming the field, never U+FFFD.
    records, rejects = read(tmp_path, encoding="gbk")
    assert records["name"].to_pylist() == ["李明"]
    (reject,) = rejects.to_pylist()
    assert reject[POSITION_COLUMN] == "a.dat:1@0"
    assert reject["reason"] == (
        "field 'name' (start 4, length 8): undecodable gbk byte 0xfe at byte offset 6"
    )
    assert "\ufffd" not in reject["raw"] and "\\xfe" in reject["raw"]


def test_utf8_layout_counts_three_bytes_per_character(tmp_path: Path) -> None:
    fields = [{"name": "name", "start": 0, "length": 6}, {"name": "n", "start": 6, "length": 2}]
    write(tmp_path / "a.dat", "张三".encode() + b"42")
    records, rejects = read(tmp_path, encoding="utf-8", fields=fields)
    assert records.to_pylist() == [{"name": "张三", "n": "42", POSITION_COLUMN: "a.dat:1@0"}]
    assert rejects.num_rows == 0


def test_character_straddling_a_field_edge_is_a_reject_naming_the_field(tmp_path: Path) -> None:
    # The exporting system wrote the id one byte short: the name's first character starts at
    # byte 3, so its second byte is the first byte of 'name', and every later field is shifted.
    good = line("1", "张三", "合肥")
    shifted = b"2  " + "欧阳娜娜".encode("gbk") + "芜湖".encode("gbk") + b"   "
    write(tmp_path / "a.dat", good, shifted, end=b"\n")
    records, rejects = read(tmp_path)
    assert records["id"].to_pylist() == ["1"]
    (reject,) = rejects.to_pylist()
    offset = len(good) + 1
    assert reject[POSITION_COLUMN] == f"a.dat:2@{offset}"
    assert reject["reason"] == (
        "field 'id' (start 0, length 4): the gbk character '欧' (0xc5 0xb7) "
        f"at byte offset {offset + 3} is cut by the field's end"
    )
    assert reject["raw"] == "2  欧阳娜娜芜湖   "


def test_field_ending_inside_a_character(tmp_path: Path) -> None:
    fields = [{"name": "name", "start": 0, "length": 3}, {"name": "rest", "start": 3, "length": 3}]
    write(tmp_path / "a.dat", "张三x".encode("gbk"))
    _, rejects = read(tmp_path, fields=fields)
    assert rejects["reason"].to_pylist() == [
        "field 'name' (start 0, length 3): the gbk character '三' (0xc8 0xfd) "
        "at byte offset 2 is cut by the field's end"
    ]


def test_character_cut_by_the_start_of_a_field_after_filler(tmp_path: Path) -> None:
    # 'b' starts at byte 3, inside the filler's character '张' (bytes 2-3).
    fields = [{"name": "a", "start": 0, "length": 2}, {"name": "b", "start": 3, "length": 3}]
    write(tmp_path / "a.dat", b"ab" + "张".encode("gbk") + b"cd")
    _, rejects = read(tmp_path, fields=fields)
    assert rejects["reason"].to_pylist() == [
        "field 'b' (start 3, length 3): the gbk character '张' (0xd5 0xc5) "
        "at byte offset 2 is cut by the field's start"
    ]


def test_invalid_byte_is_a_reject_and_the_file_goes_on(tmp_path: Path) -> None:
    bad = b"2   \xff\xff" + b" " * 6 + "芜湖".encode("gbk")
    write(tmp_path / "a.dat", line("1", "张三", "合肥"), bad, line("3", "王五", "蚌埠"))
    records, rejects = read(tmp_path)
    assert records["id"].to_pylist() == ["1", "3"]
    (reject,) = rejects.to_pylist()
    assert reject["reason"] == (
        "field 'name' (start 4, length 8): undecodable gbk byte 0xff at byte offset 24"
    )
    assert reject["raw"] == "2   \\xff\\xff      芜湖"


def test_invalid_byte_in_filler_is_a_reject(tmp_path: Path) -> None:
    fields = [{"name": "a", "start": 0, "length": 2}, {"name": "b", "start": 4, "length": 2}]
    write(tmp_path / "a.dat", b"ab\x80\x20cd")
    _, rejects = read(tmp_path, fields=fields)
    assert rejects["reason"].to_pylist() == [
        "undecodable gbk byte 0x80 at byte offset 2, in the filler before "
        "field 'b' (start 4, length 2)"
    ]


def test_header_lines_blank_lines_and_dos_eof_are_skipped(tmp_path: Path) -> None:
    header = "编号姓名    城市".encode("gbk")
    write(tmp_path / "a.dat", header, line("1", "张三", "合肥"), b"", b"   ", line("2", "李四", ""))
    (tmp_path / "a.dat").write_bytes((tmp_path / "a.dat").read_bytes() + b"\x1a")
    records, rejects = read(tmp_path, skip_header_lines=1)
    assert records["id"].to_pylist() == ["1", "2"]
    assert records[POSITION_COLUMN].to_pylist()[0] == f"a.dat:2@{len(header) + 2}"
    assert rejects.num_rows == 0


def test_short_line_gives_empty_trailing_fields(tmp_path: Path) -> None:
    write(tmp_path / "a.dat", "1   张三".encode("gbk"))
    records, rejects = read(tmp_path)
    assert records.drop_columns([POSITION_COLUMN]).to_pylist() == [
        {"id": "1", "name": "张三", "city": ""}
    ]
    assert rejects.num_rows == 0


def test_full_width_blanks_and_nul_padding_are_stripped(tmp_path: Path) -> None:
    fields = [{"name": "name", "start": 0, "length": 8}, {"name": "n", "start": 8, "length": 4}]
    write(tmp_path / "a.dat", "\u3000张三\u3000".encode("gbk") + b"7\x00\x00\x00")
    records, _ = read(tmp_path, fields=fields)
    assert records["name"].to_pylist() == ["张三"]
    assert records["n"].to_pylist() == ["7"]


def test_layout_per_stream(tmp_path: Path) -> None:
    write(tmp_path / "hj.dat", line("1", "张三", "合肥"))
    write(tmp_path / "codes.txt", b"01Hefei")
    connector = fw_connector(tmp_path)
    codes = {"fields": [{"name": "code", "start": 0, "length": 2}], "encoding": "utf-8"}
    records = records_of(read_all(connector, ReadRequest("*.txt", options=codes)))
    assert records.to_pylist() == [{"code": "01", POSITION_COLUMN: "codes.txt:1@0"}]
    records = records_of(read_all(connector, ReadRequest("*.dat")))
    assert records["name"].to_pylist() == ["张三"]


def test_batches_are_bounded_and_never_span_files(tmp_path: Path) -> None:
    write(tmp_path / "a.dat", *[line(str(i), "张三", "合肥") for i in range(5)])
    write(tmp_path / "b.dat", b"\xff", *[line(str(i), "李四", "") for i in range(3)])
    batches = read_all(fw_connector(tmp_path), ReadRequest("*.dat", batch_size=2))
    sizes = [(b.records.num_rows, 0 if b.rejects is None else b.rejects.num_rows) for b in batches]
    assert sizes == [(2, 0), (2, 0), (1, 0), (1, 1), (2, 0)]
