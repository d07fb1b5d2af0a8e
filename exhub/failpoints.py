"""Failpoints: places where the crash tests kill the process on purpose."""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger("exhub.run")
FAILPOINT_ENV = "EXHUB_FAILPOINT"


def failpoint(name: str) -> None:
    """Kill the process here when ``EXHUB_FAILPOINT`` names this boundary.

    The crash tests use it to prove every stage boundary is safe to die at: SIGKILL leaves
    no chance to clean up, exactly like an OOM kill or a pulled plug.
    """
    if os.environ.get(FAILPOINT_ENV) == name:
        log.warning("failpoint %s: killing the process", name)
        os.kill(os.getpid(), signal.SIGKILL)
