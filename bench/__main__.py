"""``python -m bench``: run the suite and write the report (see ``make bench``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench import config
from bench.report import Report
from bench.suite import Options, Suite, default_workdir

QUICK_ROWS = 200_000
SMALL_ROWS = 1_000_000


def parse_args(argv: list[str] | None = None) -> Options:
    """Options from the command line (and ``BENCH_ROWS`` / ``BENCH_RUNS``)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="exhub against dlt and the raw limit, one run"
    )
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 5_000_000)))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 3)))
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument(
        "--small-rows",
        type=int,
        help="rows of the memory-scaling point (default: 1,000,000, or rows ÷ 5 if smaller)",
    )
    parser.add_argument("--quick", action="store_true", help="200,000 rows, one run, no warm-up")
    parser.add_argument("--query-repeats", type=int, default=20)
    parser.add_argument("--workdir", type=Path, default=default_workdir())
    parser.add_argument("--out-md", type=Path, default=config.REPO / "docs" / "benchmarks.md")
    parser.add_argument("--out-json", type=Path, default=config.REPO / "docs" / "benchmarks.json")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--regenerate", action="store_true", help="load the table again")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="measure nothing: write the Markdown report and chart of a stored run again",
    )
    args = parser.parse_args(argv)
    label = "make bench"
    if args.quick:
        if "--rows" not in " ".join(argv or sys.argv):
            args.rows = QUICK_ROWS
        args.runs, args.warmup, label = 1, 0, "make bench-quick"
    small = args.small_rows or min(SMALL_ROWS, max(1, args.rows // 5))
    return Options(
        rows=args.rows,
        runs=max(1, args.runs),
        warmup=max(0, args.warmup),
        small_rows=small,
        query_repeats=args.query_repeats,
        workdir=args.workdir,
        out_md=args.out_md,
        out_json=args.out_json,
        profile=not args.no_profile,
        force_generate=args.regenerate,
        label=label,
        render=args.render,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the suite (or render a stored run); print where the report went."""
    options = parse_args(argv)
    if options.render is not None:
        report = Report.from_dict(json.loads(options.render.read_text(encoding="utf-8")))
        report.write(options.out_md, None)
        print(f"report: {options.out_md} (from {options.render})")
        return 0
    started = time.perf_counter()
    report = Suite(options).run()
    data = report.as_dict()
    print()
    for target in data["targets"]:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[target["met"]]
        print(f"{verdict:>12}  {target['target']}: {target['measured']}{target['unit']}")
    print(f"\nreport: {options.out_md} and {options.out_json}")
    print(f"suite took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
