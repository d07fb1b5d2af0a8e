"""One Airflow pool per source system, sized by its ``max_connections``.

A source's extract tasks run in its pool, so a legacy database never serves more sessions
than it tolerates, however many streams or DAG runs are due. Pools live in Airflow's metadata
database, which the DAG files must not touch; create or resize them here, after adding or
editing source files (``make airflow`` does it before starting Airflow)::

    python -m exhub.airflow.pools [SOURCES_DIR]
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path

from exhub.airflow.factory import default_sources_dir, pool_name
from exhub.errors import ConfigError
from exhub.sources import discover_sources, load_source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoolChange:
    """What syncing did to one pool."""

    pool: str
    slots: int
    previous_slots: int | None

    @property
    def action(self) -> str:
        """``created``, ``resized`` or ``unchanged``."""
        if self.previous_slots is None:
            return "created"
        return "unchanged" if self.previous_slots == self.slots else "resized"


def desired_pools(sources_dir: Path) -> dict[str, tuple[int, str]]:
    """Pool name → (slots, description) for every valid source file (invalid ones skipped)."""
    pools: dict[str, tuple[int, str]] = {}
    for path in discover_sources(sources_dir).values():
        try:
            source = load_source(path)
        except ConfigError as exc:
            log.error("skipping %s: %s", path, exc)
            continue
        pools[pool_name(source.id)] = (
            source.max_connections,
            f"exhub: {source.department.name} · {source.system} "
            f"(max_connections {source.max_connections} in {path.name})",
        )
    return pools


def sync_pools(sources_dir: Path | None = None) -> list[PoolChange]:
    """Create or resize the pool of every source in Airflow's metadata database.

    Pools of sources that disappeared are left alone (a running task may still use one).

    Args:
        sources_dir: the folder of source files (default: the hub's ``sources_dir``).

    Returns:
        One change per source pool.
    """
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    sources_dir = sources_dir or default_sources_dir()
    changes = []
    with create_session() as session:
        for name, (slots, description) in sorted(desired_pools(sources_dir).items()):
            existing = Pool.get_pool(name, session=session)
            previous = existing.slots if existing is not None else None
            Pool.create_or_update_pool(
                name=name,
                slots=slots,
                description=description,
                include_deferred=False,
                session=session,
            )
            changes.append(PoolChange(name, slots, previous))
    return changes


def main(argv: list[str] | None = None) -> int:
    """Command line: sync the pools and print one line per pool."""
    parser = argparse.ArgumentParser(
        prog="python -m exhub.airflow.pools",
        description="Create or resize one Airflow pool per exhub source (max_connections).",
    )
    parser.add_argument(
        "sources_dir", nargs="?", type=Path, help="folder of source files (default: the hub's)"
    )
    args = parser.parse_args(argv)
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        changes = sync_pools(args.sources_dir)
    except ConfigError as exc:
        print(f"error: {exc}")
        return 2
    except (OperationalError, ProgrammingError) as exc:
        print(f"error: Airflow's metadata database is not ready ({type(exc).__name__})")
        print("  fix: run `airflow db migrate` with the same AIRFLOW_HOME first")
        return 1
    for change in changes:
        print(f"{change.pool}: {change.slots} slot(s), {change.action}")
    if not changes:
        print("no sources found: no pools to sync")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
