"""Who is calling the portal or the API: the operator, an auditor, or a department.

Each principal has an access token, configured in ``serve_tokens`` as a reference to an
environment variable (never the token itself). The API takes it as ``Authorization: Bearer``;
the portal asks for it once and keeps the principal's name in a signed session cookie.
Tokens are compared by their SHA-256 digests in constant time and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from exhub.access.policy import known_department
from exhub.engine.hub import Hub
from exhub.errors import ConfigError
from exhub.sources.secrets import resolve_references

OPERATOR = "operator"
AUDITOR = "auditor"
ROLES = (OPERATOR, AUDITOR)


@dataclass(frozen=True)
class Principal:
    """The operator, an auditor, or a department (by its id)."""

    name: str

    @property
    def is_operator(self) -> bool:
        """The hub's operator: reads every dataset raw, as ``exhub query`` without --as."""
        return self.name == OPERATOR

    @property
    def is_auditor(self) -> bool:
        """An auditor (电子监察): reviews runs, quarantine and the audit log, reads no data."""
        return self.name == AUDITOR

    @property
    def department(self) -> str | None:
        """The department acting, None for the operator and auditors."""
        return None if self.name in ROLES else self.name

    @property
    def role(self) -> str:
        """operator, auditor or department."""
        return self.name if self.name in ROLES else "department"

    @property
    def user(self) -> str:
        """How audit entries name who acted."""
        return f"portal:{self.name}"

    def owns(self, hub: Hub, dataset: str) -> bool:
        """Whether this principal is the department owning ``dataset``."""
        record = hub.repository.get_dataset(dataset)
        return record is not None and record.owner_department_id == self.department


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class TokenBook:
    """The configured principals and the digests of their tokens.

    Raises:
        ConfigError: no tokens are configured, a referenced variable is unset or empty, two
            principals share a token, or a department is unknown.
    """

    def __init__(self, hub: Hub, environ: dict[str, str] | None = None) -> None:
        references = hub.settings.serve_tokens
        if not references:
            raise ConfigError(
                "no serve_tokens configured: nobody could sign in",
                fix="add to exhub.yaml: serve_tokens: {operator: ${EXHUB_TOKEN_OPERATOR}} and "
                "export EXHUB_TOKEN_OPERATOR",
            )
        environ = dict(os.environ) if environ is None else environ
        self._by_digest: dict[bytes, str] = {}
        for name, reference in references.items():
            token = resolve_references(reference, where=f"serve_tokens.{name}", environ=environ)
            if len(token) < 16:
                raise ConfigError(
                    f"serve_tokens.{name}: the token is shorter than 16 characters",
                    fix="use a long random token, e.g. `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'`",
                )
            if name not in ROLES:
                known_department(hub, name)
            digest = _digest(token)
            if digest in self._by_digest:
                raise ConfigError(
                    f"serve_tokens.{name} has the same token as {self._by_digest[digest]}",
                    fix="give every principal its own token",
                )
            self._by_digest[digest] = name

    def who(self, token: str | None) -> Principal | None:
        """The principal holding ``token``, or None."""
        if not token:
            return None
        digest = _digest(token)
        found = None
        for known, name in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                found = name
        return None if found is None else Principal(found)

    def named(self, name: str | None) -> Principal | None:
        """The principal called ``name`` if it is still configured (a session's holder)."""
        return Principal(name) if name in self._by_digest.values() else None
