"""Dataset rules: they gate the publish. A failed gate publishes nothing and exits 1."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from exhub.contracts.models import (
    Contract,
    FreshnessRule,
    NullRatioRule,
    RowCountDropRule,
    UniqueKeyRule,
)
from exhub.duck import connect as offline_duckdb

DUCKDB_MEMORY_LIMIT = "128MB"
# The key check runs at the end of validation, when the conform threads are done.
HASH_CHECK_THREADS = 2
KEY_HASH = "hash({columns})"
# Repeated hashes whose keys are read back to name examples: a collision of two different keys
# takes one, so a few hundred leave room for the five real duplicates named.
DUPLICATE_HASHES_LOOKED_UP = 500


@dataclass(frozen=True)
class GateResult:
    """Outcome of one dataset rule."""

    rule: str
    passed: bool
    detail: str

    def as_dict(self) -> dict:
        """JSON-ready form for the catalog."""
        return asdict(self)


@dataclass
class PublishStats:
    """Counts over the rows about to be published, gathered while streaming."""

    rows: int = 0
    nulls: dict[str, int] = field(default_factory=dict)
    newest: dict[str, object] = field(default_factory=dict)
    watch_newest: frozenset[str] = frozenset()  # fields a freshness rule judges

    @classmethod
    def for_contract(cls, contract: Contract) -> PublishStats:
        """Stats that track the newest value only of the fields freshness rules name."""
        fields = {r.field for r in contract.rules if isinstance(r, FreshnessRule)}
        return cls(watch_newest=frozenset(fields))

    def add(self, table: pa.Table) -> None:
        """Account for one table of good rows."""
        self.rows += table.num_rows
        for name in table.column_names:
            self.nulls[name] = self.nulls.get(name, 0) + table.column(name).null_count
        for name in self.watch_newest:
            value = pc.max(table.column(name)).as_py()
            if value is not None and (name not in self.newest or value > self.newest[name]):
                self.newest[name] = value


def bounded_duckdb(spill_to: Path | None = None, threads: int = 1) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that spills to disk instead of growing with the table."""
    spill_to = spill_to or Path(tempfile.gettempdir()) / "exhub-duckdb-spill"
    con = offline_duckdb()
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
    con.execute(f"SET threads = {threads}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET temp_directory = ?", [str(spill_to)])
    return con


def _duplicate_keys(files: Sequence[str], key: Sequence[str]) -> tuple[int, list[str]]:
    if not files:
        return 0, []
    columns = ", ".join(f'"{k}"' for k in key)
    con = bounded_duckdb(threads=HASH_CHECK_THREADS)
    try:
        # Distinct 64-bit hashes prove distinct keys, with a hash table a fraction of the
        # keys' size (no spilling at 5M rows). Only a collision or a real duplicate pays for
        # the exact count below.
        rows, hashes = con.execute(
            f"SELECT count(*), count(DISTINCT {KEY_HASH.format(columns=columns)}) "
            "FROM read_parquet(?)",
            [list(files)],
        ).fetchone()
        if rows == hashes:
            return 0, []
        con.execute("SET threads = 1")
        (distinct,) = con.execute(
            f"SELECT count(DISTINCT ({columns})) FROM read_parquet(?)", [list(files)]
        ).fetchone()
        if rows == distinct:
            return 0, []
        # Named through their hashes: grouping every key's text ran out of DuckDB's 128 MB
        # on 30M rows (4.95M keys, each about six times); grouping 64-bit hashes did not.
        key_hash = KEY_HASH.format(columns=columns)
        examples = con.execute(
            f"WITH repeated AS (SELECT h FROM (SELECT {key_hash} AS h FROM read_parquet(?)) "
            f"GROUP BY h HAVING count(*) > 1 LIMIT {DUPLICATE_HASHES_LOOKED_UP}) "
            f"SELECT concat_ws('|', {columns}) AS k FROM read_parquet(?) "
            f"WHERE {key_hash} IN (SELECT h FROM repeated) "
            "GROUP BY k HAVING count(*) > 1 ORDER BY k LIMIT 5",
            [list(files), list(files)],
        ).fetchall()
    finally:
        con.close()
    return rows - distinct, [k for (k,) in examples]


def evaluate_gate(
    contract: Contract,
    staged_files: Sequence[str],
    stats: PublishStats,
    *,
    last_good_rows: int | None,
    full_refresh: bool,
    drift: GateResult | None = None,
    now: datetime | None = None,
) -> list[GateResult]:
    """Evaluate every dataset rule of the contract on the staged run."""
    results = [drift] if drift is not None else []
    for rule in contract.rules:
        if isinstance(rule, UniqueKeyRule):
            extra, examples = _duplicate_keys(staged_files, contract.primary_key)
            results.append(
                GateResult(
                    "unique_key",
                    extra == 0,
                    "primary key unique"
                    if extra == 0
                    else f"{extra} duplicate rows on ({', '.join(contract.primary_key)}), "
                    f"e.g. {', '.join(examples)}",
                )
            )
        elif isinstance(rule, RowCountDropRule):
            if not full_refresh or not last_good_rows:
                results.append(
                    GateResult("row_count_drop", True, "no full previous run to compare")
                )
                continue
            drop = 1 - stats.rows / last_good_rows
            results.append(
                GateResult(
                    "row_count_drop",
                    drop <= rule.max_drop,
                    f"{stats.rows} rows vs {last_good_rows} in the last good run "
                    f"({drop:+.0%} drop, limit {rule.max_drop:.0%})",
                )
            )
        elif isinstance(rule, FreshnessRule):
            results.append(_freshness(rule, stats.newest.get(rule.field), now or datetime.now(UTC)))
        elif isinstance(rule, NullRatioRule):
            ratio = stats.nulls.get(rule.field, 0) / stats.rows if stats.rows else 0.0
            results.append(
                GateResult(
                    f"null_ratio:{rule.field}",
                    ratio <= rule.max,
                    f"{rule.field} null in {ratio:.1%} of rows (limit {rule.max:.0%})",
                )
            )
    return results


def _freshness(rule: FreshnessRule, newest: object, now: datetime) -> GateResult:
    name = f"freshness:{rule.field}"
    if newest is None:
        return GateResult(name, False, f"no {rule.field} value to judge freshness by")
    if isinstance(newest, datetime):
        moment = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
    else:
        moment = datetime.combine(newest, datetime.min.time(), tzinfo=UTC)  # a date
    age = (now - moment).total_seconds() / 3600
    return GateResult(
        name,
        age <= rule.max_age_hours,
        f"newest {rule.field} is {age:.1f} h old (limit {rule.max_age_hours:g} h)",
    )


def count_true(mask: pa.Array) -> int:
    """Number of True values in a boolean mask."""
    return int(pc.sum(pc.cast(pc.fill_null(mask, False), pa.int64())).as_py() or 0)
