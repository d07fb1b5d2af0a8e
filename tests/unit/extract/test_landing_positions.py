"""Keyed SQL streams land without position strings; reading the landing rebuilds them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.base import POSITION_COLUMN, KeyPositions, ReadRequest
from connectors.sql import SqlConnector
from connectors.testing import read_all, records_of
from exhub.extract import LandingManifest, extract_to_landing, iter_landed
from tests.unit.connectors.test_sql_sqlite import make_db

pytestmark = pytest.mark.unit


def _land(tmp_path: Path, request: ReadRequest) -> tuple[Path, LandingManifest, pa.Table]:
    sql = SqlConnector.from_options({"url": make_db(tmp_path / "legacy.db")}, where="t.yaml")
    try:
        extracted = records_of(read_all(sql, request))
        folder = tmp_path / "landing"
        manifest = extract_to_landing(
            sql, request, folder, run_id="r1", source_id="s1", stream="persons"
        )
    finally:
        sql.close()
    return folder, manifest, extracted


@pytest.mark.parametrize("key", [("id",), ("name", "id")])
def test_keyed_parts_leave_positions_out_and_reading_rebuilds_them(tmp_path, key):
    request = ReadRequest("persons", key_columns=key, batch_size=3)
    folder, manifest, extracted = _land(tmp_path, request)

    assert len(manifest.parts) > 1 and sum(p.rows for p in manifest.parts) == 7
    for part in manifest.parts:
        assert POSITION_COLUMN not in pq.read_schema(folder / part.file).names
    assert manifest.key_positions == {"source_object": "persons", "key_columns": list(key)}
    saved = json.loads((folder / "_manifest.json").read_text())
    assert LandingManifest.load(folder).key_positions == saved["key_positions"]

    landed = pa.Table.from_batches(list(iter_landed(folder, LandingManifest.load(folder))))
    assert landed.equals(extracted)
    assert manifest.parts[0].first_position == extracted.column(POSITION_COLUMN)[0].as_py()


def test_an_unkeyed_stream_keeps_its_positions_in_the_parts(tmp_path):
    folder, manifest, extracted = _land(tmp_path, ReadRequest("persons", batch_size=3))
    assert manifest.key_positions is None
    assert POSITION_COLUMN in pq.read_schema(folder / manifest.parts[0].file).names
    landed = pa.Table.from_batches(list(iter_landed(folder, manifest)))
    assert landed.equals(extracted)


def test_parts_are_plain_lz4_without_statistics_and_their_checksum_is_the_file(tmp_path):
    folder, manifest, _ = _land(tmp_path, ReadRequest("persons", key_columns=("id",), batch_size=3))
    for part in manifest.parts:
        path = folder / part.file
        assert part.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert part.bytes == path.stat().st_size
        metadata = pq.ParquetFile(path).metadata.row_group(0)
        for index in range(metadata.num_columns):
            column = metadata.column(index)
            assert column.compression == "LZ4"
            assert not column.is_stats_set, column.path_in_schema
            assert not any("DICTIONARY" in e for e in column.encodings), column.path_in_schema


def test_a_landing_written_before_the_rule_existed_still_reads(tmp_path):
    folder, _, extracted = _land(tmp_path, ReadRequest("persons", key_columns=("id",)))
    # An older exhub landed the positions and wrote no rule into its manifest.
    data = json.loads((folder / "_manifest.json").read_text())
    del data["key_positions"]
    (folder / "_manifest.json").write_text(json.dumps(data))
    part = folder / data["parts"][0]["file"]
    pq.write_table(extracted, part)
    landed = pa.Table.from_batches(list(iter_landed(folder, LandingManifest.load(folder))))
    assert landed.equals(extracted)


def test_binary_and_null_keys_read_as_the_connector_wrote_them():
    rule = KeyPositions("t", ("k", "n"))
    keys = [pa.array([b"\x01\xff", None]), pa.array([7, None], pa.int64())]
    assert rule.build(keys).to_pylist() == ["t k=01ff,n=7", "t k=NULL,n=NULL"]


def test_positions_use_the_source_columns_mapped_to_the_key_in_key_order():
    from exhub.sources import StreamConfig

    stream = StreamConfig.model_validate(
        {
            "name": "persons",
            "source": "RK",
            "target": "person@1",
            "mapping": {
                "name": "XM",
                "resident_id": "SFZH",
                "district": {"expr": "coalesce(QH, XZQH)"},
            },
        }
    )
    assert stream.key_columns(["resident_id", "name"]) == ("SFZH", "XM")
    # A key filled by an expression has no one source column: positions leave it out.
    assert stream.key_columns(["district", "resident_id"]) == ("SFZH",)
