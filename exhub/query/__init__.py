"""Query stage: DuckDB over published datasets."""

from exhub.query.gateway import check_select, open_query_connection, run_query

__all__ = ["check_select", "open_query_connection", "run_query"]
