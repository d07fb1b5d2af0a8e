"""``exhub serve``: the portal and HTTP API (catalog, runs, quarantine, access, scorecards)."""

from exhub.serve.app import create_app

__all__ = ["create_app"]
