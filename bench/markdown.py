"""The Markdown report of a benchmark run (``docs/benchmarks.md``)."""

from __future__ import annotations

from bench.report import LABELS, THROUGHPUT, Report, _fmt, _median


def render(report: Report, data: dict, analysis: str | None, chart: str | None = None) -> str:
    """The human report; ``chart`` is the file name of its chart, beside it."""
    o = report.options
    g, mach = data["git"], data["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {data['measured_at']} at commit `{g['commit'][:12]}`"
        + (" (with uncommitted engine changes)" if g["engine_uncommitted_changes"] else "")
        + f" by `{o.label}`: a legacy PostgreSQL table of **{o.rows:,} rows** "
        f"(15 person-register columns, ~1% dirty), each method its own process (the full "
        "reads take turns run by run, so a drift in the machine's speed falls on all alike), "
        f"{o.warmup} warm-up + {o.runs} measured run(s), median reported; spread is "
        "(max − min) ÷ median. Peak RSS is the process tree's high-water mark. "
        "Rows/s count the whole process (start-up included) so every method pays the "
        "same overheads.",
        "",
        "## Machine",
        "",
        f"- 1-minute load average before the measured runs: {report._load_text()}",
        f"- CPU: {mach['cpu']}, {mach['cores_logical']} logical cores; "
        f"RAM {mach['ram_gb']} GB; {mach['os']}",
        f"- Python {mach['python']}, PostgreSQL {mach['postgresql']} on 127.0.0.1 (same machine)",
        "- " + ", ".join(f"{name} {version}" for name, version in mach["packages"].items()),
        "",
        "## Targets",
        "",
        "| target | measured | limit | |",
        "|---|---|---|---|",
    ]
    for t in data["targets"]:
        verdict = {True: "met", False: "**missed**", None: "not measured"}[t["met"]]
        unit = t["unit"]
        lines.append(
            f"| {t['target']} | {_fmt(t['measured'])}{unit} | {t['limit']}{unit} | {verdict} |"
        )
    if chart:
        lines += ["", f"![Full reads in rows/s and every target, measured ÷ limit]({chart})"]
    misses: dict[str, list[str]] = {}
    for t in data["targets"]:
        if t["met"] is False:
            misses.setdefault(t["why"], []).append(t["key"])
    if misses:
        lines += ["", "Why the misses (from this run's numbers and profile):", ""]
        lines += [f"- *{', '.join(keys)}*: {why}" for why, keys in misses.items()]
    lines += [
        "",
        "## Full read of the table",
        "",
        "| method | median s | spread | CPU s | rows/s | peak RSS MB | exhub ÷ this (rows/s) |",
        "|---|---|---|---|---|---|---|",
    ]
    exhub_rate = report._rate("exhub_full")
    for key in THROUGHPUT:
        m = data["methods"].get(key)
        if not m:
            continue
        rate = m["rows_per_second"]
        ratio = exhub_rate / rate if exhub_rate and rate and key != "exhub_full" else None
        label = LABELS[key] + (f" ({m['rows']:,} rows)" if key == "exhub_full_small" else "")
        lines.append(
            f"| {label} | {_fmt(m['seconds_median'])} | {m['spread_pct']:.0f}% | "
            f"{_fmt(m['cpu_seconds_median'], 1)} | {_fmt(rate, 0)} | "
            f"{_fmt(m['peak_rss_mb'], 0)} | "
            f"{'—' if ratio is None or key == 'exhub_full_small' else f'{ratio:.2f}×'} |"
        )
    stages = data["exhub_stage_seconds"]["full"]
    if stages:
        wall = data["methods"]["exhub_full"]["seconds_median"]
        lines += [
            "",
            "exhub stage timings from the run records (median of the measured runs): "
            + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items())
            + f" of {wall:.1f} s wall. Validation follows the extraction part by part, so the "
            "extract and validate times overlap and do not add up.",
        ]
    lines += _turns(data)
    lines += _more_sections(report, data)
    if analysis:
        lines += ["", analysis]
    lines += [
        "",
        "## Reproduce",
        "",
        "`make bench` (N = `BENCH_ROWS`, default 5,000,000; `BENCH_RUNS`, default 3) or "
        "`make bench-quick` (200,000 rows, one run). Needs the local PostgreSQL "
        "(127.0.0.1:5432, user postgres); the table is generated once into the "
        "`exhub_bench` database and reused while it is unchanged. Raw numbers: "
        "`docs/benchmarks.json`.",
        "",
    ]
    return "\n".join(lines)


