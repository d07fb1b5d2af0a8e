"""Celery settings for Airflow workers that run exhub tasks: Airflow's own, plus a warm start.

Airflow 3 forks every task's process from its Celery worker. Preloading exhub's stack in
the worker before Celery forks its pool (``worker_init``) means each extract, validate and
publish task starts with pyarrow, pyiceberg, SQLAlchemy and Great Expectations already
imported, instead of paying seconds for them per task (see ``exhub.worker``). Only a
Celery worker preloads: the scheduler imports this module too, to send tasks, and gains
nothing from it.

Enable with ``AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=exhub.airflow.celery_config.CELERY_CONFIG``
(docker-compose.yml does).
"""

from __future__ import annotations

import logging

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
from celery.signals import worker_init

log = logging.getLogger(__name__)

CELERY_CONFIG = dict(DEFAULT_CELERY_CONFIG)


@worker_init.connect
def preload_exhub(**_: object) -> None:
    """Import the stack in the Celery worker, before its pool processes are forked."""
    from exhub.worker.preload import preload

    seconds = preload()
    log.info("exhub stack preloaded for forked tasks in %.1f s", seconds)
