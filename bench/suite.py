"""The whole suite, in one run: generate, measure every method, write the report.

Order: the legacy table; the full reads of N rows taking turns run by run (baseline A, ADBC;
baselines B and C, dlt; exhub full sync, each run in a fresh ``EXHUB_HOME``, the last one
kept); exhub full sync at the small
size (memory scaling); a cProfile of one exhub sync; incremental rounds on the kept home
(1% changed per round, restored afterwards); query latency on the kept home; parsing
``dags/`` with 500 generated sources. Every measured method is its own process.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import config, legacy
from bench.home import SOURCE_TEMPLATE, exhub_env, write_home
from bench.measure import Measurement, Sample, interleave, python_argv, repeat, run_process
from bench.report import Report

DAG_SOURCES = 500
DEPARTMENTS = 72


@dataclass(frozen=True)
class Options:
    """What to run."""

    rows: int
    runs: int
    warmup: int
    small_rows: int
    query_repeats: int
    workdir: Path
    out_md: Path | None
    out_json: Path | None
    profile: bool = True
    force_generate: bool = False
    label: str = "bench"
    render: Path | None = None  # a stored run's JSON to render again instead of measuring


def exhub_argv(*args: str) -> list[str]:
    """The ``exhub`` CLI of this interpreter's environment."""
    script = Path(sys.executable).parent / "exhub"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from exhub.cli.main import run; run()", *args]


