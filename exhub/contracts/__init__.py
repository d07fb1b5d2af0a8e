"""Shared schema contracts: models, loading and registry."""

from exhub.contracts.loader import ContractRegistry, contract_hash, load_contract
from exhub.contracts.models import (
    Contract,
    DriftPolicy,
    FieldSpec,
    FreshnessRule,
    NullRatioRule,
    RowCountDropRule,
    SemanticType,
    Sensitivity,
    SharingClass,
    UniqueKeyRule,
)

__all__ = [
    "Contract",
    "ContractRegistry",
    "DriftPolicy",
    "FieldSpec",
    "FreshnessRule",
    "NullRatioRule",
    "RowCountDropRule",
    "SemanticType",
    "Sensitivity",
    "SharingClass",
    "UniqueKeyRule",
    "contract_hash",
    "load_contract",
]
