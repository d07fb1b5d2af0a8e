"""Publish stage: atomic, idempotent Iceberg commits."""

from exhub.publish.commit import CommitResult, commit_run, committed_snapshot
from exhub.publish.tables import (
    PROVENANCE,
    RUN_ID_PROPERTY,
    data_folder,
    dataset_arrow_schema,
    ensure_table,
    open_catalog,
)

__all__ = [
    "PROVENANCE",
    "RUN_ID_PROPERTY",
    "CommitResult",
    "commit_run",
    "committed_snapshot",
    "data_folder",
    "dataset_arrow_schema",
    "ensure_table",
    "open_catalog",
]
