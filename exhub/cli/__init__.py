"""The ``exhub`` command line: one module per command group."""
