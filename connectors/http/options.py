"""Options of the HTTP connector: one JSON (or XML) REST service, its auth, paging and limits."""

from __future__ import annotations

import codecs
from typing import Annotated, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NoPagination(_Frozen):
    """One request returns every record."""

    style: Literal["none"] = "none"


class PagePagination(_Frozen):
    """``?page=1&page_size=100``, then page 2, ... until a short page or ``total``.

    Attributes:
        page_param: query parameter of the page number.
        size_param: query parameter of the page size.
        size: records asked per page; must not exceed the server's cap (a capped page is
            taken as the last one, unless ``total_path`` is given).
        first_page: number of the first page (0 or 1).
        total_path: where the body gives the total number of records (optional).
    """

    style: Literal["page"]
    page_param: str = "page"
    size_param: str = "page_size"
    size: int = Field(default=100, ge=1, le=100_000)
    first_page: int = Field(default=1, ge=0)
    total_path: str | None = None


class OffsetPagination(_Frozen):
    """``?offset=0&limit=100``, then offset 100, ... until a short page or ``total``.

    Attributes:
        offset_param: query parameter of the offset.
        limit_param: query parameter of the page size.
        limit: records asked per page (see ``PagePagination.size``).
        total_path: where the body gives the total number of records (optional).
    """

    style: Literal["offset"]
    offset_param: str = "offset"
    limit_param: str = "limit"
    limit: int = Field(default=100, ge=1, le=100_000)
    total_path: str | None = None


class CursorPagination(_Frozen):
    """The body names the next page's cursor; it is sent back as ``?cursor=...``.

    Attributes:
        cursor_param: query parameter carrying the cursor.
        next_path: where the body gives the next cursor; absent, null or empty ends the read.
    """

    style: Literal["cursor"]
    cursor_param: str = "cursor"
    next_path: str = Field(min_length=1)


class LinkPagination(_Frozen):
    """The ``Link: <...>; rel="next"`` response header (RFC 8288) gives the next page."""

    style: Literal["link"]


Pagination = Annotated[
    NoPagination | PagePagination | OffsetPagination | CursorPagination | LinkPagination,
    Field(discriminator="style"),
]


class HttpOptions(_Frozen):
    """How to reach one REST service of a legacy system.

    Paths into a body are dotted for JSON (``data.list``; a number indexes a list) and
    slash-separated element names for XML (``Body/Persons/Person``, relative to the root
    element, namespaces ignored).

    Attributes:
        base_url: ``http(s)://host[:port]/prefix``; a stream's ``source_object`` is a path
            under it. No credentials or query here (use ``auth_header`` and ``params``).
        auth_header: value of the auth header, e.g. ``Bearer ${TOKEN}`` (a secret).
        auth_header_name: the header carrying it.
        params: query parameters sent with every request (not secrets).
        records_path: where a JSON body holds the list of records (default: the body is it).
        record_path: where an XML body holds the record elements; setting it means XML.
        pagination: how pages follow one another (``style``: none, page, offset, cursor,
            link).
        since_param: query parameter receiving the watermark on incremental reads.
        encoding: the bodies' encoding when the service declares it wrongly or not at all.
        timeout_seconds: give up on one request after this long (connect or read).
        max_retries: retries of one request after a 429, a 5xx, a timeout or a lost connection.
        backoff_seconds: first wait before a retry; doubled each time.
        max_backoff_seconds: longest wait between retries.
        max_retry_after_seconds: longest ``Retry-After`` honoured; beyond it the read fails
            (retriable) instead of sleeping.
        max_requests_per_second: rate limit of this connector's requests (None: no limit).
    """

    base_url: str = Field(description="Base URL of the service")
    auth_header: SecretStr | None = Field(default=None, description="Auth header value (secret)")
    auth_header_name: str = Field(default="Authorization", description="Auth header name")
    params: dict[str, str] = Field(default_factory=dict, description="Query sent every time")
    records_path: str | None = Field(default=None, min_length=1)
    record_path: str | None = Field(default=None, min_length=1)
    pagination: Pagination = Field(default_factory=NoPagination)
    since_param: str | None = Field(default=None, min_length=1)
    encoding: str | None = None
    timeout_seconds: float = Field(default=30, gt=0, le=600)
    max_retries: int = Field(default=5, ge=0, le=20)
    backoff_seconds: float = Field(default=1, ge=0, le=600)
    max_backoff_seconds: float = Field(default=60, ge=0, le=3600)
    max_retry_after_seconds: float = Field(default=300, ge=0, le=3600)
    max_requests_per_second: float | None = Field(default=None, gt=0)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        # Messages never echo the value: a URL with credentials would leak them.
        try:
            url = httpx.URL(value)
        except (httpx.InvalidURL, TypeError):
            raise ValueError("is not a URL; write it like https://host:8080/api/") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("must be an http:// or https:// URL with a host")
        if url.userinfo:
            raise ValueError("must not hold credentials; put them in auth_header")
        if url.query or url.fragment:
            raise ValueError("must not hold a query or fragment; put parameters in params")
        return value

    @field_validator("auth_header")
    @classmethod
    def _header_value(cls, value: SecretStr | None) -> SecretStr | None:
        text = value.get_secret_value() if value else ""
        if value is not None and (
            not text or not text.isascii() or any(c in text for c in "\r\n\0")
        ):
            raise ValueError(
                "must be non-empty printable ASCII on one line; check the secret reference"
            )
        return value

    @field_validator("auth_header_name")
    @classmethod
    def _header_name(cls, value: str) -> str:
        if not value or not set(value) <= _TOKEN_CHARS:
            raise ValueError("is not an HTTP header name (e.g. Authorization or X-Token)")
        return value

    @field_validator("encoding")
    @classmethod
    def _codec(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError("is not an encoding Python knows (e.g. utf-8, gbk)") from None
        return value

    @model_validator(mode="after")
    def _one_body_format(self) -> HttpOptions:
        if self.records_path and self.record_path:
            raise ValueError(
                "give records_path (JSON bodies) or record_path (XML bodies), not both"
            )
        return self

    @property
    def is_xml(self) -> bool:
        """Whether the bodies are XML (``record_path`` given)."""
        return self.record_path is not None
