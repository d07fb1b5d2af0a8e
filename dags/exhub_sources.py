"""One DAG per source-system file in sources/ (see exhub/airflow/factory.py)."""

from exhub.airflow.factory import build_dags

globals().update(build_dags())
