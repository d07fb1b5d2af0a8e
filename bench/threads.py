"""CPU seconds per thread of this process, grouped by what each thread does.

cProfile sees only the thread it runs on, and an exhub sync spreads its work over several
(source decode, landing writer, conform worker, the main thread's writes, Great Expectations).
Reading ``/proc/self/task/<tid>/stat`` shows where the CPU really goes.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

TASKS = Path("/proc/self/task")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Thread names exhub gives its threads, and what they do.
ROLES = {
    "adbc-read": "ADBC decode of the PostgreSQL wire format",
    "source-read": "re-chunking, type fixes and source positions",
    "extract": "landing: Parquet write and SHA-256",
    "conform": "conform, semantic checks, row rules, quarantine rows",
    "MainThread": "start-up, data and quarantine writes, key check, commit",
    "gx-prewarm": "Great Expectations import",
    "gx-suite": "Great Expectations suite on the sample",
    "merge-scan-ahead": "merge: the rows the run replaces, found while Great Expectations runs",
}
NATIVE = "native pools (Arrow, DuckDB, pyiceberg)"


def _role(name: str) -> str:
    base = re.sub(r"[_-]?\d+$", "", name)
    return base if base in ROLES else NATIVE


class ThreadCpu:
    """Samples every thread's CPU time until stopped; threads that ended keep their last value."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.cpu: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self._before: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def __enter__(self) -> ThreadCpu:
        self._sample()
        self._before = dict(self.cpu)  # CPU spent before, e.g. by the main thread's imports
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(self.interval)

    def _sample(self) -> None:
        for thread in threading.enumerate():
            if thread.native_id is not None and thread.name != "bench-sampler":
                self.names[thread.native_id] = thread.name
        for task in TASKS.iterdir():
            try:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended between listing and reading
            self.cpu[int(task.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def by_role(self) -> list[dict]:
        """CPU seconds per role, largest first."""
        totals: dict[str, float] = {}
        sampler = self._thread.native_id
        for tid, seconds in self.cpu.items():
            if tid == sampler:
                continue
            role = _role(self.names.get(tid, ""))
            totals[role] = totals.get(role, 0.0) + seconds - self._before.get(tid, 0.0)
        return [
            {"thread": role, "does": ROLES.get(role, ""), "cpu_s": round(seconds, 2)}
            for role, seconds in sorted(totals.items(), key=lambda item: -item[1])
            if seconds >= 0.01
        ]
