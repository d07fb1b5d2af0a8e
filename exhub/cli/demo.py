"""``exhub demo``: an embedded end-to-end run on generated Hefei-like legacy systems."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from exhub.cli.output import Format, console, dumps
from exhub.engine.hub import Hub
from exhub.errors import ConfigError

MAX_SYSTEMS = 4


def demo(
    systems: Annotated[
        int, typer.Option(help=f"how many legacy systems to sync (1-{MAX_SYSTEMS})")
    ] = MAX_SYSTEMS,
    fmt: Annotated[Format, typer.Option("--format", help="table or json")] = Format.TABLE,
) -> None:
    """Generate Hefei-like legacy systems, sync them all, and show the result. Idempotent."""
    if not 1 <= systems <= MAX_SYSTEMS:
        raise ConfigError(
            f"--systems must be between 1 and {MAX_SYSTEMS}, got {systems}",
            fix=f"the demo world has {MAX_SYSTEMS} legacy systems",
        )
    from exhub.demo.run import run_demo

    hub = Hub()
    result = run_demo(hub, systems=systems, progress=fmt is Format.TABLE)
    if fmt is Format.JSON:
        typer.echo(
            dumps(
                {
                    "datasets": result.dataset_rows,
                    "runs": [
                        {
                            "run_id": r.run_id,
                            "source": r.source_id,
                            "dataset": r.dataset,
                            "extracted": r.extracted,
                            "published": r.published,
                            "quarantined": r.quarantined,
                            "rule_counts": r.rule_counts,
                        }
                        for r in result.runs
                    ],
                    "planted": {k: dict(v) for k, v in result.world.planted.items()},
                    "cross_department": result.cross_department,
                }
            )
        )
        return
    for dataset, rows in result.dataset_rows.items():
        table = Table(title=f"dataset {dataset}: {rows:,} rows published", title_justify="left")
        for column in (
            "source",
            "extracted",
            "published",
            "quarantined",
            "rule",
            "rows",
            "planted",
        ):
            table.add_column(column, justify="left" if column in {"source", "rule"} else "right")
        for run in (r for r in result.runs if r.dataset == dataset):
            planted = result.world.planted.get(run.source_id, {})
            counts = sorted(run.rule_counts.items()) or [("-", 0)]
            for index, (rule, count) in enumerate(counts):
                first = index == 0
                table.add_row(
                    run.source_id if first else "",
                    f"{run.extracted:,}" if first else "",
                    f"{run.published:,}" if first else "",
                    f"{run.quarantined:,}" if first else "",
                    rule,
                    str(count),
                    str(planted.get(rule, 0)),
                    end_section=index == len(counts) - 1,
                )
        console.print(table)
    mismatched = [
        (run.source_id, rule)
        for run in result.runs
        for rule, n in result.world.planted.get(run.source_id, {}).items()
        if run.rule_counts.get(rule, 0) != n
    ]
    console.print(
        "Quarantine matches the dirt the generator planted, rule by rule."
        if not mismatched
        else f"[red]Quarantine differs from planted dirt: {mismatched}"
    )
    if result.cross_department:
        people = result.cross_department["people"]
        console.print(
            f"\n[bold]Cross-department answer:[/] {people:,} people appear in the systems of "
            f"two or more departments ({result.cross_department['in_three_departments']:,} "
            "in three)."
        )
        for example in result.examples:
            console.print(
                f"  {example['resident_id'][:6]}********{example['resident_id'][-4:]} "
                f"{example['name'][0]}{'*' * (len(example['name']) - 1)}: {example['departments']}"
            )
    home = hub.settings.home
    console.print(f"""
[bold]Where to look next[/] (in {home}):
  exhub datasets list                    datasets, rows and sharing classes
  exhub runs list                        every run with counts per stage
  exhub runs show RUN_ID                 rule results, timings, validation report path
  exhub quarantine list person           failed rows with rule, reason and source position
  exhub query "SELECT _department, count(*) FROM person GROUP BY 1"
  exhub datasets list --as civil_affairs what one department may read, and what it sees masked
  exhub query --as civil_affairs "SELECT * FROM legal_entity LIMIT 5"   (PII masked)
  exhub access request person --as civil_affairs --columns resident_id,name \\
      --purpose 婚姻登记核验 --expires 2027-06-30   ask the owner for conditional data;
  exhub access approve ID --as public_security --reason 依法履职   the owner's answer
  exhub audit log                        who queried what, why, and how many rows
  exhub audit verify                     check the audit log's hash chain
  open .exhub/warehouse/reports/         Great Expectations validation reports (HTML)
The demo's source-system files: .exhub/demo/sources/""")
