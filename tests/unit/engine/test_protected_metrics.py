"""Protected columns leave no values in file statistics or Iceberg metadata.

A data file's footer statistics become the table's Iceberg metrics (lower and upper bounds
per column in every manifest), which metadata tables show outside any masking. Columns the
contract protects (PII, L3/L4) are written without statistics and set to metrics mode
``none``; the other columns keep theirs for pruning.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exhub.engine.sync import sync_stream
from exhub.parquet import writer_options
from exhub.publish.maintenance import maintain
from exhub.publish.tables import METRICS_PREFIX
from tests.support import hukou_hub

pytestmark = pytest.mark.unit

PERSON = ("population", "person")


def _sync(hub, source, path):
    return sync_stream(hub, source, source.streams[0], source_file=path)


def _field_ids(table, names):
    return {table.schema().find_field(name).field_id for name in names}


def _data_files(table):
    return [task.file for task in table.scan().plan_files()]


def _footer_statistics(path: str) -> dict[str, bool]:
    row_group = pq.ParquetFile(path.removeprefix("file://")).metadata.row_group(0)
    return {
        row_group.column(i).path_in_schema: row_group.column(i).is_stats_set
        for i in range(row_group.num_columns)
    }


def _assert_protected_unrecorded(hub, table, files=None):
    contract = hub.contracts.get("person@1")
    protected = set(contract.protected_columns)
    assert protected >= {"resident_id", "name", "address", "mobile"}
    hidden, shown = _field_ids(table, protected), _field_ids(table, ["gender", "updated_at"])
    files = _data_files(table) if files is None else files
    assert files
    for data_file in files:
        assert not hidden & set(data_file.lower_bounds) and not hidden & set(data_file.upper_bounds)
        assert shown <= set(data_file.lower_bounds) and shown <= set(data_file.upper_bounds)
        footer = _footer_statistics(data_file.file_path)
        assert not any(footer[name] for name in protected)
        assert footer["gender"] and footer["updated_at"]


def test_a_new_table_keeps_no_metrics_of_protected_columns(hub_home):
    hub, source, path, _ = hukou_hub(hub_home, scale=0.05)
    _sync(hub, source, path)
    table = hub.iceberg.load_table(PERSON)
    assert table.properties[f"{METRICS_PREFIX}resident_id"] == "none"
    assert f"{METRICS_PREFIX}gender" not in table.properties
    _assert_protected_unrecorded(hub, table)


def test_a_table_made_before_gets_the_properties_at_its_next_publish(hub_home, monkeypatch):
    from exhub.contracts.models import Contract

    hub, source, path, _ = hukou_hub(hub_home, scale=0.05)
    with monkeypatch.context() as before:  # as exhub did before it kept protected columns out
        before.setattr(Contract, "protected_columns", property(lambda contract: []))
        first = _sync(hub, source, path)
    table = hub.iceberg.load_table(PERSON)
    assert not any(k.startswith(METRICS_PREFIX) for k in table.properties)
    resident_id = _field_ids(table, ["resident_id"])
    assert all(resident_id <= set(f.lower_bounds) for f in _data_files(table))

    second = _sync(hub, source, path)
    table = hub.iceberg.load_table(PERSON)
    assert table.properties[f"{METRICS_PREFIX}resident_id"] == "none"
    written = [f for f in _data_files(table) if second.run_id in f.file_path]
    assert written and not any(first.run_id in f.file_path for f in written)
    _assert_protected_unrecorded(hub, table, written)


def test_a_table_whose_property_commits_keep_failing_is_left_for_the_next_publish(
    hub_home, monkeypatch, caplog
):
    """Every attempt loses: the sync goes on, says so, and its files hold no protected values.

    The SQL catalog merges a rival's property change into ours by itself, so a lost commit
    takes one landing between its reload and its swap; the catalog's own exception stands in.
    """
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.exceptions import CommitFailedException

    import exhub.publish.tables as tables
    from exhub.contracts.models import Contract

    hub, source, path, _ = hukou_hub(hub_home, scale=0.05)
    with monkeypatch.context() as before:
        before.setattr(Contract, "protected_columns", property(lambda contract: []))
        _sync(hub, source, path)
    commit_table = SqlCatalog.commit_table
    lost = []

    def lose_property_commits(catalog, table, requirements, updates):
        if any(k.startswith(METRICS_PREFIX) for u in updates for k in getattr(u, "updates", {})):
            lost.append(updates)
            raise CommitFailedException("metadata location changed meanwhile")
        return commit_table(catalog, table, requirements, updates)

    monkeypatch.setattr(SqlCatalog, "commit_table", lose_property_commits)
    second = _sync(hub, source, path)
    gave_up = caplog.text.count("other commits won 3 times")  # once per table load
    assert gave_up and len(lost) == gave_up * tables.PROPERTY_COMMIT_ATTEMPTS
    table = hub.iceberg.load_table(PERSON)
    assert not any(k.startswith(METRICS_PREFIX) for k in table.properties)
    written = [f for f in _data_files(table) if second.run_id in f.file_path]
    assert written
    for data_file in written:
        assert not _footer_statistics(data_file.file_path)["resident_id"]


def test_compaction_writes_no_statistics_of_protected_columns(hub_home):
    hub, source, path, _ = hukou_hub(hub_home, scale=0.05, compact_min_files=2)
    for _ in range(3):
        _sync(hub, source, path)
    (report,) = [r for r in maintain(hub) if r.dataset == "person"]
    assert report.files_compacted >= 2
    table = hub.iceberg.load_table(PERSON)
    assert all(Path(f.file_path).name.startswith("compact-") for f in _data_files(table))
    _assert_protected_unrecorded(hub, table)


def test_files_leave_protected_columns_out_even_before_the_table_says_so(hub_home, monkeypatch):
    """A publisher that lost the race to set the properties still writes no protected values."""
    import exhub.publish.tables as tables

    monkeypatch.setattr(tables, "metrics_properties", lambda contract: {})
    hub, source, path, _ = hukou_hub(hub_home, scale=0.05)
    _sync(hub, source, path)
    table = hub.iceberg.load_table(PERSON)
    assert not any(k.startswith(METRICS_PREFIX) for k in table.properties)
    for data_file in _data_files(table):
        assert not _footer_statistics(data_file.file_path)["resident_id"]
        assert _footer_statistics(data_file.file_path)["gender"]


def test_writer_options_leave_out_only_the_named_columns():
    table = pa.table({"a": ["x"], "b": [1]})
    assert "write_statistics" not in writer_options(table)
    assert writer_options(table, unrecorded={"a"})["write_statistics"] == ["b"]
    assert writer_options(table, unrecorded={"a", "b"})["write_statistics"] is False
