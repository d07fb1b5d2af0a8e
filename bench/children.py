"""What each measured child process does (``python -m bench.children METHOD ...``).

Every method reads the same PostgreSQL table and writes Parquet into its own folder; each
reports back through :func:`bench.measure.write_result` (rows, bytes, inner timings).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import queue
import runpy
import statistics
import sys
import sysconfig
import threading
import time
from pathlib import Path

from bench import config
from bench.measure import write_result
from bench.threads import ThreadCpu

STDLIB = sysconfig.get_paths()["stdlib"] + "/"
BATCH_ROWS = 50_000  # exhub's default batch_size; the peers get the same chunk size


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.parquet"))


def adbc_to_parquet(table: str, out: Path) -> None:
    """Baseline A: ADBC PostgreSQL → Parquet, the writer on a second thread."""
    import adbc_driver_postgresql.dbapi as adbc
    import pyarrow.parquet as pq

    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    batches: queue.Queue = queue.Queue(maxsize=4)
    written = {"rows": 0}

    def write(schema) -> None:
        with pq.ParquetWriter(out / "part-0.parquet", schema, compression="zstd") as writer:
            while (batch := batches.get()) is not None:
                writer.write_batch(batch)
                written["rows"] += batch.num_rows

    with adbc.connect(config.pg_uri()) as con, con.cursor() as cur:
        cur.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(16 * 2**20)})
        cur.execute(f"SELECT * FROM {table}")
        reader = cur.fetch_record_batch()
        writer = threading.Thread(target=write, args=(reader.schema,))
        writer.start()
        try:
            for batch in reader:
                batches.put(batch)
        finally:
            batches.put(None)
            writer.join()
    types = {f.name: str(f.type) for f in reader.schema}
    write_result(
        {
            "rows": written["rows"],
            "bytes": _folder_bytes(out),
            "inner_seconds": time.perf_counter() - started,
            "decimal_type": types.get("yljzhye"),
        }
    )


def dlt_to_parquet(table: str, out: Path, backend: str) -> None:
    """Baselines B and C: dlt ``sql_table`` → filesystem destination as Parquet."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    import dlt
    import pyarrow.parquet as pq
    from dlt.sources.sql_database import sql_table

    started = time.perf_counter()
    kwargs = {}
    if backend == "connectorx":
        kwargs["backend_kwargs"] = {"return_type": "arrow_stream", "batch_size": BATCH_ROWS}
    resource = sql_table(
        credentials=config.pg_uri(),
        table=table,
        backend=backend,
        chunk_size=BATCH_ROWS,
        reflection_level="full_with_precision",
        **kwargs,
    )
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{backend}",
        pipelines_dir=str(out / "_pipelines"),
        destination=dlt.destinations.filesystem(bucket_url=(out / "data").as_uri()),
        dataset_name="registry",
    )
    info = pipeline.run(resource, loader_file_format="parquet")
    info.raise_on_failed_jobs()
    files = sorted((out / "data").rglob("*.parquet"))
    rows = sum(pq.read_metadata(f).num_rows for f in files)
    decimal = pq.read_schema(files[0]).field("yljzhye").type if files else None
    write_result(
        {
            "rows": rows,
            "bytes": _folder_bytes(out / "data"),
            "inner_seconds": time.perf_counter() - started,
            "decimal_type": str(decimal),
        }
    )


def parse_dags(sources_dir: Path) -> None:
    """Parse ``dags/`` as the DAG processor does: Airflow already imported, then the file."""
    import airflow.sdk  # noqa: F401 - the DAG processor has Airflow loaded before parsing

    os.environ["EXHUB_HOME"] = str(sources_dir.parent)
    started = time.perf_counter()
    namespace = runpy.run_path(str(config.REPO / "dags" / "exhub_sources.py"))
    seconds = time.perf_counter() - started
    from airflow.sdk import DAG

    dags = [v for v in namespace.values() if isinstance(v, DAG)]
    tasks = sum(len(d.tasks) for d in dags)
    write_result({"dags": len(dags), "tasks": tasks, "parse_seconds": seconds})


