"""Two sources publishing into one dataset at the same moment both land (PostgreSQL catalog)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from exhub.demo.world import build_world
from tests.support import EXHUB, run_exhub

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_two_sources_commit_concurrently(hub_home, fresh_postgres_url):
    world = build_world(hub_home / "world", scale=0.1)
    (hub_home / "sources").mkdir()
    for name in ("ps_hukou", "rs_social_insurance", "mz_marriage"):
        shutil.copy(world.sources_dir / f"{name}.yaml", hub_home / "sources" / f"{name}.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXHUB_")}
    env.update({"EXHUB_HOME": str(hub_home), "EXHUB_CATALOG": fresh_postgres_url})
    # The first sync creates the table; the others then race on commits to it.
    run_exhub(
        "sync", "ps_hukou", home=hub_home, env={"EXHUB_CATALOG": fresh_postgres_url}, check=True
    )
    racers = [
        subprocess.Popen(
            [*EXHUB, "sync", name, "--full-refresh", "--format", "json"],
            cwd=hub_home,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("ps_hukou", "rs_social_insurance", "mz_marriage")
    ]
    outcomes = [p.communicate(timeout=300) for p in racers]
    assert [p.returncode for p in racers] == [0, 0, 0], [err for _, err in outcomes]
    published = {
        json.loads(out)[0]["stream"]: json.loads(out)[0]["published"] for out, _ in outcomes
    }
    counts = json.loads(
        run_exhub(
            "query",
            "--format",
            "json",
            "SELECT _source, count(*) AS n, count(DISTINCT resident_id) AS k FROM person "
            "GROUP BY 1 ORDER BY 1",
            home=hub_home,
            env={"EXHUB_CATALOG": fresh_postgres_url},
            check=True,
        ).stdout
    )
    assert [c["_source"] for c in counts] == ["mz_marriage", "ps_hukou", "rs_social_insurance"]
    assert all(c["n"] == c["k"] for c in counts)
    assert sorted(c["n"] for c in counts) == sorted(published.values())
