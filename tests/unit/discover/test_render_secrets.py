"""The proposed file never holds the password, and always loads."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from exhub.cli.sources import app
from exhub.discover import propose
from exhub.discover.introspect import introspect_sql
from exhub.discover.render import scalar, url_with_references
from exhub.sources import load_source

pytestmark = pytest.mark.unit

SECRET = "p@ss%2F/x"
URL = f"postgresql+psycopg2://hub:{quote(SECRET, safe='')}@db.example:5432/hukou"


def forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}


def test_url_password_becomes_an_environment_reference():
    text, names = url_with_references(make_url(URL + "?sslkey=/k&sslpassword=zz"), "ps_hukou")
    assert text == (
        "postgresql+psycopg2://hub:${EXHUB_PS_HUKOU_PASSWORD}@db.example:5432/hukou"
        "?sslkey=${EXHUB_PS_HUKOU_SSLKEY}&sslpassword=${EXHUB_PS_HUKOU_SSLPASSWORD}"
    )
    assert names == [
        "EXHUB_PS_HUKOU_PASSWORD",
        "EXHUB_PS_HUKOU_SSLKEY",
        "EXHUB_PS_HUKOU_SSLPASSWORD",
    ]
    assert not any(f in text for f in forms(SECRET))


def test_url_without_password_is_kept():
    text, names = url_with_references(make_url("sqlite:////data/hukou.db"), "x")
    assert (text, names) == ("sqlite:////data/hukou.db", [])


@pytest.mark.parametrize("value", ["@daily", "1", "true", "a: b", "HYDJ_*.csv", "%Y", "", "\t"])
def test_scalars_read_back_as_the_same_string(value):
    import yaml

    assert yaml.safe_load(f"k: {scalar(value)}") == {"k": value}


@pytest.fixture
def password_database(monkeypatch, legacy):
    """discover sees a PostgreSQL URL with a password; the rows come from the demo SQLite."""

    def fake(target, *, sample_rows):
        assert target == URL
        sample = introspect_sql(f"sqlite:///{legacy}/hukou.db", sample_rows=sample_rows)
        sample.url = make_url(target)
        sample.display = "postgresql+psycopg2://hub:***@db.example:5432/hukou"
        sample.default_id = "hukou"
        return sample

    monkeypatch.setattr(propose, "introspect_sql", fake)


def test_cli_output_and_file_never_hold_the_password(hub_home, password_database):
    out = hub_home / "proposed" / "ps_hukou.yaml"
    result = CliRunner().invoke(app, ["discover", URL, "--output", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    for form in forms(SECRET):
        assert form not in text
        assert form not in result.output
    assert "${EXHUB_PS_HUKOU_PASSWORD}" in text
    source = load_source(out)
    assert source.options["url"].startswith("postgresql+psycopg2://hub:${")
    assert source.streams[0].target == "person@1"


def test_cli_prints_yaml_to_stdout_without_output(hub_home, password_database):
    result = CliRunner().invoke(app, ["discover", URL, "--id", "ps_hukou"])
    assert result.exit_code == 0, result.output
    assert "id: ps_hukou" in result.stdout
    for form in forms(SECRET):
        assert form not in result.output


def test_existing_output_is_not_overwritten(hub_home, password_database):
    out = hub_home / "hukou.yaml"
    out.write_text("keep me")
    result = CliRunner().invoke(app, ["discover", URL, "--output", str(out)])
    assert result.exit_code != 0
    assert out.read_text() == "keep me"
