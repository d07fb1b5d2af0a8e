"""A child's peak RSS is its own, however large the measuring process is."""

from __future__ import annotations

import sys

import pytest

from bench.measure import run_process

pytestmark = pytest.mark.unit


def test_a_small_child_of_a_large_parent_reads_small():
    ballast = b"\x01" * (400 * 2**20)  # pages really touched: the parent is ~400 MB bigger
    sample = run_process([sys.executable, "-c", "import time; time.sleep(0.3)"])
    assert len(ballast) and sample.peak_rss_mb < 100


def test_a_large_child_reads_large():
    grow = "import time; b = b'\\x01' * (300 * 2**20); time.sleep(0.3)"
    sample = run_process([sys.executable, "-c", grow])
    assert sample.peak_rss_mb > 300
