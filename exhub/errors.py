"""Error roots shared by every stage.

Three roots decide what happens next, as in the Singer SDK:

* ``RetriableError``: the same call may succeed later (source down, commit conflict).
  Airflow retries it with backoff.
* ``TerminalError``: retrying cannot help (bad config, failed quality gate). Fail fast.
* ``SkippableError``: one record or file is bad; it goes to quarantine and the run goes on.

Every error carries context as attributes (file, key, rule, ...) and a ``fix`` hint, and
maps to a CLI exit code (SPEC §5): 0 ok, 1 data gate failed, 2 usage/config, 3 unreachable.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_DATA_GATE = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class ExhubError(Exception):
    """Base of every exhub error: a message, context attributes and how to fix it."""

    exit_code: int = EXIT_USAGE
    http_status: int = 400  # what the HTTP API answers (exhub serve)

    def __init__(self, message: str, *, fix: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.context = context
        for key, value in context.items():
            setattr(self, key, value)

    def __str__(self) -> str:
        text = self.message
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class RetriableError(ExhubError):
    """The operation may succeed if tried again later."""


class TerminalError(ExhubError):
    """Retrying cannot help; a person has to change something."""


class SkippableError(ExhubError):
    """One record or file is bad; it is quarantined and the run continues."""


class ConfigError(TerminalError):
    """A configuration file or value is wrong. Names the file, key/line and a fix."""

    exit_code = EXIT_USAGE


class NotFoundError(ConfigError):
    """A dataset, run or request the hub does not know, or not one the caller may see."""

    http_status = 404


class PermissionDeniedError(ConfigError):
    """The caller may not do this (only a dataset's owner answers its requests)."""

    http_status = 403


class ConflictError(ConfigError):
    """The thing is no longer in the state the act needs (a request already answered)."""

    http_status = 409


class SourceUnreachableError(RetriableError):
    """The legacy system could not be reached (refused, timed out, DNS)."""

    exit_code = EXIT_UNREACHABLE


class CommitConflictError(RetriableError):
    """Another publisher committed first; the commit is retried on the new state."""

    exit_code = EXIT_DATA_GATE


class GateFailedError(TerminalError):
    """A dataset rule failed: nothing was published."""

    exit_code = EXIT_DATA_GATE


class QueryError(TerminalError):
    """A query was refused or failed."""

    exit_code = EXIT_USAGE


class AuditLogBrokenError(TerminalError):
    """The audit log's hash chain does not verify: an entry was changed or removed."""

    exit_code = EXIT_DATA_GATE
