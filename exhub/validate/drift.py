"""Schema drift: what the source sends now versus what it sent at the last publish.

The contract's ``drift`` policy decides, in dlt's words: ``freeze`` fails the gate,
``evolve`` accepts and records the new baseline, ``discard_row`` quarantines rows that
carry values in new columns, ``discard_value`` drops those values and keeps the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from connectors import POSITION_COLUMN


@dataclass(frozen=True)
class Drift:
    """Differences between two source schemas."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        """True if anything changed."""
        return bool(self.added or self.removed or self.changed)

    def describe(self) -> str:
        """One line for reports and errors."""
        parts = []
        if self.added:
            parts.append(f"new columns {', '.join(self.added)}")
        if self.removed:
            parts.append(f"columns gone {', '.join(self.removed)}")
        if self.changed:
            parts.append(f"types changed {', '.join(self.changed)}")
        return "; ".join(parts) or "no drift"


def describe_schema(schema: pa.Schema) -> list[dict]:
    """JSON-ready columns and types of a landed source schema."""
    return [{"name": f.name, "type": str(f.type)} for f in schema if f.name != POSITION_COLUMN]


def detect_drift(previous: list[dict] | None, current: list[dict]) -> Drift:
    """Compare the last published source schema with the current one (None: first run)."""
    if previous is None:
        return Drift()
    before = {c["name"]: c["type"] for c in previous}
    now = {c["name"]: c["type"] for c in current}
    return Drift(
        added=sorted(set(now) - set(before)),
        removed=sorted(set(before) - set(now)),
        changed=sorted(
            f"{n} {before[n]}→{now[n]}" for n in set(now) & set(before) if before[n] != now[n]
        ),
    )
