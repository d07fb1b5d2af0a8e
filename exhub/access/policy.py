"""What a department may read: datasets by sharing class, columns by grant and sensitivity.

The rules (SPEC §9), for a department that does not own the dataset:

* 不予共享 (``not_shared``): not listed, not queryable; it does not exist for them.
* 无条件 (``unconditional``): readable; protected columns (PII, or sensitivity L3/L4) are
  masked unless a grant in force names them.
* 有条件 (``conditional``): listed, but readable only with a grant in force; the columns
  the grants name are raw, every other column is masked.

A grant may carry a row filter (a SQL condition, see ``row_filter``): its columns are then
raw only in the rows the filter selects, and for conditional data the department sees only
rows some grant selects.

The owner department reads its datasets in full. Provenance columns (``_source``, ...) are
never masked. Grants are read from the catalog on every call, so a revocation takes effect
on the next query.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from exhub.contracts.models import Contract, FieldSpec, SharingClass
from exhub.engine.hub import Hub
from exhub.errors import ConfigError
from exhub.publish.tables import PROVENANCE

HUB_DECIDES = "exhub"
"""``decided_by`` of the requests the hub grants itself (unconditional, unprotected)."""


class ColumnAccess(StrEnum):
    """How a department sees one column."""

    RAW = "raw"
    MASKED = "masked"
    RAW_IN_GRANTED_ROWS = "raw in granted rows"  # masked in the other rows


@dataclass(frozen=True)
class DatasetAccess:
    """One department's access to one dataset it may see listed."""

    dataset: str
    contract: Contract
    readable: bool
    basis: str  # why: owner, unconditional sharing, grant numbers, or what is missing
    columns: dict[str, ColumnAccess] = field(default_factory=dict)
    grants: tuple[int, ...] = ()
    raw_where: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Row filters under which a RAW_IN_GRANTED_ROWS column is raw (any of them)."""
    rows_where: tuple[str, ...] | None = None
    """Row filters of which a visible row satisfies one; None: every row."""

    @property
    def masked(self) -> list[str]:
        """Columns this department sees masked, in some rows or all."""
        return [name for name, how in self.columns.items() if how is not ColumnAccess.RAW]

    def field_spec(self, name: str) -> FieldSpec | None:
        """The contract field called ``name`` (None for provenance columns)."""
        return next((f for f in self.contract.fields if f.name == name), None)


def is_protected(spec: FieldSpec) -> bool:
    """PII, or graded sensitive (L3) or highly sensitive (L4)."""
    return spec.protected


def known_department(hub: Hub, department: str) -> str:
    """``department`` if the catalog or the settings (``departments:``) know it.

    A department named only in the settings is registered in the catalog on first use.

    Raises:
        ConfigError: an unknown department, with the known ones.
    """
    known = {d.id for d in hub.repository.list_departments()}
    configured = hub.settings.departments
    if department in known:
        return department
    if department in configured:
        hub.repository.upsert_department(department, configured[department])
        return department
    names = ", ".join(sorted(known | set(configured)))
    raise ConfigError(
        f"unknown department '{department}'",
        fix=f"use one of: {names}; a department without a source system is added under "
        "'departments:' in exhub.yaml",
        department=department,
    )


def owned_datasets(hub: Hub, department: str | None) -> set[str]:
    """Names of the datasets ``department`` owns (none for the operator and auditors)."""
    if department is None:
        return set()
    return {d.name for d in hub.repository.list_datasets() if d.owner_department_id == department}


def department_access(hub: Hub, department: str) -> dict[str, DatasetAccess]:
    """Every dataset listed to ``department``, with what it may read of each.

    Raises:
        ConfigError: the department is unknown.
    """
    known_department(hub, department)
    granted: dict[str, list] = {}
    for grant in hub.repository.active_grants(department):
        granted.setdefault(grant.dataset_name, []).append(grant)
    access = {}
    for record in hub.repository.list_datasets():
        contract = hub.contracts.get(f"{record.name}@{record.current_version}")
        grants = granted.get(record.name, [])
        decided = _decide(contract, department, grants)
        if decided is not None:
            access[record.name] = decided
    return access


def _covering(grants: list, column: str) -> tuple[str, ...] | None:
    """Filters under which ``column`` is granted: None if some grant covers every row."""
    filters = []
    for grant in grants:
        if column in grant.columns:
            if not grant.row_filter:
                return None
            filters.append(grant.row_filter)
    return tuple(filters)


def _granted_columns(
    contract: Contract, grants: list, needs_grant
) -> tuple[dict[str, ColumnAccess], dict[str, tuple[str, ...]]]:
    columns, raw_where = {}, {}
    for spec in contract.fields:
        if not needs_grant(spec):
            columns[spec.name] = ColumnAccess.RAW
            continue
        filters = _covering(grants, spec.name)
        if filters is None:
            columns[spec.name] = ColumnAccess.RAW
        elif filters:
            columns[spec.name] = ColumnAccess.RAW_IN_GRANTED_ROWS
            raw_where[spec.name] = filters
        else:
            columns[spec.name] = ColumnAccess.MASKED
    return columns, raw_where


def _reviewed(contract: Contract, grants: list) -> list:
    """Grants that still hold under the current contract.

    The hub grants unprotected columns of unconditional data without review. Should the
    contract later protect such a column, or make the dataset conditional, that grant must
    not open it: only grants the owner answered count there.
    """
    kept = []
    for grant in grants:
        if getattr(grant, "decided_by", None) != HUB_DECIDES:
            kept.append(grant)
        elif contract.sharing.class_ == SharingClass.UNCONDITIONAL:
            columns = [c for c in grant.columns if not _protected(contract, c)]
            kept.append(replace(grant, columns=columns) if columns != grant.columns else grant)
    return kept


def _protected(contract: Contract, column: str) -> bool:
    spec = next((f for f in contract.fields if f.name == column), None)
    return spec is None or is_protected(spec)


def _decide(contract: Contract, department: str, grants: list) -> DatasetAccess | None:
    sharing = contract.sharing.class_
    grants = _reviewed(contract, grants)
    grant_ids = tuple(g.id for g in grants)
    provenance = dict.fromkeys(PROVENANCE, ColumnAccess.RAW)
    if contract.owner == department:
        everything = {f.name: ColumnAccess.RAW for f in contract.fields} | provenance
        return DatasetAccess(contract.name, contract, True, "owner", everything, grant_ids)
    if sharing == SharingClass.NOT_SHARED:
        return None
    if sharing == SharingClass.UNCONDITIONAL:
        columns, raw_where = _granted_columns(contract, grants, is_protected)
        basis = "unconditional" + (f"; grants {_ids(grant_ids)}" if grants else "")
        return DatasetAccess(
            contract.name, contract, True, basis, columns | provenance, grant_ids, raw_where
        )
    columns, raw_where = _granted_columns(contract, grants, lambda spec: True)
    if not grants:
        return DatasetAccess(contract.name, contract, False, "conditional: needs a grant", columns)
    filters = [g.row_filter for g in grants]
    rows_where = None if not all(filters) else tuple(dict.fromkeys(filters))
    return DatasetAccess(
        contract.name,
        contract,
        True,
        f"conditional; grants {_ids(grant_ids)}",
        columns | provenance,
        grant_ids,
        raw_where,
        rows_where,
    )


def _ids(ids: tuple[int, ...]) -> str:
    return ", ".join(f"#{i}" for i in ids)
