"""Send a run's OpenLineage events through the openlineage-python client.

Transport, first match wins:

* ``OPENLINEAGE_DISABLED=true``: nothing is sent.
* ``EXHUB_LINEAGE_FILE=<path>``: one JSON event per line appended to that file.
* ``OPENLINEAGE_CONFIG``, ``OPENLINEAGE_URL`` or ``OPENLINEAGE__TRANSPORT__*``: the client's own
  configuration (HTTP to Marquez, Kafka, console, ...), as its documentation describes.
* otherwise lineage is off, and ``openlineage`` is not even imported.

Lineage never breaks a run: a transport that fails is logged as a warning and the run goes on.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exhub.engine.run import RunPlan

log = logging.getLogger(__name__)
LINEAGE_FILE_ENV = "EXHUB_LINEAGE_FILE"
_CLIENT_ENV = ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG")
_TRANSPORT_PREFIX = "OPENLINEAGE__TRANSPORT__"
_lock = threading.Lock()
_clients: dict[tuple, Any] = {}


@dataclass(frozen=True)
class Parent:
    """The orchestrator run a lineage run belongs to (e.g. one Airflow DAG run).

    Attributes:
        namespace: the orchestrator's namespace, e.g. ``airflow``.
        job_name: the parent job, e.g. the DAG id.
        run_key: a text unique to the parent run (hashed into a UUID), e.g. the DAG run id.
    """

    namespace: str
    job_name: str
    run_key: str


def lineage_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether any lineage transport is configured."""
    env = os.environ if environ is None else environ
    if env.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return False
    if env.get(LINEAGE_FILE_ENV) or any(env.get(name) for name in _CLIENT_ENV):
        return True
    return any(key.startswith(_TRANSPORT_PREFIX) for key in env)


def _client_key(environ: Mapping[str, str]) -> tuple:
    return tuple(
        sorted(
            (k, v)
            for k, v in environ.items()
            if k == LINEAGE_FILE_ENV or k.startswith("OPENLINEAGE")
        )
    )


def _client() -> Any:
    """One client per transport configuration (HTTP sessions are reused)."""
    key = _client_key(os.environ)
    with _lock:
        client = _clients.get(key)
        if client is None:
            from openlineage.client import OpenLineageClient

            path = os.environ.get(LINEAGE_FILE_ENV)
            if path:
                from openlineage.client.transport.file import FileConfig, FileTransport

                transport = FileTransport(FileConfig(log_file_path=path, append=True))
                client = OpenLineageClient(transport=transport)
            else:
                client = OpenLineageClient()
            _clients[key] = client
        return client


def emit_run_event(
    plan: RunPlan,
    state: str,
    *,
    error: BaseException | None = None,
    parent: Parent | None = None,
) -> bool:
    """Emit one event of a run, if lineage is configured.

    Args:
        plan: the run.
        state: ``START``, ``RUNNING``, ``COMPLETE`` or ``FAIL``.
        error: the failure, for ``FAIL`` (its message is already free of secrets).
        parent: the orchestrator run this run belongs to.

    Returns:
        Whether an event was sent.
    """
    if not lineage_enabled():
        return False
    try:
        from exhub.lineage.events import run_event

        event = run_event(plan, state, error=error, parent=parent)
        _client().emit(event)
    except Exception as exc:  # lineage must never fail a run
        log.warning(
            "OpenLineage %s event of run %s not sent: %s: %s",
            state,
            plan.run_id,
            type(exc).__name__,
            exc,
        )
        return False
    return True
