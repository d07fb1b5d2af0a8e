"""Example consumer: a DAG that runs whenever the person dataset is published (its Asset)."""

from exhub.airflow.factory import build_consumer_dag

exhub_consume_person = build_consumer_dag("person")