TURN_PEERS = {
    "adbc_parquet": "ADBC",
    "dlt_connectorx": "dlt connectorx",
    "dlt_pyarrow": "dlt pyarrow",
}


def _turns(data: dict) -> list[str]:
    """The full reads run by run, with exhub's ratio to each peer in every turn.

    On a machine whose speed drifts, a turn's ratio is the fairest single comparison, and
    their range shows how far the medians can be trusted.
    """
    methods = data["methods"]
    peers = [key for key in TURN_PEERS if key in methods]
    if "exhub_full" not in methods or not peers:
        return []
    runs = min(len(methods[key]["samples"]) for key in [*peers, "exhub_full"])
    if runs < 2:
        return []

    def seconds(key: str, turn: int) -> float:
        return methods[key]["samples"][turn]["seconds"]

    lines = [
        "",
        "Turn by turn (each turn runs every method once; exhub ÷ a peer in rows/s is the "
        "peer's time ÷ exhub's):",
        "",
        "| turn | "
        + " | ".join(f"{TURN_PEERS[k]} s" for k in peers)
        + " | exhub s | "
        + " | ".join(f"exhub ÷ {TURN_PEERS[k]}" for k in peers)
        + " |",
        "|---" * (2 * len(peers) + 2) + "|",
    ]
    spans = {key: [] for key in peers}
    for turn in range(runs):
        exhub = seconds("exhub_full", turn)
        ratios = []
        for key in peers:
            spans[key].append(seconds(key, turn) / exhub)
            ratios.append(f"{spans[key][-1]:.2f}×")
        lines.append(
            f"| {turn + 1} | "
            + " | ".join(f"{seconds(k, turn):.2f}" for k in peers)
            + f" | {exhub:.2f} | "
            + " | ".join(ratios)
            + " |"
        )
    ranges = ", ".join(
        f"{min(v):.2f}–{max(v):.2f}× against {TURN_PEERS[k]}" for k, v in spans.items()
    )
    lines += ["", f"A single turn's ratio ranged {ranges}; the targets use the medians."]
    return lines


