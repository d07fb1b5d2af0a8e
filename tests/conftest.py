"""Fixtures shared by every tier: a fresh hub home, real server databases per run, and Chromium."""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Importing Airflow creates $AIRFLOW_HOME (default ~/airflow): keep tests out of the home folder.
os.environ.setdefault("AIRFLOW_HOME", str(Path(tempfile.gettempdir()) / "exhub-tests-airflow"))

PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def _ensure_postgres() -> None:
    probe = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False)
    if probe.returncode != 0:
        version = sorted(os.listdir("/etc/postgresql"))[0]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=True
        )


def _postgres_database() -> Iterator[str]:
    _ensure_postgres()
    name = f"exhub_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as con:
            con.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of its own for this test session, dropped at the end."""
    yield from _postgres_database()


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of its own for one test, dropped after it."""
    yield from _postgres_database()


@pytest.fixture
def hub_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty hub home with every EXHUB_* variable cleared."""
    for key in list(os.environ):
        if key.startswith("EXHUB_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("EXHUB_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


# Browser tests: Playwright drives Debian's Chromium (`apt-get install -y chromium`); it never
# downloads a browser of its own. Serve the app under test with tests.browser.live_server.
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """A headless Chromium for this test session (per xdist worker), closed at the end."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: browser tests need Debian's Chromium; "
            "run `apt-get install -y chromium` (make test and .ci/run do it)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Browser) -> Iterator[Page]:
    """A fresh page (1280x900) in a browser context of its own, closed after the test."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()
