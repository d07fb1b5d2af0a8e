"""Import what a sync needs, once, in a process that will fork the processes that sync.

Used by ``exhub worker`` and by the Airflow Celery worker's configuration
(``exhub.airflow.celery_config``): Airflow 3 forks each task's process from its worker, so
a task then finds the stack loaded instead of importing it again.
"""

from __future__ import annotations

import gc
import importlib
import logging
import time

from exhub import gc_pause

log = logging.getLogger(__name__)

# What commands import on their way (the CLI imports each command's machinery only when it
# runs): the engine, every registered connector with its drivers, DuckDB (merge scans,
# gates, queries) and what the listing and access commands read.
MODULES = (
    "exhub.cli.app",
    "exhub.engine.sync",
    "exhub.engine.stages",
    "exhub.publish.commit",
    "exhub.publish.maintenance",
    "exhub.query.gateway",
    "exhub.views",
    "exhub.access.requests",
    "exhub.engine.facts",
    "duckdb",
)


def preload() -> float:
    """Import the stack and Great Expectations; the seconds it took.

    Afterwards every object is moved to the permanent generation (``gc.freeze``), so the
    collector of a forked child does not touch, and so copy, the pages the imports filled.
    """
    started = time.perf_counter()
    with gc_pause.paused():
        for name in MODULES:
            importlib.import_module(name)
        from connectors.registry import available_connectors, load_connector

        for name in available_connectors():
            try:
                load_connector(name)
            except Exception as exc:  # a broken plugin fails its own syncs, not the worker
                log.warning("connector %s could not be loaded ahead: %s", name, exc)
    from exhub.validate.gx_import import prewarm

    prewarm().join()
    gc.freeze()
    return time.perf_counter() - started
