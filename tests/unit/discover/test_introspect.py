"""Reading legacy systems for discovery: encodings, delimiters, file groups, errors."""

from __future__ import annotations

import codecs

import pytest

from exhub.discover.introspect import (
    detect_encoding,
    introspect_files,
    introspect_sql,
    sniff_dialect,
)
from exhub.errors import ConfigError, SourceUnreachableError

pytestmark = pytest.mark.unit

TEXT = "证件号码,姓名\r\n340104198001010011,张三\r\n340104198001010012,李四\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("gbk"), "gb18030"),  # GBK decodes too; GB18030 is its superset
        (TEXT.encode("gb18030") + "𠀀,乙\r\n".encode("gb18030"), "gb18030"),
        (b"id,name\n1,a\n", "utf-8"),
    ],
)
def test_encoding_is_detected_strictly(tmp_path, data, expected):
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    assert detect_encoding(path)[0] == expected


def test_encoding_with_bad_lines_picks_the_one_decoding_most(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(TEXT.encode("gbk") + b"\x81\x20bad,line\r\n")
    encoding, evidence = detect_encoding(path)
    assert encoding == "gb18030"
    assert evidence.startswith("gb18030: 3 of 4 lines decode strictly")


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_delimiter_and_header_are_sniffed(tmp_path, delimiter):
    path = tmp_path / "x.csv"
    rows = [["证件号码", "姓名", "性别"], ["340104198001010011", "张三", "男"]] * 1
    rows += [["340104198001010012", "李四", "女"], ["340104198001010013", "王五", "男"]]
    path.write_text("\n".join(delimiter.join(r) for r in rows) + "\n", encoding="utf-8")
    found, header, _ = sniff_dialect(path, "utf-8")
    assert found == delimiter
    assert header


def test_files_differing_by_date_form_one_stream(tmp_path):
    for day in ("20240101", "20240102"):
        (tmp_path / f"RK_{day}.csv").write_text(TEXT, encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored")
    sample = introspect_files(tmp_path)
    assert [t.source_object for t in sample.tables] == ["RK_*.csv"]
    assert sample.tables[0].row_count == 4
    assert sample.options == {"path": str(tmp_path), "encoding": "utf-8"}


def test_each_file_group_is_read_once_for_its_sample_and_counts(tmp_path, monkeypatch):
    from connectors import load_connector

    lines = ["证件号码,姓名"] + [f"3401041980010{n:05d},张{n}" for n in range(30)]
    lines.insert(7, "340104198001010099,王,多余的一列")  # a row with a field too many
    for day in ("20240101", "20240102"):
        (tmp_path / f"RK_{day}.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    connector_class = load_connector("csv")
    reads = []
    original = connector_class.read_batches

    def counted(self, request):
        reads.append(request.source_object)
        return original(self, request)

    monkeypatch.setattr(connector_class, "read_batches", counted)
    sample = introspect_files(tmp_path, sample_rows=10)
    assert reads == ["RK_*.csv"]
    (table,) = sample.tables
    assert (table.row_count, table.rejects) == (62, 2)
    assert all(len(profile.sample) <= 10 for profile in table.columns)


def test_a_folder_without_csv_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"no \.csv"):
        introspect_files(tmp_path)


def test_missing_sqlite_file_is_unreachable(tmp_path):
    with pytest.raises(SourceUnreachableError):
        introspect_sql(f"sqlite:///{tmp_path}/nope.db")


def test_refused_connection_is_unreachable_and_hides_the_password():
    secret = "p@ss%2F/x"
    url = "postgresql+psycopg2://u:p%40ss%252F%2Fx@127.0.0.1:1/db"
    with pytest.raises(SourceUnreachableError) as caught:
        introspect_sql(url)
    text = str(caught.value)
    assert secret not in text and "p%40ss" not in text and "***" in text


def test_sql_tables_are_counted_and_sampled(legacy):
    sample = introspect_sql(f"sqlite:///{legacy}/hukou.db", sample_rows=50)
    (table,) = sample.tables
    assert table.name == "T_RK_JBXX" and table.row_count == 200
    assert table.sampled == 50
    assert [c.name for c in table.columns][:3] == ["SFZH", "XM", "XB"]
    assert table.columns[0].source_type == "TEXT"
    assert sample.default_id == "hukou"
