"""File connectors: folders of files dropped by legacy systems (CSV; more formats later)."""
