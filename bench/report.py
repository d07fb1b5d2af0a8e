"""Ratios, targets and the report files (``docs/benchmarks.md`` and ``docs/benchmarks.json``).

A hand-written analysis between ``<!-- analysis:start -->`` and ``<!-- analysis:end -->`` in
an existing Markdown report is carried over when the report is written again.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from bench import machine
from bench.measure import Measurement

if TYPE_CHECKING:
    from bench.legacy import LegacyTable

ANALYSIS = re.compile(r"<!-- analysis:start -->.*?<!-- analysis:end -->", re.S)
LABELS = {
    "adbc_parquet": "baseline A: ADBC → Parquet, writer on a second thread",
    "dlt_connectorx": (
        'baseline B: dlt `sql_table(backend="connectorx", return_type="arrow_stream")`'
    ),
    "dlt_pyarrow": 'baseline C: dlt `sql_table(backend="pyarrow")`',
    "exhub_full": "**exhub full sync** (extract → landing → conform → validate → publish)",
    "exhub_full_small": "exhub full sync, small table (memory scaling)",
}
THROUGHPUT = ("adbc_parquet", "dlt_connectorx", "dlt_pyarrow", "exhub_full", "exhub_full_small")
STAGES = ("extract", "validate", "publish")
# Call-chain wrappers left out of the "why" lines: they only contain the real work.
WRAPPERS = (
    "(run)",
    "(sync)",
    "(sync_source)",
    "(sync_stream)",
    "(run_stages)",
    "(extract_stage)",
    "(validate_stage)",
    "(publish_stage)",
)


@dataclass(frozen=True)
class Target:
    """One target of issue #6, evaluated on this run's numbers."""

    key: str
    text: str
    measured: float | None
    limit: float
    higher_is_better: bool
    unit: str = "×"
    why: str = ""

    @property
    def met(self) -> bool | None:
        """True/False, or None when it could not be measured."""
        if self.measured is None:
            return None
        if self.higher_is_better:
            return self.measured >= self.limit
        return self.measured <= self.limit

    def as_dict(self) -> dict:
        """JSON form."""
        return {
            "key": self.key,
            "target": self.text,
            "measured": None if self.measured is None else round(self.measured, 3),
            "limit": self.limit,
            "unit": self.unit,
            "met": self.met,
            "why": "" if self.met else self.why,
        }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


OVERLAPPING_STAGES = ("extract", "validate")


