"""OpenLineage events for every run: START, COMPLETE, FAIL (see ``exhub.lineage.emit``).

Lineage is off unless configured (``EXHUB_LINEAGE_FILE``, ``OPENLINEAGE_URL``,
``OPENLINEAGE_CONFIG`` or ``OPENLINEAGE__TRANSPORT__*``); when off, nothing is imported.
"""

from exhub.lineage.emit import Parent, emit_run_event, lineage_enabled

__all__ = ["Parent", "emit_run_event", "lineage_enabled"]
