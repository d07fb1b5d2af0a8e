"""The extract stage: read a stream into the run's landing zone.

Kept apart from the validate and publish stages, and light to import: a sync starts
reading the source before it imports what validating and publishing need (pyiceberg,
DuckDB, the rule engine), so those imports run beside the extraction instead of before it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pyarrow as pa

from connectors import Capability, ReadRequest, load_connector
from exhub.engine.run import RunPlan, Timer
from exhub.extract import LandingManifest, extract_to_landing
from exhub.extract.landing import MANIFEST
from exhub.failpoints import failpoint
from exhub.sources.secrets import resolve_references

__all__ = ["MANIFEST", "extract_stage"]


def extract_stage(
    plan: RunPlan, on_part: Callable[[pa.Table], None] | None = None
) -> LandingManifest:
    """Read the stream into the landing zone (or reuse this run's completed landing).

    Args:
        plan: the run.
        on_part: called with each landed part, so validation can follow the extraction.
    """
    with Timer(plan.summary, "extract"):
        if (plan.landing / MANIFEST).exists():
            manifest = LandingManifest.load(plan.landing)  # a retry replays its own landing
        else:
            source, stream = plan.source, plan.stream
            options = resolve_references(source.options, where=f"{source.id}.options")
            connector_class = load_connector(source.connector)
            connector = connector_class.from_options(options, where=f"source '{source.id}'")
            request = ReadRequest(
                source_object=stream.source,
                key_columns=stream.key_columns(plan.contract.primary_key),
                cursor=stream.cursor,
                watermark=plan.watermark,
                lookback_seconds=stream.lookback_seconds,
                batch_size=plan.hub.settings.batch_size,
                timezone=source.timezone,
                options=stream.options,
            )
            ledgered = Capability.FILE_LEDGER in connector.capabilities
            plan.extract_started_at = datetime.now(UTC).isoformat()
            with connector:
                manifest = extract_to_landing(
                    connector,
                    request,
                    plan.landing,
                    run_id=plan.run_id,
                    source_id=source.id,
                    stream=stream.name,
                    on_rows=lambda n: plan.tick("extract", n),
                    ledger_after=connector.ledger_after if ledgered else None,
                    on_part=on_part,
                    started_at=plan.extract_started_at,
                )
    plan.summary.extracted = manifest.extracted_rows
    plan.hub.repository.update_run(
        plan.run_id,
        extracted_rows=manifest.extracted_rows,
        landing_bytes=manifest.bytes,
        timings=plan.summary.timings,
    )
    failpoint("after_landing")
    return manifest
