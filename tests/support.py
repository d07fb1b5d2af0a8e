"""Helpers for tests that drive the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXHUB = [sys.executable, "-m", "exhub.cli.main"]


def run_exhub(
    *args: str, home: Path, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess:
    """Run the real ``exhub`` CLI in a subprocess."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EXHUB_")}
    environ.update({"EXHUB_HOME": str(home), "COLUMNS": "200", **(env or {})})
    result = subprocess.run(
        [*EXHUB, *args],
        cwd=home,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exhub {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result
