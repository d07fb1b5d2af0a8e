"""Registry half of the repository: departments, source systems, streams, datasets, schemas."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from shared_catalog.errors import CatalogError
from shared_catalog.models import Dataset, Department, SchemaVersion, SourceSystem, Stream
from shared_catalog.records import (
    DatasetRecord,
    DepartmentRecord,
    SchemaVersionRecord,
    SourceSystemRecord,
    StreamRecord,
)
from shared_catalog.repo_base import RepositoryBase


class RegistryMethods(RepositoryBase):
    """What the hub knows about departments, source systems, streams and datasets."""

    def upsert_department(
        self, id: str, name_zh: str, name_en: str | None = None
    ) -> DepartmentRecord:
        """Register a department or update its names.

        Args:
            id: Stable identifier, e.g. ``public_security``.
            name_zh: Chinese name, e.g. 公安局.
            name_en: English name, if any.

        Returns:
            The department as stored.
        """
        values = {"id": id, "name_zh": name_zh, "name_en": name_en}
        with self._session() as s, s.begin():
            self._upsert(s, Department, values, keys=("id",))
            return DepartmentRecord.of(s.get_one(Department, id))

    def ensure_department(self, id: str, name_zh: str) -> DepartmentRecord:
        """Register a department unless it is known; never renames one that is.

        For departments only named as a contract's owner, whose proper names come from the
        source files that describe them.
        """
        with self._session() as s, s.begin():
            self._upsert(
                s, Department, {"id": id, "name_zh": name_zh, "name_en": None},
                keys=("id",), insert_only=("name_zh", "name_en"),
            )  # fmt: skip
            return DepartmentRecord.of(s.get_one(Department, id))

    def upsert_source_system(
        self,
        id: str,
        department_id: str,
        name: str,
        connector: str,
        schedule: str | None,
        max_connections: int,
        config_hash: str,
    ) -> SourceSystemRecord:
        """Register a source system or update it; ``updated_at`` moves only on a change.

        Connection details are deliberately not accepted: they stay in the source YAML as
        secret references.

        Args:
            id: Source system id, e.g. ``ps_hukou``.
            department_id: The owning department, already registered.
            name: Display name.
            connector: Connector type (``sql``, ``csv``, ...).
            schedule: Cron expression or Airflow preset, or None for manual runs.
            max_connections: Most concurrent connections the legacy system tolerates.
            config_hash: Hash of the source file, to detect changes.

        Returns:
            The source system as stored.

        Raises:
            CatalogError: If the department is not registered.
        """
        values = {
            "id": id,
            "department_id": department_id,
            "name": name,
            "connector": connector,
            "schedule": schedule,
            "max_connections": max_connections,
            "config_hash": config_hash,
            "updated_at": self._now(),
        }
        with self._session() as s, s.begin():
            self._upsert(s, SourceSystem, values, keys=("id",), touch=("updated_at",))
            return SourceSystemRecord.of(s.get_one(SourceSystem, id))

    def upsert_stream(
        self,
        source_id: str,
        name: str,
        source_object: str,
        target_dataset: str,
        target_version: int,
        cursor_column: str | None,
    ) -> StreamRecord:
        """Register a stream of a source system or update it.

        Args:
            source_id: The source system, already registered.
            name: Stream name, unique within the source.
            source_object: Table, query name, file pattern or endpoint read.
            target_dataset: Dataset the stream feeds.
            target_version: Contract version of that dataset.
            cursor_column: Incremental cursor column, or None for full refresh.

        Returns:
            The stream as stored.

        Raises:
            CatalogError: If the source system is not registered.
        """
        values = {
            "source_id": source_id,
            "name": name,
            "source_object": source_object,
            "target_dataset": target_dataset,
            "target_version": target_version,
            "cursor_column": cursor_column,
        }
        with self._session() as s, s.begin():
            self._upsert(s, Stream, values, keys=("source_id", "name"))
            query = select(Stream).filter_by(source_id=source_id, name=name)
            return StreamRecord.of(s.scalars(query).one())

    def upsert_dataset(
        self,
        name: str,
        domain: str,
        title_zh: str,
        title_en: str,
        owner_department_id: str | None,
        sharing_class: str,
        update_cycle: str,
        version: int,
        iceberg_identifier: str,
    ) -> DatasetRecord:
        """Register a dataset or update it.

        ``current_version`` never goes back: registering version 1 after version 2 keeps 2, so
        the order in which contract files are loaded does not matter.

        Args:
            name: Dataset name, e.g. ``person``.
            domain: Domain, e.g. ``population``.
            title_zh: Chinese title, e.g. 自然人.
            title_en: English title.
            owner_department_id: Department responsible for the dataset, if any.
            sharing_class: 无条件, 有条件 or 不予共享 (as the contract spells it).
            update_cycle: How often the dataset is refreshed, e.g. ``daily``.
            version: Contract version being registered.
            iceberg_identifier: Iceberg table, e.g. ``exhub.person``.

        Returns:
            The dataset as stored.
        """
        values = {
            "name": name,
            "domain": domain,
            "title_zh": title_zh,
            "title_en": title_en,
            "owner_department_id": owner_department_id,
            "sharing_class": sharing_class,
            "update_cycle": update_cycle,
            "current_version": version,
            "iceberg_identifier": iceberg_identifier,
            "created_at": self._now(),
        }
        with self._session() as s, s.begin():
            self._upsert(
                s,
                Dataset,
                values,
                keys=("name",),
                insert_only=("created_at",),
                monotonic=("current_version",),
            )
            return DatasetRecord.of(s.get_one(Dataset, name))

    def register_schema_version(
        self, dataset_name: str, version: int, contract_hash: str, contract_json: str
    ) -> SchemaVersionRecord:
        """Record a contract version of a dataset; idempotent for the same contract.

        Args:
            dataset_name: The dataset, already registered.
            version: Contract version.
            contract_hash: Hash of the contract.
            contract_json: The contract as JSON, kept for auditors and schema history.

        Returns:
            The schema version as stored (the earlier one if it was already registered).

        Raises:
            CatalogError: If this version was registered with a different hash (a published
                contract was edited in place), or the dataset is not registered.
        """
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        statement = insert(SchemaVersion).values(
            dataset_name=dataset_name,
            version=version,
            contract_hash=contract_hash,
            contract_json=contract_json,
            registered_at=self._now(),
        )
        with self._session() as s, s.begin():
            s.execute(statement.on_conflict_do_nothing())
            stored = s.get_one(SchemaVersion, (dataset_name, version))
            if stored.contract_hash != contract_hash:
                raise CatalogError(
                    f"schema {dataset_name} v{version} is already registered with hash "
                    f"{stored.contract_hash}, not {contract_hash}",
                    fix=f"never edit a published contract: save the change as "
                    f"{dataset_name}.v{version + 1}.yaml",
                    dataset=dataset_name,
                    version=version,
                )
            return SchemaVersionRecord.of(stored)

    def list_schema_versions(self, dataset_name: str) -> list[SchemaVersionRecord]:
        """List the registered contract versions of a dataset, oldest first."""
        query = select(SchemaVersion).filter_by(dataset_name=dataset_name)
        with self._session(write=False) as s, s.begin():
            rows = s.scalars(query.order_by(SchemaVersion.version))
            return [SchemaVersionRecord.of(row) for row in rows]

    def list_departments(self) -> list[DepartmentRecord]:
        """List departments by id."""
        return self._list(Department, DepartmentRecord.of, Department.id)

    def list_source_systems(self) -> list[SourceSystemRecord]:
        """List source systems by id."""
        return self._list(SourceSystem, SourceSystemRecord.of, SourceSystem.id)

    def get_source_system(self, id: str) -> SourceSystemRecord | None:
        """Return a source system, or None if it is not registered."""
        return self._get(SourceSystem, id, SourceSystemRecord.of)

    def list_streams(self, source_id: str | None = None) -> list[StreamRecord]:
        """List streams by source and name, optionally of one source only."""
        query = select(Stream).order_by(Stream.source_id, Stream.name)
        if source_id is not None:
            query = query.filter_by(source_id=source_id)
        with self._session(write=False) as s, s.begin():
            return [StreamRecord.of(row) for row in s.scalars(query)]

    def get_stream(self, source_id: str, name: str) -> StreamRecord | None:
        """Return a stream, or None if it is not registered."""
        query = select(Stream).filter_by(source_id=source_id, name=name)
        with self._session(write=False) as s, s.begin():
            row = s.scalars(query).one_or_none()
            return StreamRecord.of(row) if row is not None else None

    def set_stream_source_schema(self, source_id: str, name: str, schema: list[Any]) -> None:
        """Remember the source columns a stream delivered at its last publish.

        Raises:
            CatalogError: If the stream is not registered.
        """
        with self._session() as s, s.begin():
            row = s.scalars(select(Stream).filter_by(source_id=source_id, name=name)).one_or_none()
            if row is None:
                raise CatalogError(
                    f"stream {source_id}.{name} is not registered", fix="register the source first"
                )
            row.source_schema = schema

    def list_datasets(self) -> list[DatasetRecord]:
        """List datasets by name."""
        return self._list(Dataset, DatasetRecord.of, Dataset.name)

    def get_dataset(self, name: str) -> DatasetRecord | None:
        """Return a dataset, or None if it is not registered."""
        return self._get(Dataset, name, DatasetRecord.of)
