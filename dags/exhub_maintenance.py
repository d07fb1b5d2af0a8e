"""Nightly `exhub maintain`: expire snapshots, compact small files, remove orphan files."""

from exhub.airflow.factory import build_maintenance_dag

exhub_maintenance = build_maintenance_dag()
