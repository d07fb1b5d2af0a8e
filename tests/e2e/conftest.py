"""Fixtures shared by the CLI tests."""

from __future__ import annotations

import shutil

import pytest

from exhub.demo.world import build_world


@pytest.fixture
def deployment(hub_home):
    """A home whose own ``sources/`` holds the household register (``ps_hukou``) of a
    generated legacy world; returns (home, world)."""
    world = build_world(hub_home / "legacy_world", scale=0.1)
    (hub_home / "sources").mkdir()
    shutil.copy(world.sources_dir / "ps_hukou.yaml", hub_home / "sources" / "ps_hukou.yaml")
    return hub_home, world