def _timed(fn, repeats: int) -> list[float]:
    fn()  # warm-up: file metadata and DuckDB's extension loading are in the OS cache after
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def query_latency(home: Path, repeats: int) -> None:
    """`exhub query` (the gateway in-process) against bare DuckDB ``read_parquet``."""
    os.environ["EXHUB_HOME"] = str(home)
    import duckdb

    from exhub.engine.hub import Hub
    from exhub.query import run_query
    from exhub.query.gateway import open_query_connection

    hub = Hub()
    contract = hub.contracts.get(f"{config.DATASET}@1")
    table = hub.iceberg.load_table(contract.iceberg_identifier)
    files = [t.file.file_path.removeprefix("file://") for t in table.scan().plan_files()]
    file_list = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    con = duckdb.connect()
    count = con.execute(f"SELECT count(*) FROM read_parquet({file_list})").fetchone()[0]
    # A key from the middle that no merge touched: bare DuckDB does not apply delete files, so
    # a key whose old version a delete file hides would give it one row more than exhub.
    key = con.execute(
        f"WITH middle AS (SELECT resident_id FROM read_parquet({file_list}) "
        f"LIMIT 1000 OFFSET {count // 2}) "
        f"SELECT resident_id FROM read_parquet({file_list}) "
        "WHERE resident_id IN (SELECT resident_id FROM middle) "
        "GROUP BY resident_id HAVING count(*) = 1 ORDER BY resident_id LIMIT 1"
    ).fetchone()[0]
    con.close()
    point = f"SELECT * FROM {config.DATASET} WHERE resident_id = '{key}'"
    group = (
        f"SELECT household_division, count(*) AS people FROM {config.DATASET} "
        "GROUP BY household_division ORDER BY household_division"
    )

    def bare(sql: str):
        def go():
            con = duckdb.connect(":memory:", config={"threads": 2})
            try:
                return con.sql(sql).to_arrow_table()
            finally:
                con.close()

        return go

    bare_point = point.replace(config.DATASET, f"read_parquet({file_list})", 1)
    bare_group = group.replace(config.DATASET, f"read_parquet({file_list})", 1)
    results = {}
    for name, exhub_sql, bare_sql in (
        ("point_lookup", point, bare_point),
        ("group_by_district", group, bare_group),
    ):
        exhub_rows = run_query(hub, exhub_sql, actor="exhub bench").num_rows
        bare_rows = bare(bare_sql)().num_rows
        if exhub_rows != bare_rows:
            raise RuntimeError(f"{name}: exhub returned {exhub_rows} rows, DuckDB {bare_rows}")
        exhub_times = _timed(
            lambda sql=exhub_sql: run_query(hub, sql, actor="exhub bench"), repeats
        )
        bare_times = _timed(bare(bare_sql), repeats)
        opens = _timed(lambda: open_query_connection(hub).close(), repeats)
        results[name] = {
            "rows": exhub_rows,
            "gateway_open_ms_median": round(statistics.median(opens) * 1000, 2),
            "exhub_ms": [round(t * 1000, 2) for t in exhub_times],
            "duckdb_ms": [round(t * 1000, 2) for t in bare_times],
            "exhub_ms_median": round(statistics.median(exhub_times) * 1000, 2),
            "duckdb_ms_median": round(statistics.median(bare_times) * 1000, 2),
        }
    results["files"] = len(files)
    results["key"] = key[:6] + "…"
    write_result(results)


def _sync_once(source: str, *, full: bool = True) -> None:
    from exhub.cli.main import run

    sys.argv = ["exhub", "sync", source, "--format", "json"] + (["--full-refresh"] if full else [])
    try:
        run()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise


