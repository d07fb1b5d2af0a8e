"""The ``exhub`` command line: one module per command group.

Every ``exhub`` command imports all of these modules, so each imports its machinery (views,
the query gateway, pyiceberg, DuckDB...) inside its command functions: a module-level import
here would be paid by every command before it starts, and by a sync before it reads a row
(``tests/unit/test_start_up_imports.py`` holds this).
"""
