"""Dictionary encoding is chosen per column: codes get it, identity numbers do not."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from exhub.parquet import dictionary_columns, open_writer, writer_options


def _register(rows: int) -> pa.Table:
    return pa.table(
        {
            "resident_id": [f"34010219900101{n:04d}" for n in range(rows)],
            "gender": ["male" if n % 2 else "female" for n in range(rows)],
            "district": [f"3401{n % 7:02d}" for n in range(rows)],
            "flag": [n % 3 == 0 for n in range(rows)],
        }
    )


def test_low_cardinality_columns_are_dictionary_encoded_and_unique_ones_are_not():
    chosen = dictionary_columns(_register(5000))
    assert "gender" in chosen and "district" in chosen
    assert "resident_id" not in chosen
    assert "flag" not in chosen  # booleans are bit-packed; a dictionary buys nothing


def test_written_files_round_trip_and_record_the_encodings(tmp_path):
    table = _register(5000)
    pq.write_table(table, tmp_path / "one.parquet", **writer_options(table))
    assert pq.read_table(tmp_path / "one.parquet").equals(table)
    columns = pq.ParquetFile(tmp_path / "one.parquet").metadata.row_group(0)
    encodings = {columns.column(i).path_in_schema: columns.column(i).encodings for i in range(4)}
    assert any("DICTIONARY" in e for e in encodings["gender"])
    assert not any("DICTIONARY" in e for e in encodings["resident_id"])
    # Data files keep min/max statistics: Iceberg's column bounds are read from them.
    assert columns.column(0).is_stats_set
    assert columns.column(0).statistics.min == "340102199001010000"

    with open_writer(tmp_path / "many.parquet", table.schema, table) as writer:
        writer.write_table(table)
        writer.write_table(table)
    assert pq.read_table(tmp_path / "many.parquet").num_rows == 10_000
