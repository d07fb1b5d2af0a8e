"""Dataset rules over staged files: duplicates named, counts exact, memory bounded by DuckDB."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exhub.contracts import ContractRegistry
from exhub.settings import SHIPPED_SCHEMAS
from exhub.validate.gate import PublishStats, evaluate_gate

pytestmark = pytest.mark.unit


def staged(tmp_path, ids):
    files = []
    for index, chunk in enumerate([ids[: len(ids) // 2], ids[len(ids) // 2 :]]):
        path = tmp_path / f"part-{index}.parquet"
        pq.write_table(pa.table({"resident_id": pa.array(chunk, pa.string())}), path)
        files.append(str(path))
    return files


def test_unique_key_counts_duplicates_across_files_and_names_them(tmp_path):
    contract = ContractRegistry(SHIPPED_SCHEMAS).get("person@1")
    ids = [f"id{i:05d}" for i in range(1000)] + ["id00007", "id00500", "id00500"]
    results = evaluate_gate(
        contract,
        staged(tmp_path, ids),
        PublishStats(rows=len(ids)),
        last_good_rows=None,
        full_refresh=True,
    )
    unique = next(r for r in results if r.rule == "unique_key")
    assert not unique.passed
    assert unique.detail.startswith("3 duplicate rows")
    assert "id00500" in unique.detail and "id00007" in unique.detail


def test_unique_key_passes_clean_files(tmp_path):
    contract = ContractRegistry(SHIPPED_SCHEMAS).get("person@1")
    ids = [f"id{i:05d}" for i in range(1000)]
    results = evaluate_gate(
        contract,
        staged(tmp_path, ids),
        PublishStats(rows=len(ids)),
        last_good_rows=None,
        full_refresh=True,
    )
    assert next(r for r in results if r.rule == "unique_key").passed


def test_hash_collisions_fall_back_to_the_exact_key_count(tmp_path, monkeypatch):
    from exhub.validate import gate

    # Two hash values for 1000 keys: the quick proof fails and the exact count must decide.
    monkeypatch.setattr(gate, "KEY_HASH", "hash({columns}) % 2")
    contract = ContractRegistry(SHIPPED_SCHEMAS).get("person@1")
    clean = [f"id{i:05d}" for i in range(1000)]
    results = evaluate_gate(
        contract,
        staged(_folder(tmp_path / "clean"), clean),
        PublishStats(rows=len(clean)),
        last_good_rows=None,
        full_refresh=True,
    )
    assert next(r for r in results if r.rule == "unique_key").passed
    doubled = [*clean, "id00042"]
    results = evaluate_gate(
        contract,
        staged(_folder(tmp_path / "doubled"), doubled),
        PublishStats(rows=len(doubled)),
        last_good_rows=None,
        full_refresh=True,
    )
    unique = next(r for r in results if r.rule == "unique_key")
    assert not unique.passed and unique.detail.startswith("1 duplicate row")


def _folder(path):
    path.mkdir()
    return path
