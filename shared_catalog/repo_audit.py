"""Audit log methods of the repository: append to the hash chain, list it, verify it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from shared_catalog.audit import GENESIS, ChainVerdict, entry_hash, verify_chain
from shared_catalog.models import AuditEntry
from shared_catalog.records import AuditRecord
from shared_catalog.repo_base import RepositoryBase

AUDIT_LOCK = 0x6578687562_0002
"""PostgreSQL advisory lock serialising appends ("exhub" + 2); SQLite writers are serial."""
VERIFY_BATCH = 1000


class AuditMethods(RepositoryBase):
    """The audit log (see :mod:`shared_catalog.audit`)."""

    def append_audit(
        self,
        *,
        actor: str,
        action: str,
        target: str,
        purpose: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        """Add one entry at the end of the chain and return it.

        Args:
            actor: Who acted (a department id, or the operating-system user of the CLI).
            action: What kind of act (``query``, ...).
            target: What it acted on (the datasets a query read).
            purpose: Why, as the actor stated it.
            detail: JSON-ready facts of the act (the SQL, rows returned, outcome).
        """
        with self._session() as s, s.begin():
            if self._dialect == "postgresql":
                s.execute(select(func.pg_advisory_xact_lock(AUDIT_LOCK)))
            last = s.execute(
                select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
            ).first()
            values: dict[str, Any] = {
                "seq": 1 if last is None else last.seq + 1,
                "at": self._now(),
                "actor": actor,
                "action": action,
                "target": target,
                "purpose": purpose,
                "detail": dict(detail or {}),
                "prev_hash": GENESIS if last is None else last.hash,
            }
            entry = AuditEntry(**values, hash=entry_hash(**values))
            s.add(entry)
        return AuditRecord.of(entry)

    def list_audit(
        self,
        *,
        limit: int | None = None,
        actor: str | None = None,
        involving: tuple[str, Collection[str]] | None = None,
    ) -> list[AuditRecord]:
        """Entries, newest first (at most ``limit``; only ``actor``'s when given).

        ``involving=(department, datasets)`` keeps the entries a department may review: its
        own acts and every act whose target names one of its datasets, however old.
        """
        with self._session(write=False) as s, s.begin():
            query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
            if actor is not None:
                query = query.where(AuditEntry.actor == actor)
            if involving is not None:
                department, datasets = involving
                query = query.where(
                    or_(AuditEntry.actor == department, *map(_target_names, sorted(datasets)))
                )
            return [AuditRecord.of(row) for row in s.scalars(query)]

    def verify_audit(self) -> ChainVerdict:
        """Check the whole chain, streaming it in order (memory bounded by the batch)."""
        with self._session(write=False) as s, s.begin():
            query = select(AuditEntry).order_by(AuditEntry.seq)
            rows = s.scalars(query.execution_options(yield_per=VERIFY_BATCH))
            return verify_chain(rows)


def _target_names(dataset: str) -> ColumnElement[bool]:
    """The target, a ", "-joined list of datasets, names ``dataset`` as one of its items."""
    target = AuditEntry.target
    return or_(
        target == dataset,
        target.startswith(f"{dataset}, ", autoescape=True),
        target.endswith(f", {dataset}", autoescape=True),
        target.contains(f", {dataset}, ", autoescape=True),
    )