def last_run(home: Path) -> dict:
    """The newest run record of a home's catalog (timings, counts, rule counts)."""
    con = sqlite3.connect(home / ".exhub" / "catalog.db")
    try:
        con.row_factory = sqlite3.Row
        row = con.execute(
            "SELECT id, status, full_refresh, extracted_rows, published_rows, quarantined_rows, "
            "deleted_rows, landing_bytes, timings, rule_counts, watermark_before, "
            "watermark_after FROM exhub_runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    record = dict(row)
    for key in ("timings", "rule_counts"):
        record[key] = json.loads(record[key]) if record[key] else {}
    return record


def published_rows(home: Path) -> int:
    """Rows currently visible in the dataset (data files minus their deleted positions)."""
    from exhub.publish.deletes import live_files
    from exhub.publish.tables import open_catalog

    catalog = open_catalog(
        f"sqlite:///{home / '.exhub' / 'catalog.db'}", str(home / ".exhub" / "warehouse")
    )
    table = catalog.load_table(("population", config.DATASET))
    return sum(live.live_rows for live in live_files(table))


class Suite:
    """Runs the methods and fills a :class:`Report`."""

    def __init__(self, options: Options, log: Callable[[str], None] = print) -> None:
        self.o = options
        self.log = log
        self.work = options.workdir
        self.work.mkdir(parents=True, exist_ok=True)
        self.report = Report(options)
        self.kept_home: Path | None = None

    # --- helpers -------------------------------------------------------------------------

    def _measure(self, method: str, rows: int | None, run_once) -> Measurement:
        self.log(f"{method} ({rows:,} rows)" if rows else method)
        measurement = repeat(
            method, run_once, rows=rows, runs=self.o.runs, warmup=self.o.warmup, log=self.log
        )
        self.report.add(measurement)
        # Keep what is measured so far: a later failure still leaves the numbers behind.
        self.report.write(None, self.work / "partial.json")
        return measurement

    def _fresh(self, name: str) -> Path:
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        return path

    def _installed_home(self, name: str) -> Path:
        """A fresh home whose catalog exists, as on any hub that has been set up.

        The first command in a home creates the catalog (Alembic's import and every migration,
        0.3-0.4 s): a one-time step of installing exhub, not part of syncing a table, so it
        happens here, outside the measured process.
        """
        home = write_home(self._fresh(name))
        run_process(
            exhub_argv("sources", "list", "--format", "json"),
            env=exhub_env(home),
            cwd=home,
            log_file=self.work / "exhub.log",
        )
        return home

    def _exhub_sync(
        self, home: Path, source: str, *, full: bool, env: dict[str, str] | None = None
    ) -> Sample:
        """``exhub sync`` in ``home`` (``env`` added to its environment); its run record."""
        args = ["sync", source, "--format", "json"] + (["--full-refresh"] if full else [])
        sample = run_process(
            exhub_argv(*args),
            env=exhub_env(home) | (env or {}),
            cwd=home,
            log_file=self.work / "exhub.log",
        )
        sample.result = last_run(home) | sample.result
        if sample.result["status"] != "succeeded":
            raise RuntimeError(f"exhub sync did not succeed: {sample.result}")
        return sample

    # --- methods ---------------------------------------------------------------------------

    def legacy_table(self) -> None:
        """Create (or reuse) the tables."""
        self.log(f"legacy table: {self.o.rows:,} rows in {config.PG_DATABASE}.{config.TABLE}")
        log_file = self.work / "legacy.log"
        argv = python_argv("bench.children", "legacy", str(self.o.rows), str(self.o.small_rows))
        if self.o.force_generate:
            argv.append("--force")
        sample = run_process(argv, log_file=log_file)
        table = legacy.LegacyTable(**sample.result)
        self.log(
            f"  {'reused' if table.reused else 'generated'} in {sample.seconds:.0f} s "
            f"(progress in {log_file})"
        )
        self.report.legacy = table

    def full_reads(self) -> None:
        """The baselines and exhub's full sync, taking turns run by run (see ``interleave``)."""

        def adbc(_: int) -> Sample:
            out = self._fresh("adbc")
            sample = run_process(python_argv("bench.children", "adbc", config.TABLE, str(out)))
            shutil.rmtree(out, ignore_errors=True)
            return sample

        def dlt(backend: str):
            def once(_: int) -> Sample:
                out = self._fresh(f"dlt_{backend}")
                argv = python_argv("bench.children", "dlt", backend, config.TABLE, str(out))
                sample = run_process(argv, log_file=self.work / "dlt.log")
                shutil.rmtree(out, ignore_errors=True)
                return sample

            return once

        def full(index: int) -> Sample:
            # Iceberg metadata holds absolute paths: a home stays where it was synced.
            home = self._installed_home(f"home_full_{index + self.o.warmup}")
            sample = self._exhub_sync(home, config.SOURCE_ID, full=True)
            if self.kept_home is not None:
                shutil.rmtree(self.kept_home, ignore_errors=True)
            self.kept_home = home
            return sample

        methods = {
            "adbc_parquet": (self.o.rows, adbc),
            "dlt_connectorx": (self.o.rows, dlt("connectorx")),
            "dlt_pyarrow": (self.o.rows, dlt("pyarrow")),
            "exhub_full": (self.o.rows, full),
        }
        self.log(f"full reads of {self.o.rows:,} rows, in turns: {', '.join(methods)}")
        for measurement in interleave(
            methods, runs=self.o.runs, warmup=self.o.warmup, log=self.log
        ):
            self.report.add(measurement)
        self.report.write(None, self.work / "partial.json")

    def exhub_small(self) -> None:
        """A full sync of the small table (memory scaling)."""

        def small(_: int) -> Sample:
            home = self._installed_home("home_small")
            sample = self._exhub_sync(home, config.SMALL_SOURCE_ID, full=True)
            shutil.rmtree(home, ignore_errors=True)
            return sample

        self._measure("exhub_full_small", self.o.small_rows, small)

    def profile(self) -> None:
        """Profile one exhub sync of the small table with cProfile (the 'why' of any miss)."""
        if not self.o.profile:
            return
        self.log(f"profiling exhub sync ({self.o.small_rows:,} rows, cProfile)")
        home = write_home(self._fresh("home_profile"))
        argv = python_argv("bench.children", "profile", str(home), config.SMALL_SOURCE_ID)
        sample = run_process(argv, env=exhub_env(home), log_file=self.work / "exhub.log")
        self.report.profile = sample.result | {"rows": self.o.small_rows}
        shutil.rmtree(home, ignore_errors=True)

    def incremental(self) -> None:
        """Rounds of 1% changes, each followed by an incremental ``exhub sync``.

        First each ``exhub sync`` in a fresh process, then with ``exhub worker`` running for
        the home (the command is handed to a process that has the stack imported, as
        Airflow's preloaded Celery workers do); the start-up floor is measured beside them.
        """
        assert self.kept_home is not None
        home = self.kept_home
        before = published_rows(home)
        rounds: list[dict] = []
        state = {"round": 0}

        def rounds_of(env: dict[str, str] | None):
            def once(_: int) -> Sample:
                state["round"] += 1
                change = legacy.change_round(state["round"], self.o.rows, legacy.DEFAULT_SEED)
                sample = self._exhub_sync(home, config.SOURCE_ID, full=False, env=env)
                sample.result["change"] = change.__dict__
                rounds.append(sample.result)
                return sample

            return once

        def floor(_: int) -> Sample:
            return run_process(python_argv("bench.children", "floor"), env=exhub_env(home))

        self._measure("exhub_start_floor", None, floor)
        try:
            # Cold first: the rounds with the worker then meet the table with more deletes.
            self._measure("exhub_incremental_cold", None, rounds_of(None))
            with running_worker(home, self.work / "worker.log") as worker_env:
                self._measure("exhub_incremental", None, rounds_of(worker_env))
        finally:
            self.log("restoring the legacy table")
            legacy.restore(self.o.rows, legacy.DEFAULT_SEED)
        after = published_rows(home)
        inserted = sum(r["change"]["inserted"] for r in rounds)
        inserted_dirty = sum(r["change"]["inserted_dirty"] for r in rounds)
        self.report.incremental = {
            "rounds": rounds,
            "published_before": before,
            "published_after": after,
            "inserted": inserted,
            "expected_after": before + inserted - inserted_dirty,
        }

    def query(self) -> None:
        """Query latency over the kept home's dataset."""
        assert self.kept_home is not None
        home = self.kept_home
        self.log("query latency")

        def once(_: int) -> Sample:
            argv = python_argv(
                "bench.children", "query", str(home), "--repeats", str(self.o.query_repeats)
            )
            return run_process(argv, env=exhub_env(home))

        self._measure("query", None, once)
        cli = run_process(
            exhub_argv(
                "query",
                "--format",
                "json",
                f"SELECT household_division, count(*) FROM {config.DATASET} GROUP BY 1",
            ),
            env=exhub_env(home),
        )
        self.report.query_cli_seconds = cli.seconds

    def dags(self) -> None:
        """Parse ``dags/`` with 500 generated source files."""
        home = self._fresh("home_dags")
        sources = write_home(home) / "sources"
        for path in sources.glob("*.yaml"):
            path.unlink()
        for i in range(DAG_SOURCES):
            text = SOURCE_TEMPLATE.format(
                source_id=f"sys_{i:03d}", url=config.sqlalchemy_url(), table=f"t_{i:03d}"
            ).replace(
                "id: public_security, name: 合肥市公安局",
                f"id: dept_{i % DEPARTMENTS:02d}, name: 合肥市第{i % DEPARTMENTS + 1}部门",
            )
            (sources / f"sys_{i:03d}.yaml").write_text(text, encoding="utf-8")

        def once(_: int) -> Sample:
            argv = python_argv("bench.children", "dags", str(sources))
            return run_process(argv, env=exhub_env(home))

        self._measure("dag_parse", None, once)
        shutil.rmtree(home, ignore_errors=True)

    # --- all ---------------------------------------------------------------------------

    def run(self) -> Report:
        """Everything, then the report files."""
        started = time.perf_counter()
        self.legacy_table()
        self.full_reads()
        self.exhub_small()
        self.profile()
        self.incremental()
        self.query()
        self.dags()
        self.report.suite_seconds = time.perf_counter() - started
        self.report.write(self.o.out_md, self.o.out_json)
        return self.report


@contextmanager
def running_worker(home: Path, log_file: Path) -> Iterator[dict[str, str]]:
    """``exhub worker`` serving ``home``; yields the environment that sends commands to it."""
    folder = Path(tempfile.mkdtemp(prefix="exhub-bench-"))  # short: a socket path is ≤ 107 B
    env = {"EXHUB_WORKER_SOCKET": str(folder / "worker.sock")}
    with open(log_file, "ab") as log:
        worker = subprocess.Popen(
            exhub_argv("worker"), env=exhub_env(home) | env, cwd=home, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 300
        while not (folder / "worker.sock").is_socket():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"exhub worker did not start (see {log_file})")
            time.sleep(0.1)
        yield env
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def default_workdir() -> Path:
    """A scratch folder for homes and Parquet output."""
    return Path(tempfile.gettempdir()) / "exhub-bench"
