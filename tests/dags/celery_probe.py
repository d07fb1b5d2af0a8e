"""A Celery app configured like exhub's Airflow workers, with one task that reports what its
pool process has imported (used by test_celery_preload.py)."""

from __future__ import annotations

import os
import sys

from celery import Celery

from exhub.airflow.celery_config import CELERY_CONFIG

app = Celery("exhub_probe")
app.conf.update(CELERY_CONFIG)
app.conf.task_default_queue = os.environ.get("EXHUB_PROBE_QUEUE", "exhub_probe")


@app.task(name="exhub_probe.imported")
def imported() -> dict:
    """What the forked pool process found loaded when the task started."""
    return {
        "pid": os.getpid(),
        "parent": os.getppid(),
        "great_expectations": "great_expectations" in sys.modules,
        "engine": "exhub.engine.sync" in sys.modules,
    }