def _more_sections(report: Report, data: dict) -> list[str]:
    lines: list[str] = []
    ratios = data["ratios"]
    full = data["methods"].get("exhub_full")
    small = data["methods"].get("exhub_full_small")
    if full and small:
        lines += [
            "",
            "## Memory scaling",
            "",
            f"exhub full sync peak RSS: {small['peak_rss_mb']:.0f} MB at {small['rows']:,} "
            f"rows, {full['peak_rss_mb']:.0f} MB at {full['rows']:,} rows "
            f"(ratio {_fmt(ratios['peak_rss_n_vs_small'])}).",
        ]
    incr = data["methods"].get("exhub_incremental")
    if incr and report.incremental:
        rounds = report.incremental["rounds"]
        changed = _median([r["change"]["updated"] for r in rounds])
        boundary = _median([r["change"]["at_boundary"] for r in rounds])
        inserted = _median([r["change"]["inserted"] for r in rounds])
        extracted = _median([r["extracted_rows"] for r in rounds])
        lines += [
            "",
            "## Incremental sync",
            "",
            f"Each round changes ~1% of the rows ({_fmt(changed, 0)} updated, of which "
            f"{_fmt(boundary, 0)} get exactly the previous maximum `gxsj`, plus "
            f"{_fmt(inserted, 0)} new rows at that instant) and runs `exhub sync` "
            f"(incremental) with `exhub worker` running for the home, as Airflow's Celery "
            f"workers preload the same stack: median {incr['seconds_median']:.2f} s "
            f"({_fmt(extracted, 0)} rows extracted) vs {full['seconds_median']:.1f} s for "
            f"the full sync, ratio {_fmt(ratios['incremental_vs_full_time'], 3)}. "
            f"Stages: {report._stage_text('exhub_incremental')}. The same rounds "
            f"{report._cold_text()}; start-up floor: {report._floor_text()}. (Peak RSS of the "
            f"worker rounds is the calling command's; the sync runs in the worker's child.) "
            f"Rows published after the rounds: {report.incremental['published_after']:,} "
            f"(expected {report.incremental['expected_after']:,}).",
        ]
    dags = data["methods"].get("dag_parse")
    if dags:
        seconds = report._inner("dag_parse", "parse_seconds")
        sample = dags["samples"][0]["result"]
        lines += [
            "",
            "## DAG parsing",
            "",
            f"`dags/exhub_sources.py` with {sample.get('dags')} generated source files "
            f"({sample.get('tasks')} tasks): {_fmt(seconds)} s to parse with Airflow "
            f"already imported (as the DAG processor does); the whole process, Airflow "
            f"import included, {dags['seconds_median']:.2f} s, peak "
            f"{dags['peak_rss_mb']:.0f} MB.",
        ]
    if data["methods"].get("query"):
        lines += [
            "",
            "## Query latency",
            "",
            "| query | exhub gateway ms | bare DuckDB read_parquet ms | ratio |",
            "|---|---|---|---|",
        ]
        for name, key in (
            ("point lookup by resident_id", "point_lookup"),
            ("GROUP BY household_division", "group_by_district"),
        ):
            e = report._query(key, "exhub_ms_median")
            d = report._query(key, "duckdb_ms_median")
            lines.append(
                f"| {name} | {_fmt(e, 1)} | {_fmt(d, 1)} | {_fmt(e / d if e and d else None)}× |"
            )
        lines += [
            "",
            "Both sides open a fresh DuckDB connection per query, in one warm process "
            "(median of repeated queries after a warm-up). The `exhub query` CLI as a "
            f"whole process (start-up included) took {_fmt(report.query_cli_seconds)} s "
            "for the GROUP BY.",
        ]
    c = data["correctness"]
    lines += [
        "",
        "## Correctness checks made while measuring",
        "",
        f"- extracted = published + quarantined: "
        f"{c.get('extracted_equals_published_plus_quarantined')}",
        f"- quarantine per rule equals the planted dirt: "
        f"{c.get('quarantine_matches_planted_dirt')}",
        f"- incremental merge leaves exactly the expected rows: {c.get('incremental_merge_exact')}",
        "- `numeric(12,2)` arrives as: "
        + "; ".join(f"{k}: `{v}`" for k, v in c.get("numeric_12_2_arrives_as", {}).items()),
    ]
    if report.profile and report.profile.get("thread_cpu"):
        threads = report.profile["thread_cpu"]
        lines += [
            "",
            f"## CPU by thread, one exhub sync ({report.profile['rows']:,} rows, "
            f"{report.profile['thread_wall_s']:.1f} s wall, no profiler)",
            "",
            "| thread | does | CPU s | share |",
            "|---|---|---|---|",
        ]
        total_cpu = sum(t["cpu_s"] for t in threads) or 1
        for t in threads:
            lines.append(
                f"| `{t['thread']}` | {t['does']} | {t['cpu_s']:.2f} | "
                f"{100 * t['cpu_s'] / total_cpu:.0f}% |"
            )
    if report.profile:
        lines += [
            "",
            f"## Profile of one exhub sync ({report.profile['rows']:,} rows, cProfile, "
            f"{report.profile['total_s']:.1f} s under the profiler)",
            "",
            "| function (self time) | calls | self s | cumulative s |",
            "|---|---|---|---|",
        ]
        for r in report.profile.get("by_self", [])[:12]:
            lines.append(
                f"| `{r['function']}` | {r['calls']:,} | {r['self_s']:.2f} | {r['cum_s']:.2f} |"
            )
        lines += [
            "",
            "| exhub function (cumulative) | calls | cumulative s |",
            "|---|---|---|",
        ]
        for r in report.profile.get("exhub_by_cum", [])[:12]:
            lines.append(f"| `{r['function']}` | {r['calls']:,} | {r['cum_s']:.2f} |")
    if report.suite_seconds:
        lines += ["", f"The whole suite took {report.suite_seconds / 60:.1f} minutes."]
    return lines
