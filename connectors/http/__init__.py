"""HTTP connector: JSON (and XML) REST services of legacy systems, page by page."""

from connectors.http.connector import HttpConnector
from connectors.http.options import HttpOptions

__all__ = ["HttpConnector", "HttpOptions"]
