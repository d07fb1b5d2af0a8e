"""The only Airflow-aware package: the DAG factory and task callables."""
