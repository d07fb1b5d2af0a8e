"""The CSV connector: behaviour suite plus encodings, quoting, rejects and positions."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.base import POSITION_COLUMN, ReadRequest
from connectors.files import records as records_module
from connectors.files.csv import CsvConnector
from connectors.registry import load_connector
from connectors.testing import ConnectorBehaviour, ErrorCase, read_all, records_of, rejects_of
from exhub.errors import ConfigError

pytestmark = pytest.mark.unit

HEADER = "id,name,city\n"
FIRST = "1,张三,合肥\n2,李四,芜湖\n3,王五,蚌埠\n"
SECOND = '4,赵六,"安庆, 怀宁"\n5,钱七,"黄山\n屯溪"\n'


def csv_connector(folder: Path, **options: object) -> CsvConnector:
    return CsvConnector.from_options({"path": str(folder), **options}, where="test.yaml")


def read(folder: Path, pattern: str = "*.csv", batch_size: int = 100, **options: object):
    connector = csv_connector(folder, **options)
    batches = read_all(connector, ReadRequest(pattern, batch_size=batch_size))
    return records_of(batches), rejects_of(batches), batches


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path / "persons_1.csv", (HEADER + FIRST).encode())
    with gzip.open(tmp_path / "persons_2.csv.gz", "wb") as gz:
        gz.write((HEADER + SECOND).encode())
    write(tmp_path / "other.txt", b"not,matched\n")
    return tmp_path


class TestCsvBehaviour(ConnectorBehaviour):
    @pytest.fixture
    def connector(self, folder: Path) -> Iterator[CsvConnector]:
        with csv_connector(folder) as connector:
            yield connector

    @pytest.fixture
    def known_request(self) -> ReadRequest:
        return ReadRequest("persons_*.csv", batch_size=2)

    @pytest.fixture
    def expected_rows(self) -> list[dict]:
        rows = [
            ("1", "张三", "合肥"),
            ("2", "李四", "芜湖"),
            ("3", "王五", "蚌埠"),
            ("4", "赵六", "安庆, 怀宁"),
            ("5", "钱七", "黄山\n屯溪"),
        ]
        return [dict(zip(("id", "name", "city"), row, strict=True)) for row in rows]

    @pytest.fixture
    def error_cases(self, tmp_path: Path, connector: CsvConnector) -> list[ErrorCase]:
        missing = csv_connector(tmp_path / "unmounted")
        return [
            ErrorCase(
                "missing folder",
                lambda: read_all(missing, ReadRequest("*.csv")),
                ConfigError,
                "does not exist",
            ),
            ErrorCase("check missing folder", missing.check, ConfigError),
            ErrorCase(
                "absolute glob",
                lambda: read_all(connector, ReadRequest("/etc/*.csv")),
                ConfigError,
                "relative",
            ),
            ErrorCase(
                "unknown encoding",
                lambda: csv_connector(tmp_path, encoding="latin-1"),
                ConfigError,
                "option 'encoding'",
            ),
            ErrorCase(
                "long delimiter",
                lambda: csv_connector(tmp_path, delimiter=";;"),
                ConfigError,
                "option 'delimiter'",
            ),
        ]


def test_registered_under_csv() -> None:
    assert load_connector("csv") is CsvConnector


def test_every_column_is_text_with_positions(folder: Path) -> None:
    records, rejects, _ = read(folder, "persons_*.csv")
    assert records.schema.names == ["id", "name", "city", POSITION_COLUMN]
    assert all(t == pa.string() for t in records.schema.types)
    assert rejects.num_rows == 0
    positions = records[POSITION_COLUMN].to_pylist()
    header = len(HEADER)
    line_2 = len("1,张三,合肥\n".encode())
    assert positions[:2] == [f"persons_1.csv:2@{header}", f"persons_1.csv:3@{header + line_2}"]
    # The multi-line record starts on line 3 of the .gz file; offsets are decompressed bytes.
    second_offset = header + len('4,赵六,"安庆, 怀宁"\n'.encode())
    assert positions[3:] == [f"persons_2.csv.gz:2@{header}", f"persons_2.csv.gz:3@{second_offset}"]


def test_gbk_file_with_chinese_names(tmp_path: Path) -> None:
    write(tmp_path / "hr.csv", "编号,姓名,性别\n1,欧阳娜娜,女\n2,张伟,男\n".encode("gbk"))
    records, rejects, _ = read(tmp_path, encoding="gbk")
    assert records.schema.names[:3] == ["编号", "姓名", "性别"]
    assert records["姓名"].to_pylist() == ["欧阳娜娜", "张伟"]
    assert rejects.num_rows == 0


def test_gb18030_character_outside_gbk(tmp_path: Path) -> None:
    data = "id,name\n1,王䶮\n2,李明\n".encode("gb18030")
    write(tmp_path / "rare.csv", data)
    records, _, _ = read(tmp_path, encoding="gb18030")
    assert records["name"].to_pylist() == ["王䶮", "李明"]
    # Read as GBK, the same bytes are a reject, not a replacement character.
    records, rejects, _ = read(tmp_path, encoding="gbk")
    assert records["name"].to_pylist() == ["李明"]
    (reject,) = rejects.to_pylist()
    assert reject[POSITION_COLUMN] == "rare.csv:2@8"
    assert reject["reason"] == "undecodable gbk byte 0xfe at column 5"
    assert "\ufffd" not in reject["raw"]


def test_invalid_byte_on_line_3_is_a_reject(tmp_path: Path) -> None:
    lines = [b"id,name\n", b"1,Alice\n", b"2,Bo\xffb\n", b"3,Carol\n"]
    write(tmp_path / "bad.csv", b"".join(lines))
    records, rejects, _ = read(tmp_path)
    assert records["name"].to_pylist() == ["Alice", "Carol"]
    assert records[POSITION_COLUMN].to_pylist() == ["bad.csv:2@8", "bad.csv:4@23"]
    assert rejects.to_pylist() == [
        {
            POSITION_COLUMN: "bad.csv:3@16",
            "raw": "2,Bo\\xffb",
            "reason": "undecodable utf-8 byte 0xff at column 5",
        }
    ]


def test_quoted_comma_newline_and_doubled_quotes(tmp_path: Path) -> None:
    text = 'id,note\r\n1,"a, b"\r\n2,"line one\r\nline ""two"""\r\n3,5\'2" tall\r\n'
    write(tmp_path / "q.csv", text.encode())
    records, rejects, _ = read(tmp_path)
    assert rejects.num_rows == 0
    assert records["note"].to_pylist() == ["a, b", 'line one\r\nline "two"', "5'2\" tall"]
    assert records[POSITION_COLUMN].to_pylist() == ["q.csv:2@9", "q.csv:3@19", "q.csv:5@47"]


