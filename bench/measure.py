"""Run one method as its own process and measure its wall time and peak memory.

Peak RSS is the larger of two readings: the kernel's high-water mark of the child (and of
any descendants it waited for), returned by ``wait4``, and the highest sum of RSS over the
child's process tree seen by polling every 100 ms (which also counts descendants that run at
the same time, e.g. worker processes). CPU seconds (user + system, from ``wait4``) and the
load average before the run are kept too: on a shared machine they show contention.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from bench.config import REPO

POLL_SECONDS = 0.1


class MethodFailed(RuntimeError):
    """A measured process exited with an error."""


@dataclass
class Sample:
    """One measured process."""

    seconds: float
    peak_rss_mb: float
    result: dict = field(default_factory=dict)
    cpu_seconds: float = 0.0
    load_before: float = 0.0


@dataclass
class Measurement:
    """Warm-up plus measured runs of one method, summarized."""

    method: str
    rows: int | None
    samples: list[Sample]
    warmup: int

    @property
    def seconds(self) -> list[float]:
        """Wall seconds of the measured runs."""
        return [s.seconds for s in self.samples]

    @property
    def median_seconds(self) -> float:
        """Median wall time."""
        return statistics.median(self.seconds)

    @property
    def rows_per_second(self) -> float | None:
        """Rows per second at the median time."""
        return self.rows / self.median_seconds if self.rows else None

    @property
    def peak_rss_mb(self) -> float:
        """Median of the runs' peak RSS."""
        return statistics.median(s.peak_rss_mb for s in self.samples)

    def as_dict(self) -> dict:
        """JSON form, with median and spread."""
        secs = self.seconds
        return {
            "method": self.method,
            "rows": self.rows,
            "runs": len(self.samples),
            "warmup": self.warmup,
            "seconds_median": round(self.median_seconds, 3),
            "seconds_min": round(min(secs), 3),
            "seconds_max": round(max(secs), 3),
            "spread_pct": round(100 * (max(secs) - min(secs)) / self.median_seconds, 1)
            if self.median_seconds
            else 0.0,
            "rows_per_second": round(self.rows_per_second) if self.rows_per_second else None,
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "peak_rss_mb_max": round(max(s.peak_rss_mb for s in self.samples), 1),
            "cpu_seconds_median": round(statistics.median(s.cpu_seconds for s in self.samples), 3),
            "load_before": [s.load_before for s in self.samples],
            "samples": [asdict(s) for s in self.samples],
        }


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    try:
        procs = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def run_process(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log_file: Path | None = None,
) -> Sample:
    """Run ``argv`` once; return its wall time, peak RSS and the JSON it left.

    The child finds the path of a JSON file to fill in ``BENCH_RESULT``; whatever it writes
    there comes back as ``Sample.result``.

    Raises:
        MethodFailed: the process exited non-zero (the tail of its output is in the message).
    """
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        result_path = Path(handle.name)
    env = dict(os.environ if env is None else env)
    env["BENCH_RESULT"] = str(result_path)
    # Children import this tree's exhub and bench, whatever is installed in the venv.
    env["PYTHONPATH"] = str(REPO)
    out = open(log_file, "a+b") if log_file else tempfile.TemporaryFile()  # noqa: SIM115
    peak = 0
    load_before = os.getloadavg()[0]
    try:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        watched = psutil.Process(proc.pid)
        done = threading.Event()

        def poll() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(watched))
                done.wait(POLL_SECONDS)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            out.seek(0, os.SEEK_END)
            size = out.tell()
            out.seek(max(0, size - 4000))
            tail = out.read().decode("utf-8", "replace")
            raise MethodFailed(f"{' '.join(argv)} exited {proc.returncode}:\n{tail}")
        peak_mb = max(usage.ru_maxrss * 1024, peak) / 2**20  # ru_maxrss is in KiB on Linux
        text = result_path.read_text() if result_path.exists() else ""
        return Sample(
            round(seconds, 3),
            round(peak_mb, 1),
            json.loads(text) if text else {},
            cpu_seconds=round(usage.ru_utime + usage.ru_stime, 3),
            load_before=round(load_before, 2),
        )
    finally:
        out.close()
        result_path.unlink(missing_ok=True)


def repeat(
    method: str,
    run_once: Callable[[int], Sample],
    *,
    rows: int | None,
    runs: int,
    warmup: int,
    log: Callable[[str], None] = print,
) -> Measurement:
    """Warm up, then measure ``runs`` times.

    ``run_once(i)`` gets the run index, negative for warm-up runs.
    """
    for index in range(warmup):
        sample = run_once(-1 - index)
        log(f"  {method}: warm-up {sample.seconds:.2f} s, {sample.peak_rss_mb:.0f} MB")
    samples = []
    for index in range(runs):
        sample = run_once(index)
        samples.append(sample)
        done = (
            f"{sample.seconds:.2f} s ({sample.cpu_seconds:.1f} s CPU), "
            f"{sample.peak_rss_mb:.0f} MB, load {sample.load_before:.1f}"
        )
        log(f"  {method}: run {index + 1}/{runs} {done}")
    return Measurement(method, rows, samples, warmup)


def python_argv(module: str, *args: str) -> list[str]:
    """Run a module of this suite with the current interpreter."""
    return [sys.executable, "-m", module, *args]


def write_result(data: dict) -> None:
    """Called in a child: hand ``data`` back to the parent."""
    path = os.environ.get("BENCH_RESULT")
    if path:
        Path(path).write_text(json.dumps(data, default=str))
