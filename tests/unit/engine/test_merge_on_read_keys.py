"""Merge-on-read on a composite key, at the publish layer: only the exact key pair is masked."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exhub.contracts import load_contract
from exhub.publish import commit_run, dataset_arrow_schema, ensure_table, open_catalog
from exhub.publish.deletes import live_files
from exhub.publish.merge_scan import RunningMerge, start_merge_preparation

pytestmark = pytest.mark.unit

CONTRACT = """\
name: permit
version: 1
domain: testing
title: {zh: 许可, en: Permit}
owner: data_resources
sharing:
  class: unconditional
update_cycle: daily
primary_key: [district, permit_no]
drift: freeze
fields:
  - name: district
    type: string
    required: true
    description: {zh: 区划, en: District}
  - name: permit_no
    type: long
    required: true
    description: {zh: 编号, en: Number}
  - name: holder
    type: string
    description: {zh: 持有人, en: Holder}
"""


KEY = ["district", "permit_no"]
PERMITS = [
    ("340102", 1, "张三"),
    ("340102", 2, "李四"),
    ("340103", 1, "王五"),
    ("340103", 2, "赵六"),
]


@pytest.fixture
def permits(tmp_path):
    path = tmp_path / "schemas" / "testing" / "permit.v1.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(CONTRACT, encoding="utf-8")
    contract = load_contract(path)
    catalog = open_catalog(f"sqlite:///{tmp_path / 'catalog.db'}", str(tmp_path / "warehouse"))
    return contract, ensure_table(catalog, contract), tmp_path / "staged"


def stage(contract, folder, name: str, rows: list[tuple[str, int, str]]) -> str:
    schema = dataset_arrow_schema(contract)
    now = datetime.now(UTC)
    columns = {
        "district": [r[0] for r in rows],
        "permit_no": [r[1] for r in rows],
        "holder": [r[2] for r in rows],
        "_source": ["s1"] * len(rows),
        "_department": ["d"] * len(rows),
        "_run_id": [name] * len(rows),
        "_extracted_at": [now] * len(rows),
    }
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.parquet"
    pq.write_table(pa.table(columns, schema=schema), target)
    return str(target)


def scan_ahead(table, files: list[str], prepared=None, *, source_id: str = "s1"):
    """The merge of staged ``files`` scanned as a sync does it (``RunningMerge``), ahead."""
    if prepared is None:
        prepared = start_merge_preparation(lambda: table, source_id=source_id, key=KEY)
    merge = RunningMerge(prepared, table.location(), KEY)
    for path in files:
        merge.add(pq.read_table(path))
    return merge.finish(files, source_id, None)


def visible(table) -> list[tuple]:
    table.refresh()
    rows = table.scan(selected_fields=("district", "permit_no", "holder")).to_arrow()
    return sorted(zip(*(rows.column(c).to_pylist() for c in rows.column_names), strict=True))


def test_only_the_exact_key_pair_is_replaced_or_deleted(permits):
    table = permits[1]
    publish(permits, "r1", PERMITS, full_refresh=True)
    # Same permit numbers in another district, and a district/number swap, must stay.
    result = publish(
        permits, "r2", [("340102", 2, "李四（新）")], full_refresh=False, deleted=[("340103", 1)]
    )
    assert (result.rows_replaced, result.rows_deleted) == (1, 1)
    assert visible(table) == [
        ("340102", 1, "张三"),
        ("340102", 2, "李四（新）"),
        ("340103", 2, "赵六"),
    ]
    masked = [f for f in live_files(table) if f.deletes]
    assert len(masked) == 1 and masked[0].deleted_rows == 2


def publish(permits, run_id: str, rows, *, full_refresh: bool, deleted=None):
    contract, table, folder = permits
    files = [stage(contract, folder, run_id, rows)] if rows else []
    delete_keys = None
    if deleted:
        districts, numbers = zip(*deleted, strict=True)
        delete_keys = pa.table(
            {"district": list(districts), "permit_no": pa.array(numbers, pa.int64())}
        )
    return commit_run(
        table,
        files,
        run_id=run_id,
        source_id="s1",
        full_refresh=full_refresh,
        primary_key=KEY,
        delete_keys=delete_keys,
    )


def test_a_run_that_only_deletes_masks_those_rows_once(permits):
    publish(permits, "r1", PERMITS, full_refresh=True)
    first = publish(permits, "r2", [], full_refresh=False, deleted=[("340102", 2)])
    assert (first.rows_replaced, first.rows_deleted) == (0, 1)
    # The source reporting the same deletion again finds nothing left to mask.
    again = publish(permits, "r3", [], full_refresh=False, deleted=[("340102", 2)])
    assert (again.rows_replaced, again.rows_deleted) == (0, 0)
    assert visible(permits[1]) == [p for p in PERMITS if p[:2] != ("340102", 2)]


def test_a_full_refresh_counts_the_live_keys_the_source_no_longer_has(permits):
    publish(permits, "r1", PERMITS, full_refresh=True)
    publish(permits, "r2", [], full_refresh=False, deleted=[("340103", 2)])
    # 340103/2 is already masked; of the three live keys, 340102/2 is missing from the read.
    refreshed = [("340102", 1, "张三"), ("340103", 1, "王五（新）")]
    result = publish(permits, "r3", refreshed, full_refresh=True)
    assert result.rows_deleted == 1
    assert visible(permits[1]) == sorted(refreshed)
