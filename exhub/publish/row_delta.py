"""An Iceberg overwrite snapshot that also adds and removes position-delete files.

pyiceberg 0.12 reads position deletes but has no operation that writes them: its overwrite
only knows data files, so a merge could only copy every touched data file without the
changed rows. ``RowDelta`` is that overwrite plus what Iceberg's Java ``RowDelta`` adds: a
delete manifest for new position-delete files, and rewritten delete manifests that mark
replaced ones DELETED. Once a snapshot would list ``MERGE_MANIFESTS_AT`` manifests of one
kind, the older ones are merged into one per partition spec, as Iceberg's Java commits do
(pyiceberg merges only on append, and not by default): every merge adds a data and a delete
manifest, and planning a scan reads them all, 70 ms for 25 manifests and a second for a few
hundred, which hourly syncs reach within weeks. It relies on pyiceberg's snapshot producer
internals; the tests in tests/unit/engine/test_merge_on_read.py read every table it writes
back through pyiceberg's own scan, so a pyiceberg upgrade that changes them fails there first.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyiceberg.exceptions import ValidationException
from pyiceberg.io.pyarrow import parquet_files_to_data_files
from pyiceberg.manifest import (
    DataFile,
    DataFileContent,
    ManifestContent,
    ManifestEntry,
    ManifestEntryStatus,
    ManifestFile,
    ManifestWriterV2,
)
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Transaction
from pyiceberg.table.snapshots import Operation, Summary
from pyiceberg.table.update.snapshot import _OverwriteFiles

from exhub.publish.deletes import LiveFile, file_uri

# A snapshot listing this many manifests of one kind (data, deletes) gets its older ones of
# that kind merged: planning stays within a few dozen manifest reads.
MERGE_MANIFESTS_AT = 16


class _DeleteManifestWriter(ManifestWriterV2):
    """A v2 manifest of delete files (pyiceberg's writer only writes data manifests)."""

    def content(self) -> ManifestContent:
        return ManifestContent.DELETES

    @property
    def _meta(self) -> dict[str, str]:
        return {**super()._meta, "content": "deletes"}


class RowDelta(_OverwriteFiles):
    """One snapshot that adds/removes data files and adds/removes position-delete files."""

    def __init__(self, transaction: Transaction, snapshot_properties: dict[str, str]) -> None:
        # Every ``Transaction.table_metadata`` is a deep copy of the whole metadata, which
        # grows with each snapshot; pyiceberg's producer asks for one per manifest written
        # (schema, spec). A row delta changes neither, so one copy serves them all.
        self._metadata = transaction.table_metadata
        has_snapshot = self._metadata.current_snapshot() is not None
        super().__init__(
            operation=Operation.OVERWRITE if has_snapshot else Operation.APPEND,
            transaction=transaction,
            io=transaction._table.io,
            snapshot_properties=snapshot_properties,
        )
        self._added_delete_files: list[DataFile] = []
        self._removed_delete_files: set[DataFile] = set()

    def schema(self) -> Schema:
        """The table's schema (as when the row delta began: it changes no schema)."""
        return self._metadata.schema()

    def spec(self, spec_id: int) -> PartitionSpec:
        """A partition spec of the table (as when the row delta began)."""
        return self._metadata.specs()[spec_id]

    def add_delete_file(self, delete_file: DataFile) -> RowDelta:
        """Add a position-delete file."""
        if delete_file.content != DataFileContent.POSITION_DELETES:
            raise ValueError(f"not a position-delete file: {delete_file.file_path}")
        self._added_delete_files.append(delete_file)
        return self

    def remove_delete_file(self, delete_file: DataFile) -> RowDelta:
        """Remove a live position-delete file (its data file was rewritten or dropped)."""
        self._removed_delete_files.add(delete_file)
        return self

    def drop_live_file(self, live: LiveFile) -> RowDelta:
        """Remove a data file together with the delete files that apply to it."""
        self.delete_data_file(live.data)
        for delete_file in live.deletes:
            self.remove_delete_file(delete_file)
        return self

    def add_parquet_files(self, paths: Sequence[str]) -> RowDelta:
        """Add Parquet files written for this table (their statistics become Iceberg metrics)."""
        metadata = self._transaction.table_metadata
        uris = (file_uri(p) if "://" not in p else p for p in paths)
        for data_file in parquet_files_to_data_files(self._io, metadata, uris):
            self.append_data_file(data_file)
        return self

    def _delete_manifest_writer(self, spec: PartitionSpec) -> _DeleteManifestWriter:
        return _DeleteManifestWriter(
            spec, self.schema(), self.new_manifest_output(), self._snapshot_id, self._compression
        )

    def _without_removed(self, manifest: ManifestFile, found: set[DataFile]) -> ManifestFile:
        entries = manifest.fetch_manifest_entry(io=self._io, discard_deleted=True)
        if not any(entry.data_file in self._removed_delete_files for entry in entries):
            return manifest
        with self._delete_manifest_writer(self.spec(manifest.partition_spec_id)) as writer:
            for entry in entries:
                removed = entry.data_file in self._removed_delete_files
                status = ManifestEntryStatus.DELETED if removed else ManifestEntryStatus.EXISTING
                if removed:
                    found.add(entry.data_file)
                writer.add_entry(
                    ManifestEntry.from_args(
                        status=status,
                        snapshot_id=self._snapshot_id if removed else entry.snapshot_id,
                        sequence_number=entry.sequence_number,
                        file_sequence_number=entry.file_sequence_number,
                        data_file=entry.data_file,
                    )
                )
        return writer.to_manifest_file()

    def _existing_manifests(self) -> list[ManifestFile]:
        kept = super()._existing_manifests()
        if not self._removed_delete_files:
            return kept
        found: set[DataFile] = set()
        manifests = [
            self._without_removed(m, found) if m.content == ManifestContent.DELETES else m
            for m in kept
        ]
        if missing := self._removed_delete_files - found:
            # Another writer replaced them first: the retry recomputes from the new state.
            paths = ", ".join(sorted(f.file_path for f in missing))
            raise ValidationException(f"delete files are no longer live: {paths}")
        return manifests

    def _manifests(self) -> list[ManifestFile]:
        return self._merged(self._with_added_deletes(super()._manifests()))

    def _merged(self, manifests: list[ManifestFile]) -> list[ManifestFile]:
        """``manifests``, the older ones of a kind merged once that kind has too many."""
        result = []
        for content in (ManifestContent.DATA, ManifestContent.DELETES):
            of_kind = [m for m in manifests if m.content == content]
            # Manifests this snapshot wrote stay as written: its ADDED and DELETED entries
            # belong to it. Of the older ones only live entries are kept: their DELETED
            # entries record earlier snapshots' removals, which those snapshots still list.
            older = [m for m in of_kind if m.added_snapshot_id != self._snapshot_id]
            if len(of_kind) < MERGE_MANIFESTS_AT or len(older) < 2:
                result += of_kind
                continue
            result += [m for m in of_kind if m.added_snapshot_id == self._snapshot_id]
            by_spec: dict[int, list[ManifestFile]] = {}
            for manifest in older:
                by_spec.setdefault(manifest.partition_spec_id, []).append(manifest)
            for spec_id, group in by_spec.items():
                result += self._merge(content, spec_id, group)
        return result

    def _merge(
        self, content: ManifestContent, spec_id: int, group: list[ManifestFile]
    ) -> list[ManifestFile]:
        # Read back with their sequence numbers filled in from each manifest, so written as
        # EXISTING they keep them: position deletes apply to data files by them.
        entries = [e for m in group for e in m.fetch_manifest_entry(self._io, discard_deleted=True)]
        if not entries:
            return []
        spec = self.spec(spec_id)
        writer = (
            self._delete_manifest_writer(spec)
            if content == ManifestContent.DELETES
            else self.new_manifest_writer(spec)
        )
        with writer:
            for entry in entries:
                writer.existing(entry)
        return [writer.to_manifest_file()]

    def _with_added_deletes(self, manifests: list[ManifestFile]) -> list[ManifestFile]:
        if not self._added_delete_files:
            return manifests
        with self._delete_manifest_writer(self._transaction.table_metadata.spec()) as writer:
            for delete_file in self._added_delete_files:
                writer.add(
                    ManifestEntry.from_args(
                        status=ManifestEntryStatus.ADDED,
                        snapshot_id=self._snapshot_id,
                        sequence_number=None,
                        file_sequence_number=None,
                        data_file=delete_file,
                    )
                )
        return [*manifests, writer.to_manifest_file()]

    def _summary(self, snapshot_properties: dict[str, str] | None = None) -> Summary:
        # The parent's summary counts only the lists it knows; delete files are counted the
        # same way (added/removed position deletes, total-position-deletes) while it runs.
        data_added, data_removed = self._added_data_files, self._deleted_data_files
        self._added_data_files = [*data_added, *self._added_delete_files]
        self._deleted_data_files = data_removed | self._removed_delete_files
        try:
            return super()._summary(snapshot_properties or {})
        finally:
            self._added_data_files, self._deleted_data_files = data_added, data_removed
