"""``log_level`` below WARNING shows exhub's records where nothing else configured logging."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

SCRIPT = """
import logging, sys
from pathlib import Path
from exhub.engine.hub import Hub
from exhub.settings import load_settings
Hub(load_settings(Path(sys.argv[1])))
Hub(load_settings(Path(sys.argv[1])))  # a second hub in the process adds no second handler
logging.getLogger("exhub.probe").info("seen at info")
logging.getLogger("exhub.probe").warning("a warning")
logging.getLogger("other.library").info("not exhub's")
"""


@pytest.mark.parametrize("level", ["INFO", "WARNING"])
def test_exhub_records_reach_stderr_at_the_configured_level(tmp_path, level, monkeypatch):
    monkeypatch.setenv("EXHUB_LOG_LEVEL", level)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    if level == "INFO":
        assert done.stderr.splitlines() == [
            "INFO exhub.probe: seen at info",
            "WARNING exhub.probe: a warning",
        ]
    else:  # Python's own last resort: warnings only, as before
        assert done.stderr.splitlines() == ["a warning"]
