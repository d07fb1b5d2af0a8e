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
