"""Iceberg tables for datasets: the SQL catalog, table schemas and creation."""

from __future__ import annotations

import contextlib
import logging
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import (
    CommitFailedException,
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
# Iceberg's per-column metrics mode (honoured by pyiceberg, Spark, Trino...). Set to "none" for
# protected columns: manifests would otherwise keep each data file's smallest and largest
# name, address or identity number, readable through metadata tables outside any masking.
METRICS_PREFIX = "write.metadata.metrics.column."
PROPERTY_COMMIT_ATTEMPTS = 3

log = logging.getLogger(__name__)


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


def metrics_properties(contract: Contract) -> dict[str, str]:
    """Table properties that keep the contract's protected columns out of Iceberg's metrics."""
    return {f"{METRICS_PREFIX}{name}": "none" for name in contract.protected_columns}


def unrecorded_columns(table: Table) -> set[str]:
    """Columns the table keeps no metrics of: their data files get no statistics either."""
    return {
        key.removeprefix(METRICS_PREFIX)
        for key, mode in table.properties.items()
        if key.startswith(METRICS_PREFIX) and mode == "none"
    }


def _protect_metrics(table: Table, contract: Contract) -> Table:
    """Add the metrics properties a table created earlier (or by an older contract) lacks.

    Only ever adds: a column once protected stays unrecorded. Two processes may add them at
    once; the loser finds them set after a refresh. A table that other commits keep changing
    may not get them this time: the run's data files leave protected columns out anyway
    (``conform_and_validate`` asks the contract too), and the next publish tries again.
    """
    for _ in range(PROPERTY_COMMIT_ATTEMPTS):
        wanted = metrics_properties(contract)
        missing = {k: v for k, v in wanted.items() if table.properties.get(k) != v}
        if not missing:
            return table
        try:
            with table.transaction() as tx:
                tx.set_properties(missing)
        except CommitFailedException:
            table.refresh()
    log.warning(
        "%s: protected columns' metrics properties not set: other commits won %d times; "
        "this run's files leave those columns out anyway, the next publish tries again",
        ".".join(contract.iceberg_identifier),
        PROPERTY_COMMIT_ATTEMPTS,
    )
    return table


def ensure_table(catalog: SqlCatalog, contract: Contract) -> Table:
    """Load the dataset's table, creating namespace and table on first use."""
    namespace, name = contract.iceberg_identifier
    existing = load_table_or_none(catalog, contract)
    if existing is not None:
        return _protect_metrics(existing, contract)
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
            properties={
                "write.parquet.compression-codec": "zstd",
                "exhub.contract": contract.ref,
                **metrics_properties(contract),
            },
        )
    except TableAlreadyExistsError:
        return _protect_metrics(catalog.load_table((namespace, name)), contract)


def data_folder(table: Table, source_id: str) -> Path:
    """Where a run writes the data files it will add to the table."""
    return Path(local_path(table.location())) / "data" / f"_source={source_id}"
