"""The file ledger of the csv, fixed_width and excel connectors: each file is read once."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import openpyxl
import pytest

from connectors.base import POSITION_COLUMN, Capability, ReadRequest
from connectors.files.csv import CsvConnector
from connectors.files.excel import ExcelConnector
from connectors.files.fixed_width import FixedWidthConnector
from connectors.files.folder import FileConnector
from connectors.files.ledger import LedgerReader
from connectors.testing import read_all, records_of

pytestmark = pytest.mark.unit


def _csv(path: Path, names: list[str]) -> None:
    path.write_text("name\n" + "".join(f"{n}\n" for n in names), encoding="utf-8")


def _fixed(path: Path, names: list[str]) -> None:
    path.write_bytes(b"".join(n.encode("gbk").ljust(8) + b"\r\n" for n in names))


def _xlsx(path: Path, names: list[str]) -> None:
    book = openpyxl.Workbook()
    for row in [["name"], *[[n] for n in names]]:
        book.active.append(row)
    book.save(path)


@dataclass(frozen=True)
class Kind:
    """One file connector, how to build it and how to write one of its files."""

    suffix: str
    make: Callable[[Path], FileConnector]
    write: Callable[[Path, list[str]], None]


KINDS = [
    pytest.param(
        Kind(".csv", lambda p: CsvConnector.from_options({"path": str(p)}, where="t"), _csv),
        id="csv",
    ),
    pytest.param(
        Kind(
            ".dat",
            lambda p: FixedWidthConnector.from_options(
                {"path": str(p), "fields": [{"name": "name", "start": 0, "length": 8}]},
                where="t",
            ),
            _fixed,
        ),
        id="fixed_width",
    ),
    pytest.param(
        Kind(".xlsx", lambda p: ExcelConnector.from_options({"path": str(p)}, where="t"), _xlsx),
        id="excel",
    ),
]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param


def names_read(connector: FileConnector, request: ReadRequest) -> list[str]:
    records = records_of(read_all(connector, request))
    return records["name"].to_pylist() if "name" in records.column_names else []


def test_declares_the_ledger(kind: Kind, tmp_path: Path) -> None:
    connector = kind.make(tmp_path)
    assert Capability.FILE_LEDGER in connector.capabilities
    assert isinstance(connector, LedgerReader)


def test_full_read_then_second_read_skips_unchanged_files(
    kind: Kind, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kind.write(tmp_path / f"a{kind.suffix}", ["张三", "李四"])
    kind.write(tmp_path / f"b{kind.suffix}", ["王五"])
    connector = kind.make(tmp_path)
    request = ReadRequest(f"*{kind.suffix}")
    assert names_read(connector, request) == ["张三", "李四", "王五"]
    ledger = connector.ledger_after(request)
    data = (tmp_path / f"a{kind.suffix}").read_bytes()
    assert json.loads(ledger)["files"][f"a{kind.suffix}"] == {
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }

    kind.write(tmp_path / f"c{kind.suffix}", ["赵六"])
    again = replace(request, watermark=ledger)
    with caplog.at_level(logging.INFO):
        assert names_read(connector, again) == ["赵六"]
    assert "2 file(s) skipped, already ingested unchanged" in caplog.text
    assert set(json.loads(connector.ledger_after(again))["files"]) == {
        f"a{kind.suffix}",
        f"b{kind.suffix}",
        f"c{kind.suffix}",
    }


def test_changed_file_with_the_same_name_is_read_again(
    kind: Kind, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kind.write(tmp_path / f"a{kind.suffix}", ["张三", "李四"])
    kind.write(tmp_path / f"b{kind.suffix}", ["王五"])
    connector = kind.make(tmp_path)
    request = ReadRequest(f"*{kind.suffix}")
    read_all(connector, request)
    ledger = connector.ledger_after(request)

    kind.write(tmp_path / f"a{kind.suffix}", ["张三", "李思"])  # corrected export, same size
    again = replace(request, watermark=ledger)
    with caplog.at_level(logging.INFO):
        records = records_of(read_all(connector, again))
    assert records["name"].to_pylist() == ["张三", "李思"]
    assert records[POSITION_COLUMN].to_pylist()[0].startswith(f"a{kind.suffix}")
    assert f"a{kind.suffix} changed since it was ingested" in caplog.text
    new = json.loads(connector.ledger_after(again))["files"]
    old = json.loads(ledger)["files"]
    assert new[f"a{kind.suffix}"] != old[f"a{kind.suffix}"]
    assert new[f"b{kind.suffix}"] == old[f"b{kind.suffix}"]
    # And once recorded, it is skipped.
    assert names_read(connector, replace(request, watermark=json.dumps({"files": new}))) == []


def test_watermark_none_reads_every_file(kind: Kind, tmp_path: Path) -> None:
    kind.write(tmp_path / f"a{kind.suffix}", ["张三"])
    connector = kind.make(tmp_path)
    request = ReadRequest(f"*{kind.suffix}")
    read_all(connector, request)
    assert connector.ledger_after(request)
    assert names_read(connector, request) == ["张三"]


def test_deleted_files_leave_the_ledger(tmp_path: Path) -> None:
    _csv(tmp_path / "a.csv", ["张三"])
    _csv(tmp_path / "b.csv", ["李四"])
    connector = CsvConnector.from_options({"path": str(tmp_path)}, where="t")
    request = ReadRequest("*.csv")
    read_all(connector, request)
    ledger = connector.ledger_after(request)
    (tmp_path / "a.csv").unlink()
    again = replace(request, watermark=ledger)
    assert names_read(connector, again) == []
    assert set(json.loads(connector.ledger_after(again))["files"]) == {"b.csv"}


def test_a_watermark_that_is_not_a_ledger_reads_every_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _csv(tmp_path / "a.csv", ["张三"])
    connector = CsvConnector.from_options({"path": str(tmp_path)}, where="t")
    with caplog.at_level(logging.WARNING):
        assert names_read(connector, ReadRequest("*.csv", watermark="2024-03-01")) == ["张三"]
    assert "the watermark is not a file ledger; reading every file" in caplog.text


def test_no_ledger_before_the_read_finished(tmp_path: Path) -> None:
    _csv(tmp_path / "a.csv", ["张三"])
    _csv(tmp_path / "b.csv", ["李四"])
    connector = CsvConnector.from_options({"path": str(tmp_path)}, where="t")
    request = ReadRequest("*.csv")
    with pytest.raises(RuntimeError, match="did not finish"):
        connector.ledger_after(request)
    batches = connector.read_batches(request)
    next(batches)
    with pytest.raises(RuntimeError, match="did not finish"):
        connector.ledger_after(request)
    batches.close()


def test_a_file_written_while_read_is_left_out_of_the_ledger(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _csv(tmp_path / "a.csv", ["张三", "李四"])
    connector = CsvConnector.from_options({"path": str(tmp_path)}, where="t")
    request = ReadRequest("*.csv", batch_size=1)
    with caplog.at_level(logging.WARNING):
        for index, _ in enumerate(connector.read_batches(request)):
            if index == 0:  # the legacy system is still appending
                with (tmp_path / "a.csv").open("a", encoding="utf-8") as f:
                    f.write("王五\n")
    assert json.loads(connector.ledger_after(request))["files"] == {}
    assert "a.csv changed while it was read" in caplog.text
