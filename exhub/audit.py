"""Recording who read what, for every place that hands data out.

The entries go to the catalog's hash-chained audit log (``shared_catalog.audit``).
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from exhub.engine.hub import Hub


def os_user() -> str:
    """The login name of whoever runs this process (the CLI's actor)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return f"uid:{os.getuid()}"


def record_access(
    hub: Hub,
    action: str,
    target: str,
    *,
    actor: str | None = None,
    purpose: str | None = None,
    **detail: Any,
) -> None:
    """Append one entry to the audit log; raises if it cannot be written.

    Callers record before they hand data out, so an access that cannot be audited does not
    happen.
    """
    hub.repository.append_audit(
        actor=actor or os_user(),
        action=action,
        target=target,
        purpose=purpose,
        detail=detail,
    )
