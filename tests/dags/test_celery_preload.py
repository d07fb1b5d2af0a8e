"""Airflow's Celery workers preload exhub's stack before forking, so tasks start warm.

A real Celery worker (prefork pool, Redis broker on 127.0.0.1) is started with the settings
docker-compose.yml gives Airflow's workers; a task reports what its pool process had
imported before it ran. The scheduler imports the same settings to send tasks: it must not
pay for the preload.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.dag
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_env(tmp_path) -> dict[str, str]:
    queue = f"exhub_probe_{uuid.uuid4().hex[:8]}"
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("EXHUB_", "AIRFLOW"))},
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CELERY__BROKER_URL": "redis://127.0.0.1:6379/15",
        "AIRFLOW__CELERY__RESULT_BACKEND": "redis://127.0.0.1:6379/15",
        "EXHUB_PROBE_QUEUE": queue,
        "PYTHONPATH": str(REPO),
    }


def test_pool_processes_start_with_the_stack_imported(celery_env):
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tests.dags.celery_probe", "worker",
         "--pool", "prefork", "--concurrency", "1", "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=REPO, env=celery_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        answer = _python(
            "from tests.dags.celery_probe import imported; import json; "
            "print(json.dumps(imported.apply_async().get(timeout=180)))",
            celery_env,
        )
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=60)
    assert answer.returncode == 0, answer.stderr + output
    report = json.loads(_last_line(answer))
    assert report["parent"] == worker.pid  # a pool process forked from the worker
    assert report["great_expectations"] and report["engine"], output


def test_the_scheduler_side_does_not_preload(celery_env):
    result = _python(
        "import sys, exhub.airflow.celery_config as c; "
        "print('great_expectations' in sys.modules, 'exhub.engine.sync' in sys.modules, "
        "c.CELERY_CONFIG['task_acks_late'])",
        celery_env,
    )
    assert result.returncode == 0, result.stderr
    assert _last_line(result).split() == ["False", "False", "True"]


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=240,
    )  # fmt: skip


def _last_line(result: subprocess.CompletedProcess) -> str:
    # Airflow prints configuration warnings on stdout before the answer.
    return result.stdout.strip().splitlines()[-1]
