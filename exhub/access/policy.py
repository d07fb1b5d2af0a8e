"""What a department may read: datasets by sharing class, columns by grant and sensitivity.

The rules (SPEC §9), for a department that does not own the dataset:

* 不予共享 (``not_shared``): not listed, not queryable; it does not exist for them.
* 无条件 (``unconditional``): readable; protected columns (PII, or sensitivity L3/L4) are
  masked unless a grant in force names them.
* 有条件 (``conditional``): listed, but readable only with a grant in force; the columns
  the grants name are raw, every other column is masked.

The owner department reads its datasets in full. Provenance columns (``_source``, ...) are
never masked. Grants are read from the catalog on every call, so a revocation takes effect
on the next query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from exhub.contracts.models import Contract, FieldSpec, Sensitivity, SharingClass
from exhub.engine.hub import Hub
from exhub.errors import ConfigError
from exhub.publish.tables import PROVENANCE


class ColumnAccess(StrEnum):
    """How a department sees one column."""

    RAW = "raw"
    MASKED = "masked"


@dataclass(frozen=True)
class DatasetAccess:
    """One department's access to one dataset it may see listed."""

    dataset: str
    contract: Contract
    readable: bool
    basis: str  # why: owner, unconditional sharing, grant numbers, or what is missing
    columns: dict[str, ColumnAccess] = field(default_factory=dict)
    grants: tuple[int, ...] = ()

    @property
    def masked(self) -> list[str]:
        """Columns this department sees masked."""
        return [name for name, how in self.columns.items() if how is ColumnAccess.MASKED]

    def field_spec(self, name: str) -> FieldSpec | None:
        """The contract field called ``name`` (None for provenance columns)."""
        return next((f for f in self.contract.fields if f.name == name), None)


def is_protected(spec: FieldSpec) -> bool:
    """PII, or graded sensitive (L3) or highly sensitive (L4)."""
    return spec.pii or spec.sensitivity in (Sensitivity.L3, Sensitivity.L4)


def known_department(hub: Hub, department: str) -> str:
    """``department`` if the catalog knows it.

    Raises:
        ConfigError: an unknown department, with the known ones.
    """
    known = sorted(d.id for d in hub.repository.list_departments())
    if department not in known:
        raise ConfigError(
            f"unknown department '{department}'",
            fix=f"use one of: {', '.join(known)}" if known else "sync a source first",
            department=department,
        )
    return department


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


def _decide(contract: Contract, department: str, grants: list) -> DatasetAccess | None:
    sharing = contract.sharing.class_
    grant_ids = tuple(g.id for g in grants)
    named = {column for g in grants for column in g.columns}
    provenance = dict.fromkeys(PROVENANCE, ColumnAccess.RAW)
    raw, masked = ColumnAccess.RAW, ColumnAccess.MASKED
    if contract.owner == department:
        everything = {f.name: raw for f in contract.fields} | provenance
        return DatasetAccess(contract.name, contract, True, "owner", everything, grant_ids)
    if sharing == SharingClass.NOT_SHARED:
        return None
    if sharing == SharingClass.UNCONDITIONAL:
        columns = {
            f.name: masked if is_protected(f) and f.name not in named else raw
            for f in contract.fields
        }
        basis = "unconditional" + (f"; grants {_ids(grant_ids)}" if grants else "")
        return DatasetAccess(contract.name, contract, True, basis, columns | provenance, grant_ids)
    columns = {f.name: raw if f.name in named else masked for f in contract.fields}
    if not grants:
        return DatasetAccess(contract.name, contract, False, "conditional: needs a grant", columns)
    basis = f"conditional; grants {_ids(grant_ids)}"
    return DatasetAccess(contract.name, contract, True, basis, columns | provenance, grant_ids)


def _ids(ids: tuple[int, ...]) -> str:
    return ", ".join(f"#{i}" for i in ids)
