"""Iceberg tables for datasets: the SQL catalog, table schemas and creation."""

from __future__ import annotations

import contextlib
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import (
    NamespaceAlreadyExistsError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import (
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    IcebergType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from exhub.conform.types import arrow_type
from exhub.contracts.models import DECIMAL_TYPE, Contract
from exhub.publish.deletes import local_path

PROVENANCE = {
    "_source": pa.string(),
    "_department": pa.string(),
    "_run_id": pa.string(),
    "_extracted_at": pa.timestamp("us", tz="UTC"),
}
RUN_ID_PROPERTY = "exhub.run-id"


def iceberg_type(contract_type: str) -> IcebergType:
    """The Iceberg type of a contract type."""
    simple: dict[str, IcebergType] = {
        "string": StringType(),
        "int": IntegerType(),
        "long": LongType(),
        "double": DoubleType(),
        "boolean": BooleanType(),
        "date": DateType(),
        "timestamp": TimestamptzType(),
    }
    if contract_type in simple:
        return simple[contract_type]
    match = DECIMAL_TYPE.match(contract_type)
    assert match, contract_type
    return DecimalType(int(match[1]), int(match[2]))


def dataset_arrow_schema(contract: Contract) -> pa.Schema:
    """Arrow schema of published rows: contract fields then provenance columns."""
    fields = [pa.field(f.name, arrow_type(f.type)) for f in contract.fields]
    fields += [pa.field(name, typ) for name, typ in PROVENANCE.items()]
    return pa.schema(fields)


def dataset_iceberg_schema(contract: Contract) -> Schema:
    """Iceberg schema of a dataset (all columns optional: contracts gate required-ness)."""
    types = [(f.name, iceberg_type(f.type)) for f in contract.fields]
    types += [
        ("_source", StringType()),
        ("_department", StringType()),
        ("_run_id", StringType()),
        ("_extracted_at", TimestamptzType()),
    ]
    return Schema(
        *[NestedField(i, name, typ, required=False) for i, (name, typ) in enumerate(types, 1)]
    )


@lru_cache(maxsize=8)
def open_catalog(catalog_url: str, warehouse: str) -> SqlCatalog:
    """Pyiceberg's SQL catalog on the hub's catalog database."""
    Path(warehouse).mkdir(parents=True, exist_ok=True)
    return SqlCatalog("exhub", uri=catalog_url, warehouse=Path(warehouse).resolve().as_uri())


def load_table_or_none(catalog: SqlCatalog, contract: Contract) -> Table | None:
    """The dataset's table, or None before its first publish."""
    try:
        return catalog.load_table(contract.iceberg_identifier)
    except NoSuchTableError:
        return None


def ensure_table(catalog: SqlCatalog, contract: Contract) -> Table:
    """Load the dataset's table, creating namespace and table on first use."""
    namespace, name = contract.iceberg_identifier
    existing = load_table_or_none(catalog, contract)
    if existing is not None:
        return existing
    with contextlib.suppress(NamespaceAlreadyExistsError):
        catalog.create_namespace(namespace)
    schema = dataset_iceberg_schema(contract)
    source_id = schema.find_field("_source").field_id
    spec = PartitionSpec(
        PartitionField(
            source_id=source_id, field_id=1000, transform=IdentityTransform(), name="_source"
        )
    )
    try:
        return catalog.create_table(
            (namespace, name),
            schema=schema,
            partition_spec=spec,
            properties={"write.parquet.compression-codec": "zstd", "exhub.contract": contract.ref},
        )
    except TableAlreadyExistsError:
        return catalog.load_table((namespace, name))


def data_folder(table: Table, source_id: str) -> Path:
    """Where a run writes the data files it will add to the table."""
    return Path(local_path(table.location())) / "data" / f"_source={source_id}"
