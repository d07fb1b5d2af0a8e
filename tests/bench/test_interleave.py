"""The full reads take turns run by run, after every method's warm-up."""

from __future__ import annotations

import pytest

from bench.measure import Sample, interleave

pytestmark = pytest.mark.unit


def test_methods_take_turns_and_each_keeps_its_own_samples():
    calls: list[tuple[str, int]] = []

    def method(name: str, seconds: float):
        def once(index: int) -> Sample:
            calls.append((name, index))
            return Sample(seconds=seconds + index, peak_rss_mb=1)

        return once

    measured = interleave(
        {"a": (10, method("a", 1.0)), "b": (None, method("b", 5.0))},
        runs=2,
        warmup=1,
        log=lambda _: None,
    )
    assert calls == [("a", -1), ("b", -1), ("a", 0), ("b", 0), ("a", 1), ("b", 1)]
    assert [(m.method, m.rows, m.seconds, m.warmup) for m in measured] == [
        ("a", 10, [1.0, 2.0], 1),
        ("b", None, [5.0, 6.0], 1),
    ]
