"""A password with URL-special characters never appears in output, logs, catalog or reports."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from exhub.demo.world import build_world
from tests.support import run_exhub

pytestmark = pytest.mark.integration
PASSWORD = "Hf@2026%/秘密"


def _copy_table(sqlite_db: Path, pg_url: str) -> None:
    source = sa.create_engine(f"sqlite:///{sqlite_db}")
    target = sa.create_engine(pg_url)
    with source.connect() as src, target.begin() as dst:
        rows = src.execute(sa.text("SELECT * FROM T_RK_JBXX")).mappings().all()
        columns = list(rows[0].keys())
        quoted = ", ".join(f'"{c}" text' for c in columns)
        dst.execute(sa.text(f'CREATE TABLE "T_RK_JBXX" ({quoted}, PRIMARY KEY ("SFZH"))'))
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join(f":{c}" for c in columns)
        dst.execute(
            sa.text(f'INSERT INTO "T_RK_JBXX" ({names}) VALUES ({marks})'),
            [dict(r) for r in rows],
        )
    source.dispose()
    target.dispose()


def _everything_written(home: Path) -> bytes:
    blobs = []
    for path in home.rglob("*"):
        if path.is_file() and "legacy" not in path.parts:
            blobs.append(path.read_bytes())
    return b"\n".join(blobs)


def _forms() -> list[bytes]:
    return [PASSWORD.encode(), quote(PASSWORD, safe="").encode(), "秘密".encode()]


@pytest.mark.parametrize("reachable", [True, False], ids=["success", "unreachable"])
def test_password_is_nowhere(hub_home, fresh_postgres_url, reachable):
    world = build_world(hub_home / "legacy", scale=0.05)
    _copy_table(world.root / "legacy" / "hukou.db", fresh_postgres_url)
    database = fresh_postgres_url.rsplit("/", 1)[1]
    port = 5432 if reachable else 1
    text = (world.sources_dir / "ps_hukou.yaml").read_text(encoding="utf-8")
    text = text.replace(
        f"url: sqlite:///{world.root / 'legacy'}/hukou.db",
        f"url: postgresql+psycopg2://postgres:${{PS_HUKOU_PASSWORD}}@127.0.0.1:{port}/{database}",
    )
    (hub_home / "sources").mkdir()
    (hub_home / "sources" / "ps_hukou.yaml").write_text(text, encoding="utf-8")
    env = {"PS_HUKOU_PASSWORD": quote(PASSWORD, safe=""), "EXHUB_LOG_LEVEL": "DEBUG"}

    result = run_exhub("sync", "ps_hukou", home=hub_home, env=env)
    assert result.returncode == (0 if reachable else 3), result.stderr
    shown = run_exhub("runs", "list", "--format", "json", home=hub_home, env=env, check=True)
    source = run_exhub(
        "sources", "show", "ps_hukou", "--format", "json", home=hub_home, env=env, check=True
    )
    written = _everything_written(hub_home)
    assert (hub_home / ".exhub").exists()
    for form in _forms():
        for text_out in (result.stdout, result.stderr, shown.stdout, source.stdout):
            assert form.decode() not in text_out
        assert form not in written, f"{form!r} found in files under {hub_home}"
