"""Dataset rules over staged files: duplicates named, counts exact, memory bounded by DuckDB."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exhub.contracts import ContractRegistry
from exhub.settings import SHIPPED_SCHEMAS
from exhub.validate import gate
from exhub.validate.gate import PublishStats, evaluate_gate

pytestmark = pytest.mark.unit

CLEAN = [f"id{i:05d}" for i in range(1000)]


def unique_key_gate(folder, ids):
    """The unique_key result for ``ids`` staged as two Parquet files in ``folder``."""
    folder.mkdir(exist_ok=True)
    files = []
    for index, chunk in enumerate([ids[: len(ids) // 2], ids[len(ids) // 2 :]]):
        path = folder / f"part-{index}.parquet"
        pq.write_table(pa.table({"resident_id": pa.array(chunk, pa.string())}), path)
        files.append(str(path))
    results = evaluate_gate(
        ContractRegistry(SHIPPED_SCHEMAS).get("person@1"),
        files,
        PublishStats(rows=len(ids)),
        last_good_rows=None,
        full_refresh=True,
    )
    return next(r for r in results if r.rule == "unique_key")


def test_unique_key_counts_duplicates_across_files_and_names_them(tmp_path):
    unique = unique_key_gate(tmp_path, [*CLEAN, "id00007", "id00500", "id00500"])
    assert not unique.passed
    assert unique.detail.startswith("3 duplicate rows")
    assert "id00500" in unique.detail and "id00007" in unique.detail


def test_unique_key_passes_clean_files(tmp_path):
    assert unique_key_gate(tmp_path, CLEAN).passed


def test_hash_collisions_fall_back_to_the_exact_key_count(tmp_path, monkeypatch):
    # Two hash values for 1000 keys: the quick proof fails and the exact count must decide.
    monkeypatch.setattr(gate, "KEY_HASH", "hash({columns}) % 2")
    assert unique_key_gate(tmp_path / "clean", CLEAN).passed
    unique = unique_key_gate(tmp_path / "doubled", [*CLEAN, "id00042"])
    assert not unique.passed and unique.detail.startswith("1 duplicate row")


def test_duplicates_of_a_table_larger_than_the_memory_limit_are_counted_and_named(
    tmp_path, monkeypatch
):
    # Every key twice, the keys' text (with DuckDB's overheads) larger than its limit here, as
    # a register of millions of rows is larger than the real one. Grouping every key's text
    # to name duplicates ran out of memory on 30M rows of the benchmark's table; named
    # through their hashes, they are counted and named within the limit.
    monkeypatch.setattr(gate, "DUCKDB_MEMORY_LIMIT", "32MB")
    keys = pa.array([f"3401021980{i:08d}" for i in range(400_000)], pa.string())
    for index in range(2):
        path = tmp_path / f"part-{index}.parquet"
        pq.write_table(pa.table({"resident_id": keys}), path, row_group_size=50_000)
    extra, examples = gate._duplicate_keys(
        [str(tmp_path / f"part-{index}.parquet") for index in range(2)], ["resident_id"]
    )
    assert extra == 400_000
    assert len(examples) == 5 and all(key.startswith("3401021980") for key in examples)
