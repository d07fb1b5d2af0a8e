"""Find, load and validate shared schema contracts from the schemas folder."""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from exhub.contracts.models import Contract
from exhub.errors import ConfigError
from exhub.yamlfile import describe_validation_error, load_located_yaml

CONTRACT_FILE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)\.v(?P<version>\d+)\.yaml$")


def load_contract(path: Path) -> Contract:
    """Load one contract file, checking that its name and version match the file name.

    Raises:
        ConfigError: naming the file, line and key that is wrong, and how to fix it.
    """
    match = CONTRACT_FILE.match(path.name)
    if not match:
        raise ConfigError(
            f"{path}: contract files are named <name>.v<N>.yaml",
            fix="rename the file, e.g. person.v1.yaml",
            file=str(path),
        )
    doc = load_located_yaml(path)
    if not isinstance(doc.data, dict):
        raise ConfigError(f"{path}: a contract is a mapping", fix="see schemas/README.md")
    try:
        contract = Contract.model_validate(doc.data)
    except ValidationError as exc:
        raise describe_validation_error(
            exc, doc, model=Contract, guide="schemas/README.md"
        ) from exc
    if contract.name != match["name"] or contract.version != int(match["version"]):
        raise ConfigError(
            f"{doc.where(('name',))}: file says {match['name']} v{match['version']} but the "
            f"contract says {contract.name} v{contract.version}",
            fix="make the file name and the name/version keys agree",
            file=str(path),
            key="name",
        )
    if path.parent.name != contract.domain:
        raise ConfigError(
            f"{doc.where(('domain',))}: contract domain '{contract.domain}' but the file lies in "
            f"'{path.parent.name}/'",
            fix=f"move the file to schemas/{contract.domain}/ or correct 'domain'",
            file=str(path),
            key="domain",
        )
    return contract


def contract_hash(contract: Contract) -> str:
    """Stable hash of a contract's content, to detect an edited published version."""
    canonical = json.dumps(contract.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ContractRegistry:
    """All contracts below one schemas folder, looked up by ``name@version``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._paths: dict[tuple[str, int], Path] = {}
        for path in sorted(root.glob("*/*.yaml")):
            match = CONTRACT_FILE.match(path.name)
            if match:
                self._paths[(match["name"], int(match["version"]))] = path

    def refs(self) -> list[str]:
        """Every ``name@version`` available."""
        return [f"{name}@{version}" for name, version in sorted(self._paths)]

    def get(self, ref: str) -> Contract:
        """The contract for ``name@version`` (or ``name`` for the latest version).

        Raises:
            ConfigError: no such contract.
        """
        name, _, version = ref.partition("@")
        if not version:
            versions = [v for (n, v) in self._paths if n == name]
            if not versions:
                raise self._unknown(ref)
            version = str(max(versions))
        if not version.isdigit() or (name, int(version)) not in self._paths:
            raise self._unknown(ref)
        return _load_cached(self._paths[(name, int(version))])

    def _unknown(self, ref: str) -> ConfigError:
        return ConfigError(
            f"unknown shared schema '{ref}'",
            fix=f"use one of: {', '.join(self.refs()) or '(none found in ' + str(self.root) + ')'}",
            key="target",
        )


@lru_cache(maxsize=256)
def _load_cached(path: Path) -> Contract:
    return load_contract(path)
