"""What a command imports before it runs: the CLI and the engine's entry stay light.

Every `exhub` command imports the CLI; a sync then starts reading its source before the
validate and publish machinery (pyiceberg, DuckDB, the rule engine) and Great Expectations
are imported, so those imports run beside the extraction. A module-level import of any of
them in the CLI or the engine's entry puts them back in front of every command.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

HEAVY = (
    "pyiceberg",
    "duckdb",
    "great_expectations",
    "exhub.engine.stages",
    "exhub.engine.validating",
    "exhub.publish",
    "exhub.views",
    "exhub.query",
    "exhub.discover.propose",
)


def _loaded_after(statement: str) -> list[str]:
    probe = (
        f"import json, sys\n{statement}\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_cli_imports_no_command_machinery():
    assert _loaded_after("import exhub.cli.app") == []


def test_the_sync_entry_imports_only_the_extract_stage():
    assert _loaded_after("import exhub.engine.sync, exhub.cli.sync") == []


def test_the_probe_sees_a_heavy_import():
    loaded = set(_loaded_after("import exhub.engine.stages"))
    assert loaded >= {"pyiceberg", "duckdb", "exhub.engine.stages", "exhub.publish"}
