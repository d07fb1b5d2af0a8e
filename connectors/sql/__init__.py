"""The SQL connector: one table of a legacy relational database, streamed as Arrow batches."""

from connectors.sql.connector import SqlConnector
from connectors.sql.options import SqlOptions

__all__ = ["SqlConnector", "SqlOptions"]
