"""The report's chart (``docs/benchmarks.svg``): where exhub stands against each target.

Two panels from one run's numbers: the full reads as rows/s, with the rate each throughput
target asks of exhub; and every target as measured ÷ limit, turned so that 1 or more means
met, drawn from 1 on a log axis. Drawn with matplotlib's object API (no pyplot, no global
state) into an SVG without a date or random ids, so a report rendered again from the same
numbers is the same file.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from bench.report import Report, Target

MET, MISSED, EXHUB, PEER = "#2e7d32", "#c62828", "#1565c0", "#9e9e9e"
READS = ("adbc_parquet", "dlt_connectorx", "dlt_pyarrow", "exhub_full")
READ_NAMES = {
    "adbc_parquet": "ADBC → Parquet (limit)",
    "dlt_connectorx": "dlt connectorx",
    "dlt_pyarrow": "dlt pyarrow",
    "exhub_full": "exhub full sync",
}
# Throughput targets as a rate exhub must reach: (baseline method, factor, line label).
LINE_STYLES = (
    {"color": "#6a1b9a", "linestyle": "--"},
    {"color": "#ef6c00", "linestyle": "-."},
    {"color": "#00838f", "linestyle": ":"},
)
RATE_LINES = (
    ("adbc_parquet", 0.6, "0.6× ADBC"),
    ("dlt_connectorx", 1.0, "1× dlt connectorx"),
    ("dlt_pyarrow", 3.0, "3× dlt pyarrow"),
)


def headroom(target: Target) -> float | None:
    """Measured ÷ limit, turned so that 1 or more means the target is met."""
    if target.measured is None or target.measured <= 0:
        return None
    if target.higher_is_better:
        return target.measured / target.limit
    return target.limit / target.measured


def draw(report: Report, path: Path) -> Path | None:
    """Write the chart to ``path``; None when the run measured none of the full reads."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    rates = {m: report._rate(m) for m in READS}
    if not any(rates.values()):
        return None
    targets = [t for t in report.targets() if headroom(t) is not None]
    # Stable element ids, and text kept as text (smaller, searchable); only for this figure.
    with rc_context({"svg.hashsalt": "exhub-bench", "svg.fonttype": "none"}):
        figure = Figure(figsize=(9, 3 + 0.45 * len(targets)), layout="constrained")
        heights = [len(READS) + 1, max(len(targets), 1) + 1]
        reads, goals = figure.subplots(2, 1, height_ratios=heights)
        _draw_reads(reads, rates, report.options.rows)
        _draw_targets(goals, targets)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="svg", metadata={"Date": None})
    return path


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _draw_reads(axes, rates: dict[str, float | None], rows: int) -> None:
    shown = [m for m in READS if rates[m]]
    values = [rates[m] / 1000 for m in shown]
    colors = [EXHUB if m == "exhub_full" else PEER for m in shown]
    bars = axes.barh([READ_NAMES[m] for m in shown], values, color=colors)
    axes.bar_label(
        bars, labels=[f"{v:,.0f}k" for v in values], label_type="center", color="white", fontsize=8
    )
    axes.invert_yaxis()
    for (method, factor, label), style in zip(RATE_LINES, LINE_STYLES, strict=True):
        if rates.get(method):
            at = rates[method] * factor / 1000
            axes.axvline(at, linewidth=1, label=f"{label}: {at:,.0f}k", **style)
    axes.legend(loc="lower right", fontsize=7, title="rate a target asks", title_fontsize=7)
    axes.set_xlim(0, max(values) * 1.18)
    axes.set_xlabel("thousand rows/s, whole process (higher is better)")
    axes.set_title(f"Full read of {rows:,} rows")


def _draw_targets(axes, targets: list[Target]) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator

    scores = [headroom(t) or 1.0 for t in targets]
    labels = [textwrap.fill(t.text, 48) for t in targets]
    colors = [MET if t.met else MISSED for t in targets]
    # Diverging from 1 on a log axis: a miss by half and a margin of 2× look the same size.
    bars = axes.barh(labels, [s - 1.0 for s in scores], left=1.0, color=colors)
    axes.bar_label(
        bars,
        labels=[
            f"{_number(t.measured)}{t.unit} (limit {_number(t.limit)}{t.unit})" for t in targets
        ],
        padding=3,
        fontsize=7,
    )
    axes.invert_yaxis()
    axes.set_xscale("log")
    low, high = min([*scores, 1.0]) / 4, max([*scores, 1.0]) * 3
    axes.set_xlim(low, high)
    ticks = [t for t in (0.25, 0.5, 1, 2, 5, 10, 20) if low <= t <= high]
    axes.xaxis.set_major_locator(FixedLocator(ticks))
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xticklabels([f"{t:g}" for t in ticks])
    axes.axvline(1.0, color="#424242", linewidth=1)
    axes.tick_params(axis="y", labelsize=7)
    axes.set_xlabel("measured ÷ limit, turned so that right of 1 is met (log scale)")
    axes.set_title("Targets of issue #6 (green met, red missed)")
