from __future__ import annotations

from pathlib import Path

import pytest

from exhub.contracts import Contract, ContractRegistry
from exhub.demo.world import World, build_world
from exhub.settings import SHIPPED_SCHEMAS


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The demo's four legacy systems, small."""
    return build_world(tmp_path_factory.mktemp("world"), scale=0.05)


@pytest.fixture(scope="session")
def contracts() -> list[Contract]:
    registry = ContractRegistry(SHIPPED_SCHEMAS)
    return [registry.get(ref) for ref in registry.refs()]


@pytest.fixture(scope="session")
def legacy(world: World) -> Path:
    return world.root / "legacy"