def profile_sync(home: Path, source: str, top: int) -> None:
    """Where one full ``exhub sync`` spends CPU, by thread, then by function (cProfile)."""
    os.environ["EXHUB_HOME"] = str(home)
    # First run, no profiler: a fresh process's threads, Great Expectations' import included.
    threads_started = time.perf_counter()
    with ThreadCpu() as threads:
        _sync_once(source)
    threads_wall = time.perf_counter() - threads_started
    # Second run under cProfile, which sees the main thread only.
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    try:
        _sync_once(source)
    finally:
        profiler.disable()
    total = time.perf_counter() - started
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (file, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():
        where = file.replace(str(config.REPO) + "/", "")
        if "site-packages/" in where:
            where = where.split("site-packages/", 1)[1]
        elif where.startswith(STDLIB):
            where = "stdlib/" + where[len(STDLIB) :]
        rows.append(
            {
                "function": f"{where}:{line}({name})",
                "calls": calls,
                "self_s": round(tottime, 3),
                "cum_s": round(cumtime, 3),
            }
        )
    by_self = sorted(rows, key=lambda r: r["self_s"], reverse=True)[:top]
    ours = [r for r in rows if r["function"].startswith(("exhub/", "connectors/"))]
    by_cum = sorted(ours, key=lambda r: r["cum_s"], reverse=True)[:top]
    write_result(
        {
            "total_s": round(total, 3),
            "by_self": by_self,
            "exhub_by_cum": by_cum,
            "thread_cpu": threads.by_role(),
            "thread_wall_s": round(threads_wall, 3),
        }
    )


def start_floor() -> None:
    """Import what every sync process imports, one after the other, then stop.

    The CLI with the collector paused, the engine's stages, then Great Expectations on its
    prewarm thread: the fixed import cost of a fresh sync process. A sync pays the CLI's part
    before reading a row and imports the rest while it reads.
    """
    started = time.perf_counter()
    from exhub import gc_pause

    with gc_pause.paused():
        from exhub.cli.app import app  # noqa: F401 - the import is what is measured
    cli = time.perf_counter() - started
    with gc_pause.paused():
        import exhub.engine.stages
        import exhub.engine.sync  # noqa: F401
    engine = time.perf_counter() - started - cli
    from exhub.validate.gx_import import prewarm

    prewarm().join()
    write_result(
        {
            "cli_import_s": round(cli, 3),
            "engine_import_s": round(engine, 3),
            "total_s": round(time.perf_counter() - started, 3),
        }
    )


def legacy_tables(rows: int, small_rows: int, force: bool) -> None:
    """Generate (or reuse) the legacy tables here, so the suite's own process stays small.

    Linux reports a child's peak RSS as at least the parent's RSS when it was started: a
    suite grown by generating 5M rows would inflate every method's memory reading.
    """
    from dataclasses import asdict

    from bench import legacy

    table = legacy.generate(rows, force=force, log=lambda line: print(line, flush=True))
    legacy.make_small_table(small_rows)
    write_result(asdict(table))


def main(argv: list[str] | None = None) -> None:
    """Dispatch to one method."""
    parser = argparse.ArgumentParser(prog="python -m bench.children")
    sub = parser.add_subparsers(dest="method", required=True)
    p = sub.add_parser("adbc")
    p.add_argument("table")
    p.add_argument("out", type=Path)
    p = sub.add_parser("dlt")
    p.add_argument("backend", choices=["connectorx", "pyarrow", "sqlalchemy"])
    p.add_argument("table")
    p.add_argument("out", type=Path)
    p = sub.add_parser("dags")
    p.add_argument("sources_dir", type=Path)
    p = sub.add_parser("query")
    p.add_argument("home", type=Path)
    p.add_argument("--repeats", type=int, default=10)
    p = sub.add_parser("legacy")
    p.add_argument("rows", type=int)
    p.add_argument("small_rows", type=int)
    p.add_argument("--force", action="store_true")
    sub.add_parser("floor")
    p = sub.add_parser("profile")
    p.add_argument("home", type=Path)
    p.add_argument("source")
    p.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    if args.method == "adbc":
        adbc_to_parquet(args.table, args.out)
    elif args.method == "dlt":
        dlt_to_parquet(args.table, args.out, args.backend)
    elif args.method == "dags":
        parse_dags(args.sources_dir)
    elif args.method == "query":
        query_latency(args.home, args.repeats)
    elif args.method == "legacy":
        legacy_tables(args.rows, args.small_rows, args.force)
    elif args.method == "floor":
        start_floor()
    elif args.method == "profile":
        profile_sync(args.home, args.source, args.top)


if __name__ == "__main__":
    main()
