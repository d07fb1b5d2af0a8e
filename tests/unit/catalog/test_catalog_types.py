"""Column types, records, engine settings and redaction of the catalog."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from shared_catalog import CatalogError, CatalogRepository, RunRecord, RunStatus, UtcDateTime
from shared_catalog.engine import create_catalog_engine, parse_url
from shared_catalog.repository import redact

pytestmark = pytest.mark.unit

CHINA = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("dialect", "stored"),
    [
        pytest.param(sqlite.dialect(), datetime(2024, 3, 1, 1, 30), id="sqlite-naive-utc"),
        pytest.param(
            postgresql.dialect(), datetime(2024, 3, 1, 1, 30, tzinfo=UTC), id="postgresql-aware"
        ),
    ],
)
def test_utc_datetime_binds_utc(dialect: object, stored: datetime) -> None:
    value = datetime(2024, 3, 1, 9, 30, tzinfo=CHINA)
    bound = UtcDateTime().process_bind_param(value, dialect)  # type: ignore[arg-type]
    assert bound == stored
    assert (bound.tzinfo is None) == (stored.tzinfo is None)


def test_utc_datetime_refuses_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        UtcDateTime().process_bind_param(datetime(2024, 3, 1), sqlite.dialect())


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(datetime(2024, 3, 1, 1, 30), id="naive-from-sqlite"),
        pytest.param(datetime(2024, 3, 1, 9, 30, tzinfo=CHINA), id="session-zone-from-pg"),
    ],
)
def test_utc_datetime_reads_aware_utc(read: datetime) -> None:
    value = UtcDateTime().process_result_value(read, sqlite.dialect())
    assert value == datetime(2024, 3, 1, 1, 30, tzinfo=UTC)
    assert value is not None and value.tzinfo is UTC


def test_sqlite_engine_settings(tmp_path: Path) -> None:
    engine = create_catalog_engine(f"sqlite:///{tmp_path / 'new' / 'dir' / 'c.db'}")
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert connection.scalar(text("PRAGMA busy_timeout")) == 30000
            assert connection.scalar(text("PRAGMA foreign_keys")) == 1
    finally:
        engine.dispose()
    assert (tmp_path / "new" / "dir" / "c.db").exists()


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("mysql+pymysql://u:p@h/db", id="unsupported"),
        pytest.param("not a url", id="unparsable"),
    ],
)
def test_bad_catalog_url_is_refused(url: str) -> None:
    with pytest.raises(CatalogError) as caught:
        parse_url(url)
    assert caught.value.fix is not None
    assert "p@" not in str(caught.value)


def test_repository_never_shows_the_password() -> None:
    repo = CatalogRepository("postgresql+psycopg2://exhub:s3cret@db:5432/exhub")
    assert "s3cret" not in repr(repo)
    assert "s3cret" not in str(repo.url)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        pytest.param(
            "connect postgresql://u:p%40ss@h:5432/d failed",
            "connect postgresql://u:***@h:5432/d failed",
            id="url",
        ),
        pytest.param("no url here: a:b@c", "no url here: a:b@c", id="no-scheme"),
        pytest.param("http://host/path", "http://host/path", id="no-password"),
    ],
)
def test_redact(message: str, expected: str) -> None:
    assert redact(message) == expected


def test_run_record_is_frozen_and_typed() -> None:
    now = datetime(2024, 3, 1, tzinfo=UTC)
    fields = {f.name: None for f in dataclasses.fields(RunRecord)}
    fields.update(status="gated", trigger="demo", started_at=now, finished_at=now)
    record = RunRecord(**fields)  # type: ignore[arg-type]
    assert record.status is RunStatus.GATED
    assert record.finished and record.duration_seconds == 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.status = RunStatus.FAILED  # type: ignore[misc]
