"""exhub's benchmark suite: exhub against dlt and the raw limit, in one run, on one machine.

``python -m bench`` (``make bench`` / ``make bench-quick``) generates a legacy PostgreSQL
person register, runs every method as its own process (warm-up, then several measured runs)
and writes ``docs/benchmarks.md`` and ``docs/benchmarks.json``. See ``bench/suite.py``.
"""
