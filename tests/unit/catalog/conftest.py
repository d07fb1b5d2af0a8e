from __future__ import annotations

from pathlib import Path

import pytest

pytest.register_assert_rewrite("shared_catalog.testing")


@pytest.fixture
def catalog_url(tmp_path: Path) -> str:
    """An empty SQLite catalog in a folder that does not exist yet."""
    return f"sqlite:///{tmp_path / 'exhub' / 'catalog.db'}"
