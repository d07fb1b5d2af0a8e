"""The whole pipeline with the catalog (and Iceberg SQL catalog) on the real PostgreSQL."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.support import run_exhub

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("postgres-catalog")]


def test_demo_on_postgres_catalog(hub_home, postgres_url):
    env = {"EXHUB_CATALOG": postgres_url}
    result = json.loads(
        run_exhub(
            "demo", "--systems", "2", "--format", "json", home=hub_home, env=env, check=True
        ).stdout
    )
    assert result["datasets"]["person"] > 0
    engine = sa.create_engine(postgres_url)
    with engine.connect() as con:
        runs = con.execute(
            sa.text(
                "SELECT source_id, status, extracted_rows, published_rows, quarantined_rows "
                "FROM exhub_runs ORDER BY source_id"
            )
        ).all()
        tables = con.execute(
            sa.text("SELECT table_namespace, table_name FROM iceberg_tables")
        ).all()
    engine.dispose()
    assert [r.source_id for r in runs] == ["ps_hukou", "rs_social_insurance"]
    assert all(r.status == "succeeded" for r in runs)
    assert all(r.extracted_rows == r.published_rows + r.quarantined_rows for r in runs)
    assert ("population", "person") in {(t.table_namespace, t.table_name) for t in tables}
    # Nothing of the catalog lives in the embedded SQLite file.
    assert not (hub_home / ".exhub/catalog.db").exists()