def test_gz_file_is_read_transparently(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "x.csv.gz", "wb") as gz:
        gz.write("id,name\n1,张三\n".encode())
    records, _, _ = read(tmp_path)
    assert records.to_pylist() == [{"id": "1", "name": "张三", POSITION_COLUMN: "x.csv.gz:2@8"}]


def test_truncated_gz_keeps_what_was_read(tmp_path: Path) -> None:
    data = gzip.compress(("id\n" + "".join(f"{i}\n" for i in range(5000))).encode())
    write(tmp_path / "cut.csv.gz", data[: len(data) // 2])
    records, rejects, _ = read(tmp_path)
    assert records.num_rows > 0
    (reject,) = rejects.to_pylist()
    assert reject[POSITION_COLUMN].startswith("cut.csv.gz:")
    assert "cannot read the rest of the file" in reject["reason"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8"])
def test_bom_is_stripped_from_the_header(tmp_path: Path, encoding: str) -> None:
    write(tmp_path / "bom.csv", "\ufeffid , 姓名\n1,张三\n".encode("utf-8"))
    records, _, _ = read(tmp_path, encoding=encoding)
    assert records.schema.names[:2] == ["id", "姓名"]
    assert records[POSITION_COLUMN].to_pylist() == ["bom.csv:2@15"]


def test_wrong_field_count_is_a_reject(tmp_path: Path) -> None:
    write(tmp_path / "n.csv", b"a,b,c\n1,2,3\n1,2,3,4\n1,2\n")
    records, rejects, _ = read(tmp_path)
    assert records.num_rows == 1
    assert rejects["reason"].to_pylist() == [
        "expected 3 fields, found 4",
        "expected 3 fields, found 2",
    ]
    assert rejects["raw"].to_pylist() == ["1,2,3,4", "1,2"]


def test_unterminated_quote_rejects_one_line_and_recovers(tmp_path: Path) -> None:
    write(tmp_path / "u.csv", b'id,name\n1,"Alice\n2,Bob\n3,Carol\n')
    records, rejects, _ = read(tmp_path)
    assert records["name"].to_pylist() == ["Bob", "Carol"]
    assert rejects[POSITION_COLUMN].to_pylist() == ["u.csv:2@8"]
    assert "unterminated quoted field" in rejects["reason"][0].as_py()


def test_unterminated_quote_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records_module, "MAX_RECORD_LINES", 3)
    rows = "".join(f"{i},x\n" for i in range(2, 10))
    write(tmp_path / "u.csv", f'id,name\n1,"open\n{rows}'.encode())
    records, rejects, _ = read(tmp_path)
    assert records["id"].to_pylist() == [str(i) for i in range(2, 10)]
    assert rejects.num_rows == 1


def test_malformed_quoting_is_a_reject(tmp_path: Path) -> None:
    write(tmp_path / "m.csv", b'id,name\n1,"Al"ice\n2,Bob\n')
    records, rejects, _ = read(tmp_path)
    assert records["name"].to_pylist() == ["Bob"]
    assert rejects["reason"][0].as_py().startswith("malformed record")


def test_undecodable_header_rejects_the_file(tmp_path: Path) -> None:
    write(tmp_path / "h.csv", b"id,n\xffme\n1,Alice\n")
    records, rejects, _ = read(tmp_path)
    assert records.num_rows == 0
    reasons = rejects["reason"].to_pylist()
    assert reasons[0].startswith("undecodable utf-8 byte 0xff")
    assert reasons[1].startswith("the header (h.csv:1@0) could not be read")


def test_without_header_columns_are_numbered(tmp_path: Path) -> None:
    write(tmp_path / "t.tsv", "1\t张三\n2\t李四\n".encode("gbk"))
    records, _, _ = read(tmp_path, "*.tsv", header=False, delimiter="\t", encoding="gbk")
    assert records.schema.names == ["column_1", "column_2", POSITION_COLUMN]
    assert records[POSITION_COLUMN].to_pylist() == ["t.tsv:1@0", "t.tsv:2@7"]


def test_duplicate_and_empty_header_names(tmp_path: Path) -> None:
    write(tmp_path / "d.csv", b"id,name,,name\n1,a,b,c\n")
    records, _, _ = read(tmp_path)
    assert records.schema.names == ["id", "name", "column_3", "name_2", POSITION_COLUMN]


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    write(tmp_path / "b.csv", b"id\n\n1\n\r\n2\n")
    records, rejects, _ = read(tmp_path)
    assert records["id"].to_pylist() == ["1", "2"]
    assert rejects.num_rows == 0


def test_batches_are_bounded_and_never_span_files(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", b"id\n" + b"".join(b"%d\n" % i for i in range(5)))
    write(tmp_path / "b.csv", b"id\n\xff\n" + b"".join(b"%d\n" % i for i in range(3)))
    _, _, batches = read(tmp_path, batch_size=2)
    sizes = [(b.records.num_rows, 0 if b.rejects is None else b.rejects.num_rows) for b in batches]
    assert sizes == [(2, 0), (2, 0), (1, 0), (1, 1), (2, 0)]


def test_no_matching_file_yields_nothing_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert read(tmp_path, "persons_*.csv")[2] == []
    assert "no file matches 'persons_*.csv'" in caplog.text


def test_quotechar_and_delimiter_must_differ(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must differ"):
        csv_connector(tmp_path, delimiter="'", quotechar="'")
