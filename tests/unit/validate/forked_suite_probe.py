"""Runs the forked-suite cases in a fresh process and prints what each gave, as JSON.

A process forked from a test process that has DuckDB's thread pool running hangs in DuckDB's
fork handler (``exhub.forking``), so these forks start from an interpreter of their own,
as they do from ``exhub worker``: ``python -m tests.unit.validate.forked_suite_probe``.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import pyarrow as pa

import exhub.validate.expectations as expectations
from exhub.forking import may_fork
from exhub.validate import gx_import
from exhub.validate.suite_runs import ForkedSuiteRun, SuiteProcessError, ThreadSuiteRun
from tests.unit.contracts.test_realistic_rows import REGISTRY, ROWS
from tests.unit.validate.test_generated_suites import gx_frame

REF = sorted(ROWS)[0]
CONTRACT = REGISTRY.get(REF)


def _sample(rows: list[dict]) -> pa.Table:
    frame, _ = gx_frame(CONTRACT, rows)
    return pa.Table.from_pandas(frame, preserve_index=False)


def _run(kind, samples) -> dict | None:
    run = kind(CONTRACT)
    for sample in samples:
        run.add(sample)
    run.start()
    return run.result()


def _error(samples) -> str:
    try:
        _run(ForkedSuiteRun, samples)
    except SuiteProcessError as exc:
        return str(exc)
    return "no error"


def main() -> None:
    gx_import.import_gx()
    found: dict[str, object] = {"may_fork": may_fork()}
    real = expectations.run_suite

    def recording(contract, frame, prepared=None):
        result = real(contract, frame, prepared)
        return result | {"pid": os.getpid(), "rows": len(frame)}

    clean = ROWS[REF]
    broken = {name: ("不是" if i % 2 else value) for i, (name, value) in enumerate(clean.items())}
    samples = [_sample([clean]), _sample([broken, clean])]
    expectations.run_suite = recording
    for name, kind in (("forked", ForkedSuiteRun), ("thread", ThreadSuiteRun)):
        result = _run(kind, samples)
        found[name] = {
            "pid": result["pid"],
            "rows": result["rows"],
            "success": result["success"],
            "outcome": [(r["expectation_config"]["type"], r["success"]) for r in result["results"]],
        }
    found["probe_pid"] = os.getpid()

    def exploded(contract, frame, prepared=None):
        raise ValueError("metric provider exploded")

    expectations.run_suite = exploded
    found["failed"] = _error(samples)

    def dies(contract, frame, prepared=None):
        os.kill(os.getpid(), signal.SIGKILL)

    expectations.run_suite = dies
    found["died"] = _error(samples)
    expectations.run_suite = real

    real_prepared = expectations.PreparedSuite

    def cannot_prepare(contract, columns):
        raise RuntimeError("GX context refused")

    expectations.PreparedSuite = cannot_prepare
    # Far more than a pipe holds: the sends must not wait for a process that is gone.
    found["prepare_failed"] = _error([_sample([clean] * 2000)] * 40)
    expectations.PreparedSuite = real_prepared

    abandoned = ForkedSuiteRun(CONTRACT)
    abandoned.add(samples[0])
    abandoned.abandon()
    empty = ForkedSuiteRun(CONTRACT)
    empty.start()
    found["abandoned_exit"] = abandoned._process.exitcode
    found["empty"] = empty.result()
    found["empty_alive"] = empty._process.is_alive()
    json.dump(found, sys.stdout)


if __name__ == "__main__":
    main()
