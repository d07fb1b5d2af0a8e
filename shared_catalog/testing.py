# ruff: noqa: D102  (test and fixture names are their documentation, as in tests/)
"""Behaviour suite of the catalog, shared by every database it runs on.

A test module subclasses :class:`CatalogBehaviour` and provides a ``catalog_url`` fixture
yielding the URL of an empty database; the suite runs unchanged on SQLite and PostgreSQL.
Requires pytest (a dev dependency); imported only by tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, text

from shared_catalog.engine import create_catalog_engine
from shared_catalog.errors import CatalogError
from shared_catalog.migrate import current_revision, schema_diff, upgrade_catalog
from shared_catalog.models import Base
from shared_catalog.records import RunStatus, RunTotals, RunTrigger
from shared_catalog.repository import CatalogRepository

CHINA = timezone(timedelta(hours=8), "CST")
START = datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=CHINA)
HEAD = "0004"


class StepClock:
    """A clock in UTC+8 that moves one second every time it is read."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        value = self.now
        self.now += timedelta(seconds=1)
        return value


class CatalogBehaviour:
    """What every catalog database must do; needs a ``catalog_url`` fixture."""

    @pytest.fixture
    def clock(self) -> StepClock:
        return StepClock()

    @pytest.fixture
    def repo(self, catalog_url: str, clock: StepClock) -> Iterator[CatalogRepository]:
        with CatalogRepository(catalog_url, clock=clock) as repo:
            repo.ensure_schema()
            yield repo

    @pytest.fixture
    def registered(self, repo: CatalogRepository) -> CatalogRepository:
        repo.upsert_department("public_security", "公安局", "Public Security Bureau")
        repo.upsert_source_system("ps_hukou", "public_security", "户籍", "sql", "@daily", 4, "h1")
        repo.upsert_stream("ps_hukou", "persons", "T_RK_JBXX", "person", 1, "UPDATE_TIME")
        repo.upsert_dataset(
            "person", "population", "自然人", "Person", None, "有条件", "daily", 1, "exhub.person"
        )
        return repo

    # Migrations -------------------------------------------------------------------------------

    def test_upgrade_twice_is_idempotent(self, catalog_url: str) -> None:
        assert current_revision(catalog_url) is None
        upgrade_catalog(catalog_url)
        upgrade_catalog(catalog_url)
        assert current_revision(catalog_url) == HEAD
        engine = create_catalog_engine(catalog_url)
        try:
            tables = set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
        assert tables == set(Base.metadata.tables) | {"exhub_alembic_version"}

    def test_head_revision_is_alembics_head(self, catalog_url: str) -> None:
        from alembic.script import ScriptDirectory

        from shared_catalog.migrate import HEAD_REVISION, alembic_config

        script = ScriptDirectory.from_config(alembic_config(catalog_url))
        assert script.get_heads() == [HEAD_REVISION]

    def test_an_older_catalog_is_still_upgraded(self, catalog_url: str) -> None:
        from alembic import command

        from shared_catalog.migrate import HEAD_REVISION, alembic_config

        command.upgrade(alembic_config(catalog_url), "0001")
        assert current_revision(catalog_url) == "0001" != HEAD_REVISION
        upgrade_catalog(catalog_url)
        assert current_revision(catalog_url) == HEAD_REVISION
        assert schema_diff(catalog_url) == []

    def test_models_match_migrations(self, catalog_url: str) -> None:
        upgrade_catalog(catalog_url)
        assert schema_diff(catalog_url) == []

    def test_schema_diff_detects_drift(self, catalog_url: str) -> None:
        upgrade_catalog(catalog_url)
        engine = create_catalog_engine(catalog_url)
        try:
            with engine.begin() as connection:
                connection.execute(text("DROP INDEX ix_exhub_runs_started"))
        finally:
            engine.dispose()
        diff = schema_diff(catalog_url)
        assert [(op[0], op[1].name) for op in diff] == [("add_index", "ix_exhub_runs_started")]

    def test_foreign_tables_are_left_alone(self, catalog_url: str) -> None:
        engine = create_catalog_engine(catalog_url)
        try:
            with engine.begin() as connection:
                connection.execute(text("CREATE TABLE iceberg_tables (catalog_name VARCHAR(255))"))
                connection.execute(text("INSERT INTO iceberg_tables VALUES ('exhub')"))
                connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
                connection.execute(text("INSERT INTO alembic_version VALUES ('airflow_head')"))
            upgrade_catalog(catalog_url)
            assert schema_diff(catalog_url) == []
            with engine.connect() as connection:
                assert connection.scalar(text("SELECT catalog_name FROM iceberg_tables")) == "exhub"
                airflow = connection.scalar(text("SELECT version_num FROM alembic_version"))
                assert airflow == "airflow_head"
        finally:
            engine.dispose()
        assert current_revision(catalog_url) == HEAD

    def test_concurrent_upgrades_both_succeed(self, catalog_url: str) -> None:
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def upgrade() -> None:
            try:
                barrier.wait(timeout=10)
                upgrade_catalog(catalog_url)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=upgrade) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "an upgrade hung"
        assert errors == []
        assert current_revision(catalog_url) == HEAD

    # Registry ---------------------------------------------------------------------------------

    def test_department_upsert_updates_names(self, repo: CatalogRepository) -> None:
        repo.upsert_department("market", "市场监管局")
        repo.upsert_department("civil", "民政局", "Civil Affairs")
        updated = repo.upsert_department("market", "市场监督管理局", "Market Regulation")
        assert updated.name_zh == "市场监督管理局"
        assert [(d.id, d.name_en) for d in repo.list_departments()] == [
            ("civil", "Civil Affairs"),
            ("market", "Market Regulation"),
        ]

    def test_source_updated_at_moves_only_on_change(self, registered: CatalogRepository) -> None:
        first = registered.get_source_system("ps_hukou")
        assert first is not None
        same = registered.upsert_source_system(
            "ps_hukou", "public_security", "户籍", "sql", "@daily", 4, "h1"
        )
        assert same.updated_at == first.updated_at
        changed = registered.upsert_source_system(
            "ps_hukou", "public_security", "户籍", "sql", None, 2, "h2"
        )
        assert changed.updated_at > first.updated_at
        assert (changed.schedule, changed.max_connections, changed.config_hash) == (None, 2, "h2")
        assert [s.id for s in registered.list_source_systems()] == ["ps_hukou"]
        assert registered.get_source_system("absent") is None

    def test_source_of_unknown_department_is_refused(self, repo: CatalogRepository) -> None:
        with pytest.raises(CatalogError, match="constraint"):
            repo.upsert_source_system("x", "no_such_department", "X", "csv", None, 1, "h")
        assert repo.list_source_systems() == []

    def test_stream_source_schema_round_trips_and_survives_upsert(
        self, registered: CatalogRepository
    ) -> None:
        assert registered.get_stream("ps_hukou", "persons").source_schema is None
        schema = [{"name": "SFZH", "type": "string"}, {"name": "GXSJ", "type": "timestamp[us]"}]
        registered.set_stream_source_schema("ps_hukou", "persons", schema)
        registered.upsert_stream("ps_hukou", "persons", "T_RK", "person", 1, "GXSJ")
        assert registered.get_stream("ps_hukou", "persons").source_schema == schema
        assert registered.get_stream("ps_hukou", "nope") is None
        with pytest.raises(CatalogError, match="not registered"):
            registered.set_stream_source_schema("ps_hukou", "nope", schema)

    def test_stream_upsert_keeps_its_id(self, registered: CatalogRepository) -> None:
        (before,) = registered.list_streams("ps_hukou")
        after = registered.upsert_stream("ps_hukou", "persons", "V_RK", "person", 2, None)
        assert after.id == before.id
        assert (after.source_object, after.target_version, after.cursor_column) == (
            "V_RK",
            2,
            None,
        )
        registered.upsert_stream("ps_hukou", "addresses", "T_DZ", "person", 1, None)
        assert [s.name for s in registered.list_streams()] == ["addresses", "persons"]

    def test_dataset_version_never_goes_back(self, registered: CatalogRepository) -> None:
        created = registered.get_dataset("person")
        assert created is not None
        args = ("population", "自然人", "Natural person", "public_security", "有条件", "daily")
        v2 = registered.upsert_dataset("person", *args, 2, "exhub.person")
        v1 = registered.upsert_dataset("person", *args, 1, "exhub.person")
        assert (v2.current_version, v1.current_version) == (2, 2)
        assert v1.title_en == "Natural person"
        assert v1.owner_department_id == "public_security"
        assert v1.created_at == created.created_at
        assert registered.get_dataset("absent") is None
        assert [d.name for d in registered.list_datasets()] == ["person"]

    def test_schema_version_is_idempotent_and_immutable(
        self, registered: CatalogRepository
    ) -> None:
        first = registered.register_schema_version("person", 1, "sha256:aa", '{"v": 1}')
        again = registered.register_schema_version("person", 1, "sha256:aa", '{"v": 1}')
        assert again == first
        registered.register_schema_version("person", 2, "sha256:bb", '{"v": 2}')
        with pytest.raises(CatalogError, match="already registered") as caught:
            registered.register_schema_version("person", 1, "sha256:cc", '{"v": 1.1}')
        assert caught.value.fix is not None and "person.v2.yaml" in caught.value.fix
        versions = registered.list_schema_versions("person")
        assert [(v.version, v.contract_hash) for v in versions] == [
            (1, "sha256:aa"),
            (2, "sha256:bb"),
        ]

    # Runs -------------------------------------------------------------------------------------

    def test_run_round_trip(self, registered: CatalogRepository, clock: StepClock) -> None:
        start = clock.now
        assert start.utcoffset() == timedelta(hours=8)
        started = registered.start_run(
            "01HRUN0000000000000000000A",
            "ps_hukou",
            "persons",
            "person",
            "airflow",
            True,
            "2024-01-01T00:00:00",
        )
        assert started.started_at == start
        assert started.started_at.tzinfo is UTC
        assert (started.status, started.trigger) == (RunStatus.RUNNING, RunTrigger.AIRFLOW)
        registered.update_run(started.id, extracted_rows=120, timings={"extract": 1.5})
        registered.update_run(started.id, timings={"conform": 0.25}, rule_counts={"r_id": 3})
        registered.update_run(started.id, timings={"extract": 2.0}, rule_counts={"r_tel": 1})
        finished = registered.finish_run(
            started.id,
            "succeeded",
            published_rows=116,
            quarantined_rows=4,
            snapshot_id=2**62 + 7,
            gate_results=[{"gate": "row_count_drop", "passed": True, "observed": 0.02}],
            watermark_after="2024-03-01T00:00:00",
        )
        run = registered.get_run(started.id)
        assert run == finished
        assert run is not None
        assert run.timings == {"extract": 2.0, "conform": 0.25}
        assert run.rule_counts == {"r_id": 3, "r_tel": 1}
        assert (run.extracted_rows, run.published_rows, run.quarantined_rows) == (120, 116, 4)
        assert run.snapshot_id == 2**62 + 7
        assert run.gate_results == [{"gate": "row_count_drop", "passed": True, "observed": 0.02}]
        assert run.full_refresh is True
        assert run.watermark_before == "2024-01-01T00:00:00"
        assert run.finished_at == start + timedelta(seconds=1)
        assert run.finished_at.tzinfo is UTC
        assert run.duration_seconds == 1.0
        assert registered.get_run("absent") is None

    def test_runs_are_listed_newest_first(self, registered: CatalogRepository) -> None:
        for run_id, source, dataset in [
            ("r1", "ps_hukou", "person"),
            ("r2", "mr_ent", "legal_entity"),
            ("r3", "ps_hukou", "person"),
        ]:
            registered.start_run(run_id, source, "s", dataset, "cli")
        assert [r.id for r in registered.list_runs()] == ["r3", "r2", "r1"]
        assert [r.id for r in registered.list_runs(source_id="ps_hukou")] == ["r3", "r1"]
        assert [r.id for r in registered.list_runs(dataset_name="legal_entity")] == ["r2"]
        assert [r.id for r in registered.list_runs(limit=2)] == ["r3", "r2"]
        # A department's view filters before the limit, not after it.
        only = registered.list_runs(limit=1, dataset_names={"legal_entity"})
        assert [r.id for r in only] == ["r2"]
        assert registered.list_runs(dataset_names=set()) == []
        with pytest.raises(CatalogError):
            registered.list_runs(limit=0)

    def test_last_successful_run_skips_failures(self, registered: CatalogRepository) -> None:
        assert registered.last_successful_run("ps_hukou", "persons") is None
        for run_id, status in [("r1", "succeeded"), ("r2", "succeeded"), ("r3", "failed")]:
            registered.start_run(run_id, "ps_hukou", "persons", "person", "demo")
            registered.finish_run(run_id, status)
        registered.start_run("r4", "ps_hukou", "other", "person", "demo")
        registered.finish_run("r4", RunStatus.SUCCEEDED)
        last = registered.last_successful_run("ps_hukou", "persons")
        assert last is not None and last.id == "r2"

    def test_run_totals_add_up_a_window_per_source(
        self, registered: CatalogRepository, clock: StepClock
    ) -> None:
        for run_id, source, status, rows, bad in [
            ("r1", "ps_hukou", "succeeded", 100, 1),
            ("r2", "ps_hukou", "failed", 40, 0),
            ("r3", "mr_ent", "succeeded", 7, 7),
            ("r4", "ps_hukou", "succeeded", 10, 2),
        ]:
            registered.start_run(run_id, source, "s", "person", "cli")
            registered.finish_run(run_id, status, extracted_rows=rows, quarantined_rows=bad)
        third = registered.get_run("r3")
        assert third is not None
        assert registered.run_totals(third.started_at) == {
            "mr_ent": RunTotals(runs=1, succeeded=1, extracted_rows=7, quarantined_rows=7),
            "ps_hukou": RunTotals(runs=1, succeeded=1, extracted_rows=10, quarantined_rows=2),
        }
        everything = registered.run_totals(START)
        assert everything["ps_hukou"] == RunTotals(3, 2, 150, 3)
        assert registered.run_totals(clock.now + timedelta(days=1)) == {}

    def test_retried_run_restarts_but_succeeded_run_does_not(
        self, registered: CatalogRepository
    ) -> None:
        registered.start_run("r1", "ps_hukou", "persons", "person", "airflow")
        registered.update_run("r1", extracted_rows=5, timings={"extract": 1.0})
        registered.finish_run("r1", "failed", "SourceUnreachable", "timeout")
        retried = registered.start_run("r1", "ps_hukou", "persons", "person", "airflow")
        assert retried.status is RunStatus.RUNNING
        assert (retried.extracted_rows, retried.timings, retried.error_class) == (0, {}, None)
        assert retried.finished_at is None
        registered.finish_run("r1", "succeeded")
        with pytest.raises(CatalogError, match="already succeeded"):
            registered.start_run("r1", "ps_hukou", "persons", "person", "airflow")
        with pytest.raises(CatalogError, match="already finished"):
            registered.finish_run("r1", "failed")
        assert registered.finish_run("r1", "succeeded", published_rows=5).published_rows == 5

    def test_invalid_run_calls_are_refused(self, registered: CatalogRepository) -> None:
        with pytest.raises(CatalogError, match="trigger"):
            registered.start_run("r1", "ps_hukou", "persons", "person", "cron")
        with pytest.raises(CatalogError, match="no run"):
            registered.update_run("absent", extracted_rows=1)
        registered.start_run("r1", "ps_hukou", "persons", "person", "cli")
        with pytest.raises(CatalogError, match="unknown run fields: status"):
            registered.update_run("r1", status="succeeded")
        with pytest.raises(CatalogError, match="count"):
            registered.update_run("r1", extracted_rows=-1)
        with pytest.raises(CatalogError, match="final status"):
            registered.finish_run("r1", "running")
        with pytest.raises(CatalogError, match="belongs to"):
            registered.start_run("r1", "ps_hukou", "addresses", "person", "cli")
        run = registered.get_run("r1")
        assert run is not None and run.extracted_rows == 0

    def test_error_message_passwords_are_redacted(self, registered: CatalogRepository) -> None:
        registered.start_run("r1", "ps_hukou", "persons", "person", "cli")
        run = registered.finish_run(
            "r1", "failed", "OperationalError", "cannot reach mysql+pymysql://hk:S3cret@10.0.0.5/rk"
        )
        assert run.error_message == "cannot reach mysql+pymysql://hk:***@10.0.0.5/rk"

    # Watermarks -------------------------------------------------------------------------------

    def test_watermark_is_overwritten(self, registered: CatalogRepository) -> None:
        assert registered.get_watermark("ps_hukou", "persons") is None
        registered.set_watermark("ps_hukou", "persons", "2024-03-01T00:00:00+08:00", "r1")
        registered.set_watermark("ps_hukou", "persons", "2024-03-02T00:00:00+08:00", "r2")
        registered.set_watermark("ps_hukou", "addresses", "17", "r3")
        assert registered.get_watermark("ps_hukou", "persons") == "2024-03-02T00:00:00+08:00"
        assert registered.get_watermark("ps_hukou", "addresses") == "17"
