"""The machine and software a run was measured on."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

import psutil

from bench import config

PACKAGES = (
    "pyarrow",
    "pyiceberg",
    "duckdb",
    "pandas",
    "sqlalchemy",
    "psycopg2-binary",
    "great-expectations",
    "apache-airflow",
    "adbc-driver-postgresql",
    "connectorx",
    "dlt",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _postgres_version() -> str:
    try:
        from bench.legacy import connect

        con = connect()
        try:
            with con.cursor() as cur:
                cur.execute("SHOW server_version")
                return cur.fetchone()[0]
        finally:
            con.close()
    except Exception as exc:  # the report still gets written
        return f"unknown ({type(exc).__name__})"


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=config.REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def git_state() -> dict:
    """Commit measured, and whether engine code differed from it."""
    dirty = _git("status", "--porcelain", "--", "exhub", "connectors", "shared_catalog", "dags")
    return {
        "commit": _git("rev-parse", "HEAD") or "unknown",
        "engine_uncommitted_changes": bool(dirty),
    }


def describe() -> dict:
    """CPU, cores, RAM, OS, Python, PostgreSQL and package versions."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": _cpu_model(),
        "cores_logical": psutil.cpu_count(logical=True),
        "cores_physical": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": _postgres_version(),
        "packages": versions,
    }
