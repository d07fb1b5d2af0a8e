"""Options of the SQL connector, and the helpers that keep its password out of every message."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote, quote_plus, urlencode

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

_SENSITIVE_QUERY_KEYS = ("password", "passwd", "pwd", "secret", "token", "key")


class SqlOptions(BaseModel):
    """How to reach one legacy database.

    Attributes:
        url: SQLAlchemy URL, e.g. ``postgresql+psycopg2://user:pw@host:5432/db``,
            ``mysql+pymysql://user:pw@host:3306/db`` or ``sqlite:///path/to/file.db``.
            A secret: it never appears in ``repr``, logs or errors.
        schema_name: schema (PostgreSQL) or database (MySQL) holding the tables;
            written ``schema`` in a source file. ``None`` uses the connection's default.
        connect_timeout_seconds: give up connecting after this many seconds.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    url: SecretStr = Field(description="SQLAlchemy URL of the legacy database (a secret)")
    schema_name: str | None = Field(
        default=None, alias="schema", description="Schema holding the tables (default: the URL's)"
    )
    connect_timeout_seconds: int = Field(
        default=10, ge=1, le=600, description="Seconds to wait for a connection"
    )
    reader: Literal["auto", "sqlalchemy", "adbc"] = Field(
        default="auto",
        description="auto: Arrow-native ADBC for PostgreSQL when installed, SQLAlchemy otherwise",
    )

    @field_validator("url")
    @classmethod
    def _parseable(cls, value: SecretStr) -> SecretStr:
        try:
            make_url(value.get_secret_value())
        except ArgumentError:
            # Never echo the value: it holds the password.
            raise ValueError(
                "is not a SQLAlchemy URL; write it like "
                "postgresql+psycopg2://user:${PASSWORD}@host:5432/db or sqlite:///path.db"
            ) from None
        return value

    @property
    def sa_url(self) -> URL:
        """The parsed URL, password included: hand it only to ``create_engine``."""
        return make_url(self.url.get_secret_value())


def _is_sensitive(key: str) -> bool:
    return any(word in key.lower() for word in _SENSITIVE_QUERY_KEYS)


def safe_url(url: URL) -> str:
    """Render ``url`` for humans: password and password-like query values become ``***``."""
    text = url.set(query={}).render_as_string(hide_password=True)
    if not url.query:
        return text
    query = {k: ("***" if _is_sensitive(k) else v) for k, v in url.query.items()}
    return f"{text}?{urlencode(query, doseq=True, safe='*/')}"


def secret_forms(url: URL) -> list[str]:
    """Every spelling of the URL's secrets that could leak into a driver message."""
    secrets = [url.password] if url.password else []
    for key, value in url.query.items():
        if _is_sensitive(key):
            secrets.extend([value] if isinstance(value, str) else value)
    forms: list[str] = []
    for secret in secrets:
        text = str(secret)
        forms.extend({text, quote(text, safe=""), quote_plus(text)})
    # Longest first, so a form containing another is replaced whole.
    return sorted({f for f in forms if f}, key=len, reverse=True)


def scrub(text: str, url: URL) -> str:
    """Replace every spelling of the URL's secrets in ``text`` by ``***``."""
    for form in secret_forms(url):
        text = text.replace(form, "***")
    return text
