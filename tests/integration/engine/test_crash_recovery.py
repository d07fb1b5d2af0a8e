"""Kill the process (SIGKILL) at every stage boundary, re-run, and check the dataset is exact.

Exact means: the published keys equal those of an uninterrupted run, each once, and between
the crash and the re-run readers saw either nothing or the whole run, never a part.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3

import pytest

from exhub.demo.world import build_world
from tests.support import run_exhub

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BOUNDARIES = ["after_landing", "after_validation", "before_commit", "after_commit"]


def _deploy(home, world_root):
    (home / "sources").mkdir(exist_ok=True)
    shutil.copy(world_root / "sources" / "ps_hukou.yaml", home / "sources" / "ps_hukou.yaml")


def _keys(home, env) -> list[str]:
    result = run_exhub(
        "query",
        "--format",
        "json",
        "SELECT resident_id FROM person ORDER BY 1",
        home=home,
        env=env,
        check=True,
    )
    return [row["resident_id"] for row in json.loads(result.stdout)]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash_world")
    build_world(root, scale=0.05)
    reference = tmp_path_factory.mktemp("reference_home")
    _deploy(reference, root)
    run_exhub("sync", "ps_hukou", home=reference, check=True)
    return root, _keys(reference, {})


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_env(request):
    if request.param == "sqlite":
        return {}
    return {"EXHUB_CATALOG": request.getfixturevalue("fresh_postgres_url")}


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_killed_run_then_rerun_gives_exact_dataset(world, hub_home, catalog_env, boundary):
    root, expected = world
    _deploy(hub_home, root)
    crashed = run_exhub(
        "sync", "ps_hukou", home=hub_home, env={**catalog_env, "EXHUB_FAILPOINT": boundary}
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr

    visible = _keys(hub_home, catalog_env) if _dataset_exists(hub_home, catalog_env) else []
    assert visible in ([], expected), "a partial run became visible"

    rerun = run_exhub(
        "sync", "ps_hukou", "--format", "json", home=hub_home, env=catalog_env, check=True
    )
    assert json.loads(rerun.stdout)[0]["status"] == "succeeded"
    assert _keys(hub_home, catalog_env) == expected

    runs = json.loads(
        run_exhub(
            "runs",
            "list",
            "--source",
            "ps_hukou",
            "--format",
            "json",
            home=hub_home,
            env=catalog_env,
            check=True,
        ).stdout
    )
    statuses = [r["status"] for r in runs]
    assert statuses[0] == "succeeded" and "running" not in statuses
    interrupted = [r for r in runs if r["status"] == "failed"]
    for record in interrupted:
        shown = json.loads(
            run_exhub(
                "runs",
                "show",
                record["run_id"],
                "--format",
                "json",
                home=hub_home,
                env=catalog_env,
                check=True,
            ).stdout
        )
        assert shown["error_class"] == "Interrupted"


def _dataset_exists(home, env) -> bool:
    result = run_exhub("datasets", "list", "--format", "json", home=home, env=env, check=True)
    return any(d["name"] == "person" for d in json.loads(result.stdout))


def _rows(home, env) -> list[tuple[str, str]]:
    result = run_exhub(
        "query",
        "--format",
        "json",
        "SELECT resident_id, address FROM person ORDER BY 1",
        home=home,
        env=env,
        check=True,
    )
    return [(row["resident_id"], row["address"]) for row in json.loads(result.stdout)]


def test_merge_killed_after_writing_its_delete_files_reruns_exactly(
    tmp_path_factory, hub_home, catalog_env
):
    root = tmp_path_factory.mktemp("merge_world")
    build_world(root, scale=0.05)
    reference = tmp_path_factory.mktemp("merge_reference")
    for home, env in ((reference, {}), (hub_home, catalog_env)):
        _deploy(home, root)
        run_exhub("sync", "ps_hukou", home=home, env=env, check=True)
    before = _rows(hub_home, catalog_env)
    keys = [key for key, _ in before][::20]
    with sqlite3.connect(root / "legacy" / "hukou.db") as con:
        con.execute(
            "UPDATE T_RK_JBXX SET ZZ = '安徽省合肥市新地址9号', GXSJ = '2030-06-01 00:00:00' "
            f"WHERE SFZH IN ({','.join('?' * len(keys))})",
            keys,
        )
    con.close()
    run_exhub("sync", "ps_hukou", home=reference, check=True)
    expected = _rows(reference, {})

    crashed = run_exhub(
        "sync",
        "ps_hukou",
        home=hub_home,
        env={**catalog_env, "EXHUB_FAILPOINT": "merge_files_written"},
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert _rows(hub_home, catalog_env) == before, "the killed merge became visible"

    run_exhub("sync", "ps_hukou", home=hub_home, env=catalog_env, check=True)
    assert _rows(hub_home, catalog_env) == expected
    assert sum(address == "安徽省合肥市新地址9号" for _, address in expected) == len(keys)
