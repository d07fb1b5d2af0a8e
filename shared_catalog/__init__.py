"""The exhub catalog: sources, datasets, runs, watermarks, audit log and access grants.

Typed SQLAlchemy 2 models, Alembic migrations (``upgrade_catalog``) and one repository class,
:class:`CatalogRepository`, that owns every session. Works on SQLite (embedded) and PostgreSQL.
"""

from shared_catalog.audit import ChainVerdict
from shared_catalog.columns import UtcDateTime
from shared_catalog.errors import CatalogError
from shared_catalog.migrate import current_revision, schema_diff, upgrade_catalog
from shared_catalog.models import (
    AccessRequest,
    AuditEntry,
    Base,
    Dataset,
    Department,
    Run,
    SchemaVersion,
    SourceSystem,
    Stream,
    Watermark,
)
from shared_catalog.records import (
    AccessRequestRecord,
    AccessStatus,
    AuditRecord,
    DatasetRecord,
    DepartmentRecord,
    RunRecord,
    RunStatus,
    RunTotals,
    RunTrigger,
    SchemaVersionRecord,
    SourceSystemRecord,
    StreamRecord,
)
from shared_catalog.repository import CatalogRepository

__all__ = [
    "AccessRequest",
    "AccessRequestRecord",
    "AccessStatus",
    "AuditEntry",
    "AuditRecord",
    "Base",
    "CatalogError",
    "CatalogRepository",
    "ChainVerdict",
    "Dataset",
    "DatasetRecord",
    "Department",
    "DepartmentRecord",
    "Run",
    "RunRecord",
    "RunStatus",
    "RunTotals",
    "RunTrigger",
    "SchemaVersion",
    "SchemaVersionRecord",
    "SourceSystem",
    "SourceSystemRecord",
    "Stream",
    "StreamRecord",
    "UtcDateTime",
    "Watermark",
    "current_revision",
    "schema_diff",
    "upgrade_catalog",
]
