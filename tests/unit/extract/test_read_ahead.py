"""The source is read on a thread one batch ahead; errors and early stops behave as in a loop."""

from __future__ import annotations

import threading

import pytest

from exhub.extract.read_ahead import read_ahead


def test_yields_every_item_in_order():
    assert list(read_ahead(iter(range(1000)), depth=1)) == list(range(1000))


def test_an_error_of_the_source_is_raised_after_the_items_before_it():
    def source():
        yield 1
        yield 2
        raise ConnectionError("source went away")

    seen = []
    with pytest.raises(ConnectionError, match="source went away"):
        for item in read_ahead(source()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_closes_the_source_on_its_thread_and_ends_the_producer():
    closed = threading.Event()

    def source():
        try:
            yield from range(1_000_000)
        finally:
            closed.set()

    reader = read_ahead(source(), depth=2, name="test-read-ahead")
    assert next(reader) == 0
    reader.close()
    assert closed.is_set()
    assert not any(t.name == "test-read-ahead" for t in threading.enumerate())


def test_the_producer_runs_at_most_depth_items_ahead():
    produced = []
    consumed = threading.Event()

    def source():
        for number in range(10):
            produced.append(number)
            yield number

    reader = read_ahead(source(), depth=1)
    assert next(reader) == 0
    consumed.wait(0.3)  # give the producer time to run ahead as far as it can
    # one item handed over, one waiting in the queue, one held by a producer blocked on put
    assert len(produced) <= 3
    assert list(reader) == list(range(1, 10))
