"""The catalog repository: the only code that opens database sessions."""

from __future__ import annotations

from shared_catalog.repo_access import AccessMethods
from shared_catalog.repo_audit import AuditMethods
from shared_catalog.repo_registry import RegistryMethods
from shared_catalog.repo_runs import RUN_FIELDS, RunMethods, redact


class CatalogRepository(RegistryMethods, RunMethods, AuditMethods, AccessMethods):
    """Reads and writes the catalog; the only owner of database sessions.

    Every method runs in its own short transaction and returns frozen records from
    :mod:`shared_catalog.records`, readable after the session closed. Upserts are single
    ``INSERT ... ON CONFLICT`` statements, so concurrent writers never collide. Timestamps
    are timezone-aware UTC.

    Secrets are never stored: source systems have no URL or credential column (connection
    details stay in the source YAML as secret references), and URL passwords in run error
    messages are redacted.

    The methods live in :class:`~shared_catalog.repo_registry.RegistryMethods` (departments,
    source systems, streams, datasets, schema versions) and
    :class:`~shared_catalog.repo_runs.RunMethods` (runs, watermarks) and
    :class:`~shared_catalog.repo_audit.AuditMethods` (the hash-chained audit log) and
    :class:`~shared_catalog.repo_access.AccessMethods` (access requests and grants); sessions
    and the engine in :class:`~shared_catalog.repo_base.RepositoryBase`.

    Args:
        url: Catalog URL: ``sqlite:///path/catalog.db`` (embedded) or
            ``postgresql+psycopg2://user@host:5432/db`` (production).
        clock: Returns the current time, timezone-aware; defaults to UTC now.
        **engine_kwargs: Passed on to :func:`sqlalchemy.create_engine`.

    Raises:
        CatalogError: If the URL is invalid or names an unsupported database.

    Example:
        >>> repo = CatalogRepository("sqlite:///.exhub/catalog.db")  # doctest: +SKIP
        >>> repo.ensure_schema()  # doctest: +SKIP
    """


__all__ = ["RUN_FIELDS", "CatalogRepository", "redact"]
