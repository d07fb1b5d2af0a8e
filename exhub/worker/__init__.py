"""A long-lived process that keeps exhub's stack imported, so a command starts warm.

A fresh ``exhub sync`` spends seconds importing pyarrow, pyiceberg, SQLAlchemy, pandas and
Great Expectations before it reads a row: more than an incremental sync of a 1% change
takes once they are loaded (docs/benchmarks.md). ``exhub worker`` imports them once and
listens on a Unix socket in the hub's home; the ``exhub`` command, when it finds the
socket, hands over its arguments, environment, working directory and its own stdin,
stdout and stderr, and the worker forks a child that runs the command with them. The child
starts with everything loaded and writes straight to the caller's terminal; the command
exits with the child's exit code. Without a worker, ``exhub`` runs in its own process as
before.

``client`` is what the command runs first: standard library only, so that asking costs
milliseconds. ``server`` is the worker; ``preload`` is what it (and an Airflow Celery
worker, see ``exhub.airflow.celery_config``) imports ahead.
"""