class Report:
    """Collects the measurements of one suite run."""

    def __init__(self, options) -> None:
        self.options = options
        self.measurements: dict[str, Measurement] = {}
        self.legacy: LegacyTable | None = None
        self.profile: dict | None = None
        self.incremental: dict | None = None
        self.query_cli_seconds: float | None = None
        self.suite_seconds: float | None = None
        self.measured_at = datetime.now(UTC)
        # Read live while measuring; kept from the JSON when a stored run is rendered again.
        self.git: dict | None = None
        self.machine: dict | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """A stored run (``docs/benchmarks.json``), to render its report again unchanged.

        The commit, machine and date are the measured ones, not those of the moment.
        """
        from bench.legacy import LegacyTable
        from bench.measure import Sample

        p = data["parameters"]
        report = cls(
            SimpleNamespace(
                rows=p["rows"],
                small_rows=p["small_rows"],
                runs=p["runs"],
                warmup=p["warmup"],
                label=p["label"],
            )
        )
        for name, m in data["methods"].items():
            samples = [Sample(**sample) for sample in m["samples"]]
            report.add(Measurement(name, m["rows"], samples, m["warmup"]))
        legacy = data.get("legacy_table")
        if legacy is not None:
            report.legacy = LegacyTable(
                table="",
                rows=legacy["rows"],
                planted=legacy["planted_dirty_rows"],
                seconds=legacy["load_seconds"],
                reused=legacy["reused"],
            )
        report.profile = data.get("profile")
        report.incremental = data.get("incremental")
        report.query_cli_seconds = data.get("query_cli_seconds")
        report.suite_seconds = data.get("suite_seconds")
        report.measured_at = datetime.fromisoformat(data["measured_at"])
        report.git, report.machine = data["git"], data["machine"]
        return report

    def add(self, measurement: Measurement) -> None:
        """Record one method's measurement."""
        self.measurements[measurement.method] = measurement

    # --- derived numbers -----------------------------------------------------------------

    def _rate(self, method: str) -> float | None:
        m = self.measurements.get(method)
        return m.rows_per_second if m else None

    def _stage_medians(self, method: str) -> dict[str, float]:
        m = self.measurements.get(method)
        if not m:
            return {}
        out = {}
        for stage in STAGES:
            values = [s.result.get("timings", {}).get(stage) for s in m.samples]
            values = [v for v in values if v is not None]
            if values:
                out[stage] = statistics.median(values)
        return out

    def _query(self, name: str, key: str) -> float | None:
        m = self.measurements.get("query")
        if not m:
            return None
        return _median([s.result[name][key] for s in m.samples if name in s.result])

    def _inner(self, method: str, key: str) -> float | None:
        m = self.measurements.get(method)
        if not m:
            return None
        return _median([s.result[key] for s in m.samples if key in s.result])

    def ratios(self) -> dict[str, float | None]:
        """Exhub ÷ baseline, from this run."""

        def div(a, b):
            return a / b if a is not None and b else None

        full = self.measurements.get("exhub_full")
        small = self.measurements.get("exhub_full_small")
        incr = self.measurements.get("exhub_incremental")
        cold = self.measurements.get("exhub_incremental_cold")
        return {
            "full_vs_dlt_connectorx": div(self._rate("exhub_full"), self._rate("dlt_connectorx")),
            "full_vs_dlt_pyarrow": div(self._rate("exhub_full"), self._rate("dlt_pyarrow")),
            "full_vs_adbc": div(self._rate("exhub_full"), self._rate("adbc_parquet")),
            "peak_rss_n_vs_small": div(
                full.peak_rss_mb if full else None, small.peak_rss_mb if small else None
            ),
            "incremental_vs_full_time": div(
                incr.median_seconds if incr else None, full.median_seconds if full else None
            ),
            "incremental_cold_vs_full_time": div(
                cold.median_seconds if cold else None, full.median_seconds if full else None
            ),
            "point_lookup_vs_duckdb": div(
                self._query("point_lookup", "exhub_ms_median"),
                self._query("point_lookup", "duckdb_ms_median"),
            ),
            "group_by_vs_duckdb": div(
                self._query("group_by_district", "exhub_ms_median"),
                self._query("group_by_district", "duckdb_ms_median"),
            ),
        }

    def _profile_top(self, count: int = 5) -> str:
        if not self.profile:
            return "no profile taken"
        threads = self.profile.get("thread_cpu")
        if threads:
            total_cpu = sum(t["cpu_s"] for t in threads)
            return (
                f"CPU by thread in one sync of {self.profile['rows']:,} rows "
                f"({self.profile['thread_wall_s']:.1f} s wall, {total_cpu:.1f} s CPU): "
                + "; ".join(
                    f"{t['thread']} {t['cpu_s']:.1f} s ({100 * t['cpu_s'] / total_cpu:.0f}%)"
                    for t in threads[: count + 2]
                )
            )
        total = self.profile.get("total_s") or 1
        deep = [
            r for r in self.profile.get("exhub_by_cum", []) if not r["function"].endswith(WRAPPERS)
        ][:count]
        top = self.profile.get("by_self", [])[:count]
        return (
            f"in the profile ({self.profile['rows']:,} rows), exhub functions by cumulative "
            "time: "
            + "; ".join(
                f"`{r['function']}` {r['cum_s']:.1f} s ({100 * r['cum_s'] / total:.0f}%)"
                for r in deep
            )
            + ". By self time: "
            + "; ".join(
                f"`{r['function']}` {r['self_s']:.1f} s ({100 * r['self_s'] / total:.0f}%)"
                for r in top
            )
        )

    def _stage_text(self, method: str) -> str:
        stages = self._stage_medians(method)
        m = self.measurements.get(method)
        if not stages or not m:
            return ""
        wall = m.median_seconds
        parts = [f"{k} {v:.1f} s ({100 * v / wall:.0f}%)" for k, v in stages.items()]
        # Validation follows the extraction part by part in the same process: their times
        # overlap and do not add up. Together they take at least the longer of the two.
        concurrent = [stages[k] for k in OVERLAPPING_STAGES if k in stages]
        sequential = sum(v for k, v in stages.items() if k not in OVERLAPPING_STAGES)
        other = max(wall - max(concurrent, default=0.0) - sequential, 0.0)
        text = ", ".join(parts)
        if len(concurrent) == len(OVERLAPPING_STAGES):
            text += " (extract and validate overlap)"
        return text + (
            f"; process start, catalog and CLI at most {other:.1f} s ({100 * other / wall:.0f}%)"
        )

    def _floor_text(self) -> str:
        floor = self.measurements.get("exhub_start_floor")
        full = self.measurements.get("exhub_full")
        if not floor or not full:
            return ""
        cli = self._inner("exhub_start_floor", "cli_import_s")
        engine = self._inner("exhub_start_floor", "engine_import_s")
        share = floor.median_seconds / full.median_seconds
        return (
            f"a process that only imports what a sync imports, one after the other (the CLI "
            f"{_fmt(cli)} s, the engine's stages {_fmt(engine)} s, then Great Expectations), "
            f"takes {floor.median_seconds:.2f} s, {share:.3f}× the full sync; a sync reads its "
            "source once the CLI is in and imports the rest meanwhile"
        )

    def _cold_text(self) -> str:
        cold = self.measurements.get("exhub_incremental_cold")
        full = self.measurements.get("exhub_full")
        if not cold or not full:
            return ""
        return (
            f"without a worker, each `exhub sync` in a fresh process takes "
            f"{cold.median_seconds:.2f} s, {cold.median_seconds / full.median_seconds:.3f}× "
            f"the full sync ({self._stage_text('exhub_incremental_cold')})"
        )

    def targets(self) -> list[Target]:
        """Every target of the issue with its measured value and, where missed, why."""
        r = self.ratios()
        full = self.measurements.get("exhub_full")
        small = self.measurements.get("exhub_full_small")
        extract = self._stage_medians("exhub_full").get("extract")
        extract_rate = self.options.rows / extract if extract else None
        throughput_why = (
            f"stages of the median exhub run: {self._stage_text('exhub_full')}; the extract "
            f"stage alone runs at {_fmt(extract_rate, 0)} rows/s (ADBC baseline "
            f"{_fmt(self._rate('adbc_parquet'), 0)} rows/s); {self._profile_top()}"
        )
        n_label = f"{self.options.rows:,}"
        s_label = f"{self.options.small_rows:,}"
        incr_stages = self._stage_text("exhub_incremental")
        dag_seconds = self._inner("dag_parse", "parse_seconds")
        gateway_ms = self._query("point_lookup", "gateway_open_ms_median")
        return [
            Target(
                "full_vs_dlt_connectorx",
                "full sync throughput ≥ 1.0× dlt's fastest (connectorx arrow_stream)",
                r["full_vs_dlt_connectorx"],
                1.0,
                True,
                why=throughput_why,
            ),
            Target(
                "full_vs_dlt_pyarrow",
                "full sync throughput ≥ 3× dlt's pyarrow backend",
                r["full_vs_dlt_pyarrow"],
                3.0,
                True,
                why=throughput_why,
            ),
            Target(
                "full_vs_adbc",
                "full sync throughput ≥ 0.6× threaded ADBC → Parquet",
                r["full_vs_adbc"],
                0.6,
                True,
                why=throughput_why,
            ),
            Target(
                "peak_rss_scaling",
                f"peak RSS at {n_label} rows ≤ 1.15× peak RSS at {s_label} rows",
                r["peak_rss_n_vs_small"],
                1.15,
                False,
                why=(
                    f"{_fmt(full.peak_rss_mb if full else None, 0)} MB at {n_label} rows vs "
                    f"{_fmt(small.peak_rss_mb if small else None, 0)} MB at {s_label}: "
                    "something in the run holds memory in proportion to the table"
                ),
            ),
            Target(
                "peak_rss_absolute",
                f"peak RSS at {n_label} rows under 600 MB",
                full.peak_rss_mb if full else None,
                600,
                False,
                unit="MB",
                why=f"stages of the median exhub run: {self._stage_text('exhub_full')}",
            ),
            Target(
                "incremental_vs_full",
                "incremental sync of a 1% change ≤ 0.1× the full sync's time "
                "(`exhub sync` with `exhub worker` running)",
                r["incremental_vs_full_time"],
                0.1,
                False,
                why=(
                    f"stages of the median incremental run: {incr_stages}; "
                    f"{self._floor_text()}; {self._cold_text()}"
                ),
            ),
            Target(
                "dag_parse",
                f"{self._dag_count()} sources parse in < 5 s",
                dag_seconds,
                5.0,
                False,
                unit="s",
                why="parsing dags/exhub_sources.py with Airflow already imported",
            ),
            Target(
                "point_lookup",
                "point lookup ≤ 2× bare DuckDB read_parquet on the same files",
                r["point_lookup_vs_duckdb"],
                2.0,
                False,
                why=(
                    f"the gateway reads the catalog, plans the Iceberg scan and registers "
                    f"every dataset for each query ({_fmt(gateway_ms, 1)} ms of the exhub time "
                    "is opening the locked-down connection), and it applies merge-on-read "
                    "deletes (an anti join on each file's row numbers) that the bare read "
                    "does not"
                ),
            ),
        ]

    def _load_text(self) -> str:
        loads = [s.load_before for m in self.measurements.values() for s in m.samples]
        if not loads:
            return "—"
        cores = (self.machine or machine.describe())["cores_logical"] or 1
        text = f"{min(loads):.1f} to {max(loads):.1f} on {cores} cores"
        if max(loads) > cores:
            text += (
                " — other work shared the machine during part of the run; the CPU seconds "
                "column is less sensitive to that than wall time"
            )
        return text

    def _dag_count(self) -> int:
        m = self.measurements.get("dag_parse")
        if m and m.samples:
            return m.samples[0].result.get("dags", 0)
        return 500

    # --- output ------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """Everything, for ``docs/benchmarks.json``."""
        legacy = self.legacy
        return {
            "measured_at": self.measured_at.isoformat(timespec="seconds"),
            "git": self.git or machine.git_state(),
            "machine": self.machine or machine.describe(),
            "parameters": {
                "rows": self.options.rows,
                "small_rows": self.options.small_rows,
                "runs": self.options.runs,
                "warmup": self.options.warmup,
                "label": self.options.label,
            },
            "legacy_table": None
            if legacy is None
            else {
                "rows": legacy.rows,
                "planted_dirty_rows": legacy.planted,
                "load_seconds": round(legacy.seconds, 1),
                "reused": legacy.reused,
            },
            "methods": {k: m.as_dict() for k, m in self.measurements.items()},
            "exhub_stage_seconds": {
                "full": self._stage_medians("exhub_full"),
                "full_small": self._stage_medians("exhub_full_small"),
                "incremental": self._stage_medians("exhub_incremental"),
                "incremental_cold": self._stage_medians("exhub_incremental_cold"),
            },
            "ratios": {k: None if v is None else round(v, 3) for k, v in self.ratios().items()},
            "targets": [t.as_dict() for t in self.targets()],
            "incremental": self.incremental,
            "query_cli_seconds": self.query_cli_seconds,
            "profile": self.profile,
            "correctness": self.correctness(),
            "suite_seconds": None if self.suite_seconds is None else round(self.suite_seconds),
        }

    def correctness(self) -> dict:
        """Invariants the suite checks while measuring (no timing involved)."""
        out: dict[str, Any] = {}
        full = self.measurements.get("exhub_full")
        if full and self.legacy:
            record = full.samples[-1].result
            out["extracted_equals_published_plus_quarantined"] = (
                record["extracted_rows"] == record["published_rows"] + record["quarantined_rows"]
            )
            out["extracted_rows"] = record["extracted_rows"]
            out["quarantine_matches_planted_dirt"] = record["rule_counts"] == self.legacy.planted
            out["rule_counts"] = record["rule_counts"]
        if self.incremental:
            out["incremental_published_after"] = self.incremental["published_after"]
            out["incremental_expected_after"] = self.incremental["expected_after"]
            out["incremental_merge_exact"] = (
                self.incremental["published_after"] == self.incremental["expected_after"]
            )
        types = {}
        for method in ("adbc_parquet", "dlt_connectorx", "dlt_pyarrow"):
            m = self.measurements.get(method)
            if m and m.samples:
                types[method] = m.samples[0].result.get("decimal_type")
        types["exhub_full"] = "decimal128(12, 2) (the contract's decimal(12,2))"
        out["numeric_12_2_arrives_as"] = types
        return out

    def write(self, md: Path | None, js: Path | None) -> dict:
        """Write the JSON and Markdown reports (keeping a hand-written analysis section)."""
        data = self.as_dict()
        if js:
            js.parent.mkdir(parents=True, exist_ok=True)
            js.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n")
        if md:
            analysis = None
            if md.exists():
                found = ANALYSIS.search(md.read_text(encoding="utf-8"))
                analysis = found.group(0) if found else None
            md.parent.mkdir(parents=True, exist_ok=True)
            from bench.chart import draw  # both import this module's helpers
            from bench.markdown import render

            chart = draw(self, md.with_suffix(".svg"))
            md.write_text(
                render(self, data, analysis, chart=chart.name if chart else None),
                encoding="utf-8",
            )
        return data
