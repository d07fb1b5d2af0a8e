"""One run of one stream: extract → conform + validate → publish. The CLI and Airflow share it."""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import threading
from pathlib import Path

from exhub import gc_pause
from exhub.engine.extracting import MANIFEST, extract_stage
from exhub.engine.hub import Hub
from exhub.engine.run import (
    Progress,
    RunPlan,
    RunSummary,
    fail_run,
    new_run_id,
    register,
    start_plan,
)
from exhub.errors import ConfigError, GateFailedError
from exhub.extract import landing_folder
from exhub.sources import SourceConfig, StreamConfig
from exhub.validate.gx_import import prewarm as prewarm_expectations
from exhub.validate.suite_runs import fork_suite_run

__all__ = ["RunSummary", "new_run_id", "register", "replay_landing", "sync_stream"]


def run_stages(hub: Hub, plan: RunPlan) -> RunSummary:
    """Run the three stages in this process, recording any failure on the run.

    Emits the run's OpenLineage events (START, then COMPLETE or FAIL) when lineage is
    configured (see ``exhub.lineage``).
    """
    from exhub.lineage import emit_run_event  # off unless configured; imports nothing heavy

    emit_run_event(plan, "START")
    plan.publish_follows = True
    try:
        _extract_and_validate(plan)
        from exhub.engine.stages import publish_stage  # imported already, beside the extraction

        publish_stage(plan)
    except GateFailedError as exc:
        fail_run(hub, plan, exc, status="gated")
        emit_run_event(plan, "FAIL", error=exc)
        raise
    except Exception as exc:
        fail_run(hub, plan, exc)
        emit_run_event(plan, "FAIL", error=exc)
        raise
    emit_run_event(plan, "COMPLETE")
    return plan.summary


class _Cancelled(Exception):
    """Validation failed: the extraction following it stops at its next part."""


_END = object()


def _extract_and_validate(plan: RunPlan) -> None:
    """Extract on a thread while validation follows the landed parts (both stages overlap).

    The queue holds at most two parts, so memory stays bounded by the batch size; a part is
    handed over only once it is safely landed, so a crash anywhere leaves what the separate
    stages would.
    """
    parts: queue.Queue = queue.Queue(maxsize=1)
    cancelled = threading.Event()

    def on_part(table) -> None:
        if cancelled.is_set():
            raise _Cancelled
        parts.put(table)

    def produce() -> None:
        try:
            extract_stage(plan, on_part=on_part)
        except BaseException as exc:  # handed to the validating thread, raised there
            parts.put(exc)
        else:
            parts.put(_END)

    def follow():
        while True:
            item = parts.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    # Before the run's first thread: a process forked later would copy held locks.
    plan.suite_run = fork_suite_run(plan.contract)
    extractor = threading.Thread(target=produce, name="extract", daemon=True)
    extractor.start()
    try:
        # What validating and publishing need (pyiceberg, DuckDB, the rule engine, then Great
        # Expectations) is imported now, while the source is read, not before.
        with gc_pause.paused():
            from exhub.engine.stages import validate_stage
        prewarm_expectations()
        validate_stage(plan, follow=follow())
    except BaseException:
        if plan.suite_run is not None:
            plan.suite_run.abandon()
        cancelled.set()
        while extractor.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                parts.get(timeout=0.1)
        raise
    finally:
        extractor.join()


def sync_stream(
    hub: Hub,
    source: SourceConfig,
    stream: StreamConfig,
    *,
    source_file: Path,
    full_refresh: bool = False,
    trigger: str = "cli",
    run_id: str | None = None,
    progress: Progress | None = None,
    accept_drift: bool = False,
) -> RunSummary:
    """Run one stream end to end.

    A retry with the same ``run_id`` reuses that run's landing (the source is not read
    again) and never publishes twice.

    Raises:
        GateFailedError: a dataset rule failed; nothing was published.
        SourceUnreachableError: the legacy system could not be reached.
        ConfigError: the source, mapping or contract is wrong.
    """
    plan = start_plan(
        hub,
        source,
        stream,
        source_file=source_file,
        full_refresh=full_refresh,
        trigger=trigger,
        run_id=run_id,
        progress=progress,
    )
    plan.accept_drift = accept_drift
    return run_stages(hub, plan)


def replay_landing(
    hub: Hub,
    source: SourceConfig,
    *,
    source_file: Path,
    replay_of: str,
    progress: Progress | None = None,
) -> RunSummary:
    """Validate and publish an earlier run's landing again, without touching the source.

    Raises:
        ConfigError: the run is unknown or its landing is gone (retention).
    """
    record = hub.repository.get_run(replay_of)
    if record is None or record.source_id != source.id:
        raise ConfigError(
            f"no run '{replay_of}' of source '{source.id}'", fix="see `exhub runs list`"
        )
    old = landing_folder(hub.settings.warehouse_path, source.id, record.stream_name, replay_of)
    if not (old / MANIFEST).exists():
        raise ConfigError(
            f"the landing of run {replay_of} is gone ({old})",
            fix="it was removed by landing retention; sync from the source instead",
        )
    stream = source.stream(record.stream_name)
    plan = start_plan(
        hub,
        source,
        stream,
        source_file=source_file,
        full_refresh=record.full_refresh,
        trigger="replay",
        progress=progress,
    )
    plan.advance_watermark = False  # an old landing must never move the watermark back
    plan.landing.mkdir(parents=True, exist_ok=True)
    for item in old.iterdir():
        if item.suffix == ".parquet" or item.name == MANIFEST:
            target = plan.landing / item.name
            try:
                os.link(item, target)  # landed files are immutable: share, don't copy
            except OSError:
                shutil.copy2(item, target)
    return run_stages(hub, plan)
