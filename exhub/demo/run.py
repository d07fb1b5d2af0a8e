"""``exhub demo``: build the world, sync every system, and show what happened."""

from __future__ import annotations

from dataclasses import dataclass, field

from exhub.demo.world import World, build_world
from exhub.engine.hub import Hub
from exhub.engine.sync import RunSummary
from exhub.query import run_query

DEMO_ACTOR = "exhub demo"  # who the demo's own queries are audited as
CROSS_DEPARTMENT_SQL = """
SELECT count(*) AS people,
       count(*) FILTER (WHERE departments >= 3) AS in_three_departments
FROM (SELECT resident_id, count(DISTINCT _department) AS departments
      FROM person GROUP BY resident_id HAVING count(DISTINCT _department) >= 2)
"""
CROSS_DEPARTMENT_EXAMPLES_SQL = """
SELECT resident_id, any_value(name) AS name, string_agg(DISTINCT _department, ', ') AS departments
FROM person GROUP BY resident_id HAVING count(DISTINCT _department) >= 3
ORDER BY resident_id LIMIT 3
"""


@dataclass
class DemoResult:
    """Everything the demo did, for printing or for tests."""

    world: World
    runs: list[RunSummary] = field(default_factory=list)
    dataset_rows: dict[str, int] = field(default_factory=dict)
    cross_department: dict = field(default_factory=dict)
    examples: list[dict] = field(default_factory=list)


def run_demo(
    hub: Hub, *, systems: int = 4, scale: float = 1.0, progress: bool = True
) -> DemoResult:
    """Generate the world under ``.exhub/demo`` and sync its systems (full refresh)."""
    from exhub.cli.sync import sync_source

    root = hub.settings.state_path / "demo"
    world = build_world(root, scale=scale)
    demo_hub = Hub(hub.settings.model_copy(update={"sources_dir": str(world.sources_dir)}))
    result = DemoResult(world=world)
    for source_id in list(world.planted)[:systems]:
        result.runs += sync_source(
            demo_hub, source_id, full_refresh=True, trigger="demo", show_progress=progress
        )
    for dataset in sorted({r.dataset for r in result.runs}):
        table = run_query(demo_hub, f"SELECT count(*) AS n FROM {dataset}", actor=DEMO_ACTOR)
        result.dataset_rows[dataset] = table.column("n")[0].as_py()
    if "person" in result.dataset_rows:
        result.cross_department = run_query(
            demo_hub, CROSS_DEPARTMENT_SQL, actor=DEMO_ACTOR
        ).to_pylist()[0]
        result.examples = run_query(
            demo_hub, CROSS_DEPARTMENT_EXAMPLES_SQL, actor=DEMO_ACTOR
        ).to_pylist()
    return result
