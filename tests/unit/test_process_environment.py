"""What importing exhub sets up for every process: no analytics, no idle BLAS threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

PROBE = """
import json, os
import exhub
import numpy  # noqa: F401
print(json.dumps({
    "threads": len(os.listdir("/proc/self/task")),
    "gx": os.environ["GX_ANALYTICS_ENABLED"],
    "scarf": os.environ["SCARF_ANALYTICS"],
    "dnt": os.environ["DO_NOT_TRACK"],
    "blas": os.environ["OPENBLAS_NUM_THREADS"],
}))
"""


def _probe(env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_exhub_turns_analytics_off_and_starts_no_blas_threads():
    ours = ("OPENBLAS_NUM_THREADS", "GX_ANALYTICS_ENABLED", "SCARF_ANALYTICS", "DO_NOT_TRACK")
    seen = _probe({k: v for k, v in os.environ.items() if k not in ours})
    assert seen == {"threads": 1, "gx": "False", "scarf": "false", "dnt": "1", "blas": "1"}


def test_an_operator_setting_wins():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2", DO_NOT_TRACK="0")
    seen = _probe(env)
    assert (seen["blas"], seen["dnt"]) == ("2", "0")
