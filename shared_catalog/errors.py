"""Errors raised by the catalog.

The catalog sits below the engine, so it does not import ``exhub.errors``; like those errors,
a :class:`CatalogError` carries its context as attributes and says how to fix the problem.
"""

from __future__ import annotations

from typing import Any


class CatalogError(Exception):
    """The catalog refused an operation: unknown record, conflicting data or bad value.

    Attributes:
        message: What went wrong, naming the record concerned.
        fix: How to fix it, when known.
        context: Further details (dataset, version, run id, ...), also set as attributes.
    """

    def __init__(self, message: str, *, fix: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.context = context
        for key, value in context.items():
            setattr(self, key, value)

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message}\n  fix: {self.fix}"
        return self.message
