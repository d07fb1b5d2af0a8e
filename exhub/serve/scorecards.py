"""Per-department scorecards for supervisors (电子监察): how each department keeps its data.

For each department over the last ``days`` days:
- as a provider: its source systems, the runs they made and how many succeeded, the share of
  extracted rows quarantined, its datasets and how many are fresh for their update cycle;
- as an owner: access requests waiting for its answer and its median answer time;
- as a consumer: the grants it holds.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from exhub.engine.facts import dataset_facts
from exhub.engine.hub import Hub
from shared_catalog import AccessStatus


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def scorecards(hub: Hub, *, days: int = 30) -> list[dict[str, Any]]:
    """One scorecard per department, by department id."""
    repo = hub.repository
    now = datetime.now(UTC)
    since = now - timedelta(days=days)
    department_of = {s.id: s.department_id for s in repo.list_source_systems()}
    totals = repo.run_totals(since)
    datasets = repo.list_datasets()
    requests = repo.list_access_requests()
    owner_of = {d.name: d.owner_department_id for d in datasets}
    cards = []
    for department in repo.list_departments():
        mine = [t for source, t in totals.items() if department_of.get(source) == department.id]
        runs = sum(t.runs for t in mine)
        succeeded = sum(t.succeeded for t in mine)
        extracted = sum(t.extracted_rows for t in mine)
        owned = [d for d in datasets if d.owner_department_id == department.id]
        fresh = [d for d in owned if dataset_facts(hub, d.name, d.update_cycle)["fresh"]]
        received = [r for r in requests if owner_of.get(r.dataset_name) == department.id]
        answer_hours = [
            (r.decided_at - r.requested_at).total_seconds() / 3600
            for r in received
            if r.decided_at is not None and r.decided_by == department.id
        ]
        held = [r for r in requests if r.department_id == department.id and r.active_at(now)]
        cards.append(
            {
                "department": department.id,
                "name": department.name_zh,
                "sources": sum(d == department.id for d in department_of.values()),
                "runs": runs,
                "runs_succeeded": succeeded,
                "success_rate": _share(succeeded, runs),
                "rows_extracted": extracted,
                "quarantine_rate": _share(sum(t.quarantined_rows for t in mine), extracted),
                "datasets_owned": len(owned),
                "datasets_fresh": len(fresh),
                "requests_waiting": sum(r.status == AccessStatus.PENDING for r in received),
                "median_answer_hours": (
                    round(statistics.median(answer_hours), 1) if answer_hours else None
                ),
                "grants_held": len(held),
            }
        )
    return cards
