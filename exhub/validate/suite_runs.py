"""Where a run's Great Expectations suite runs: on a thread, or in a process forked for it.

GX is Python through and through (0.25 CPU-s for the person register's 27 expectations,
whatever the sample's size). On a thread it holds the GIL against everything else the run
still does after its last batch (dataset rules, report, merge lookups, commit), and those
slowed down two to three times beside it. A process that has GX imported already (an
``exhub worker`` or a preloaded Airflow worker, see ``exhub.worker.preload``) forks a
process for the suite when the run starts, before the run starts threads of its own; the
sample goes to it batch by batch as the loop takes it, and the suite then runs on the other
core. Elsewhere the fork would have to import GX itself, so the thread stays.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from exhub.forking import may_fork
from exhub.memory import return_freed_memory
from exhub.validate import gx_import

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    import pyarrow as pa

# Light to import: a run asks for a forked suite first thing, before its heavy imports.
log = logging.getLogger(__name__)
_GX_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gx-suite")
_END_OF_SAMPLE = None


class SuiteRun:
    """One run's suite: the sample is added batch by batch, then the suite is started."""

    def __init__(self, contract) -> None:
        self.contract = contract
        self.rows = 0
        self.started = False

    def add(self, sample: pa.Table) -> None:
        """A batch of the sample (the columns and flags of ``suite_table``)."""
        self.rows += sample.num_rows

    def start(self) -> None:
        """The sample is complete: run the suite (once)."""
        self.started = True

    def result(self) -> dict | None:
        """Great Expectations' result (waits for it), or None when no row was sampled."""
        raise NotImplementedError

    def abandon(self) -> None:
        """The run ended without wanting the result."""


def _validate(contract, tables: list[pa.Table], prepared=None) -> dict:
    import pyarrow as pa

    from exhub.validate import expectations

    frame = pa.concat_tables(tables).to_pandas()
    del tables[:]
    try:
        return expectations.run_suite(contract, frame, prepared)
    finally:
        del frame
        return_freed_memory()  # GX's pandas temporaries are gone; give their pages back


class ThreadSuiteRun(SuiteRun):
    """The suite on a thread of this process (the sample is kept until it starts)."""

    def __init__(self, contract) -> None:
        super().__init__(contract)
        self._tables: list[pa.Table] = []
        self._future: Future | None = None

    def add(self, sample: pa.Table) -> None:
        """Keep the batch until the suite starts."""
        super().add(sample)
        self._tables.append(sample)

    def start(self) -> None:
        """Hand the sample to the suite's thread, once, and let it go here."""
        if self.started or not self._tables:
            return
        super().start()
        tables, self._tables = self._tables, []
        self._future = _GX_POOL.submit(_validate, self.contract, tables)

    def result(self) -> dict | None:
        """The suite's result once its thread has it."""
        return self._future.result() if self._future is not None else None


def _serve(contract, conn: Connection) -> None:
    """The forked process: gather the sample, run the suite, send back its result."""
    from exhub.validate.expectations import PreparedSuite, sample_columns

    # Everything inherited from the run stays out of this process's collections: walking
    # it would copy every page it touches from the run's memory into this one.
    gc.freeze()
    tables = []
    try:
        # While the run still extracts: the suite then only validates once the sample is in.
        prepared = PreparedSuite(contract, sample_columns(contract))
        while (sample := conn.recv()) is not _END_OF_SAMPLE:
            tables.append(sample)
        outcome = ("result", _validate(contract, tables, prepared) if tables else None)
    except EOFError:  # the run went away
        return
    except BaseException as exc:  # sent back: the run's report says what failed
        outcome = ("error", f"{type(exc).__name__}: {exc}")
    conn.send(outcome)


class SuiteProcessError(RuntimeError):
    """The forked suite failed, or its process ended without a result."""


class ForkedSuiteRun(SuiteRun):
    """The suite in a process forked from this one (which has GX imported)."""

    def __init__(self, contract) -> None:
        super().__init__(contract)
        context = multiprocessing.get_context("fork")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(contract, theirs), name="exhub-gx-suite", daemon=True
        )
        self._process.start()
        theirs.close()
        self.pid = self._process.pid
        self._outcome: tuple[str, object] | None = None
        self._gone = False

    def add(self, sample: pa.Table) -> None:
        """Send the batch to the suite's process now (it gathers the sample there)."""
        super().add(sample)
        self._send(sample)

    def _send(self, message) -> None:
        # A process that failed (its error waits in the pipe) or died takes nothing more;
        # the run goes on and ``result`` says what became of the suite.
        if self._gone:
            return
        try:
            self._conn.send(message)
        except OSError:
            self._gone = True

    def start(self) -> None:
        """Tell the suite's process that the sample is complete: it runs the suite."""
        if self.started or not self.rows:
            return
        super().start()
        self._send(_END_OF_SAMPLE)

    def result(self) -> dict | None:
        """The result the suite's process sends back (its process then ends)."""
        if not self.started:
            self.abandon()
            return None
        if self._outcome is None:
            try:
                self._outcome = self._conn.recv()
            except EOFError:
                self._process.join()
                self._outcome = ("error", f"its process ended (exit code {self._process.exitcode})")
            finally:
                self._conn.close()
            self._process.join()
        kind, value = self._outcome
        if kind == "error":
            raise SuiteProcessError(f"Great Expectations failed in its process: {value}")
        return value

    def abandon(self) -> None:
        """End the suite's process, done or not."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._conn.close()


def fork_suite_run(contract) -> SuiteRun | None:
    """A forked suite run, if this process can fork one cheaply and safely now.

    Only where GX is imported already and no other thread could hold a lock (see
    ``exhub.forking``): the run has not started its own threads yet.
    """
    if sys.platform != "linux" or not may_fork() or not gx_import.is_loaded():
        return None
    try:
        run = ForkedSuiteRun(contract)
    except OSError as exc:  # no memory or processes left to fork: the thread does it
        log.warning("could not fork a process for Great Expectations: %s", exc)
        return None
    log.info("Great Expectations checks this run's sample in process %d", run.pid)
    return run
