"""GET with retries, backoff, ``Retry-After`` and a rate limit; HTTP failures as exhub errors.

A 429, a 5xx (or 408), a timeout, a lost connection or a garbled body is retried with
exponential backoff (tenacity), waiting what ``Retry-After`` asks when the service says so;
once the retries are spent the read fails with ``SourceUnreachableError`` (Airflow retries
the task later). 401/403 (credentials), 404 (endpoint), redirects and other 4xx are
``ConfigError``: retrying cannot help. Redirects are not followed, so the auth header never
travels to another host. No message ever holds the auth header's value.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import quote, quote_plus

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from connectors.http.bodies import MalformedBody
from connectors.http.options import HttpOptions
from exhub.errors import ConfigError, SourceUnreachableError

log = logging.getLogger(__name__)

T = TypeVar("T")

_SNIPPET = 200
_RETRIED_STATUS = frozenset({408, 429})


class _Transient(Exception):
    """One attempt failed in a way a later attempt may not."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delay-seconds or an HTTP date).

    Args:
        value: the header, or None.
        now: the current time (for an HTTP date); default now.

    Returns:
        float | None: seconds (0 for a date in the past), or None when absent or unreadable.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def target_of(url: httpx.URL) -> str:
    """``GET /path?query`` of a request, for messages."""
    query = url.query.decode("ascii", errors="backslashreplace")
    return f"GET {url.path}" + (f"?{query}" if query else "")


class Transport:
    """One service's HTTP client: lazily opened, closed by ``close``, safe to reopen.

    Attributes:
        sleep: how to wait (between retries and for the rate limit).
    """

    def __init__(self, options: HttpOptions, sleep: Callable[[float], None] = time.sleep) -> None:
        self.options = options
        self.sleep = sleep
        self._client: httpx.Client | None = None
        self._next_slot = 0.0
        self._secrets = _secret_forms(options)

    def client(self) -> httpx.Client:
        """The open client (created on first use)."""
        if self._client is None:
            headers = {"Accept": "application/xml" if self.options.is_xml else "application/json"}
            if self.options.auth_header is not None:
                headers[self.options.auth_header_name] = self.options.auth_header.get_secret_value()
            self._client = httpx.Client(
                base_url=self.options.base_url,
                headers=headers,
                timeout=self.options.timeout_seconds,
                follow_redirects=False,
            )
        return self._client

    def close(self) -> None:
        """Close the client (idempotent; a later request opens a new one)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def scrub(self, text: str) -> str:
        """``text`` with every spelling of the auth header's value replaced by ``***``."""
        for form in self._secrets:
            text = text.replace(form, "***")
        return text

    def get(
        self,
        url: str | httpx.URL,
        params: dict[str, str] | None,
        parse: Callable[[httpx.Response], T],
        *,
        strict: bool = True,
    ) -> tuple[httpx.Response, T]:
        """GET ``url`` (relative to the base URL) and parse the answer, retrying transients.

        Args:
            url: path under the base URL, or an absolute URL on the same origin.
            params: query parameters (merged into the URL's).
            parse: turns the response into a value; raising ``MalformedBody`` retries.
            strict: when False (a connectivity check), 404 and other 4xx are accepted.

        Returns:
            tuple[httpx.Response, T]: the response and what ``parse`` made of it.

        Raises:
            SourceUnreachableError: still failing after the retries, or asked to wait longer
                than ``max_retry_after_seconds``.
            ConfigError: credentials refused, endpoint missing, redirect or another 4xx.
        """
        request = self.client().build_request("GET", url, params=params)
        target = target_of(request.url)
        options = self.options
        backoff = wait_exponential(
            multiplier=options.backoff_seconds, max=options.max_backoff_seconds
        )

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.retry_after is not None:
                return exc.retry_after
            return float(backoff(state))

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            pause = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "%s: %s; retry %d of %d in %.1f s",
                target,
                getattr(exc, "detail", exc),
                state.attempt_number,
                options.max_retries,
                pause,
            )

        retrying = Retrying(
            stop=stop_after_attempt(options.max_retries + 1),
            wait=wait,
            retry=retry_if_exception_type(_Transient),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self._send(request, target, strict=strict)
                    try:
                        return response, parse(response)
                    except MalformedBody as exc:
                        raise _Transient(self.scrub(str(exc))) from None
        except _Transient as exc:
            attempts = options.max_retries + 1
            raise SourceUnreachableError(
                f"cannot read {target} from {_origin(request.url)}: {exc.detail} "
                f"(gave up after {attempts} attempt{'s' if attempts > 1 else ''})",
                fix="check that the service is up and reachable from this host; "
                "the run is retried later (options.max_retries, timeout_seconds tune this)",
                source=_origin(request.url),
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _send(self, request: httpx.Request, target: str, *, strict: bool) -> httpx.Response:
        self._throttle()
        try:
            response = self.client().send(request)
        except httpx.TimeoutException:
            raise _Transient(f"no answer within {self.options.timeout_seconds:g} s") from None
        except httpx.TransportError as exc:
            detail = self.scrub(str(exc)) or type(exc).__name__
            raise _Transient(f"{type(exc).__name__}: {detail}") from None
        status = response.status_code
        if status in _RETRIED_STATUS or status >= 500:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is not None and wait > self.options.max_retry_after_seconds:
                raise SourceUnreachableError(
                    f"{target}: HTTP {status}, the service asks to retry after {wait:.0f} s "
                    f"(more than max_retry_after_seconds {self.options.max_retry_after_seconds:g})",
                    fix="the run is retried later; raise options.max_retry_after_seconds to wait",
                    source=_origin(request.url),
                )
            raise _Transient(f"HTTP {status} {response.reason_phrase}".rstrip(), wait)
        if status in (401, 403):
            raise ConfigError(
                f"{target}: the service refused the credentials (HTTP {status})",
                fix=f"check options.auth_header (its secret reference) and "
                f"options.auth_header_name ('{self.options.auth_header_name}'), and that the "
                "account may read this endpoint",
                key="options.auth_header",
            )
        if 300 <= status < 400:
            location = httpx.URL(response.headers.get("Location", ""))
            moved = location.copy_with(query=None, fragment=None) if location.host else location
            raise ConfigError(
                f"{target}: the service redirects (HTTP {status}) to {moved.path or '?'} on "
                f"{_origin(request.url.join(location))}; redirects are not followed",
                fix="set options.base_url (or the stream's source_object) to the new location",
                key="options.base_url",
            )
        if status == 404 and strict:
            raise ConfigError(
                f"{target}: no such endpoint on {_origin(request.url)} (HTTP 404)",
                fix="check the stream's source_object (the endpoint path) and options.base_url",
                key="source_object",
            )
        if status >= 400 and strict:
            raise ConfigError(
                f"{target}: the service refused the request (HTTP {status}): "
                f"{self._snippet(response)}",
                fix="check the stream's params, since_param and pagination options",
                key="options.params",
            )
        return response

    def _snippet(self, response: httpx.Response) -> str:
        text = response.content[: _SNIPPET * 4].decode("utf-8", errors="backslashreplace")
        text = " ".join(self.scrub(text).split())
        return text[:_SNIPPET] + ("…" if len(text) > _SNIPPET else "")

    def _throttle(self) -> None:
        rate = self.options.max_requests_per_second
        if not rate:
            return
        now = time.monotonic()
        if self._next_slot > now:
            self.sleep(self._next_slot - now)
        self._next_slot = max(now, self._next_slot) + 1.0 / rate


def _origin(url: httpx.URL) -> str:
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


def _secret_forms(options: HttpOptions) -> list[str]:
    """The auth header's value and its token, as written and URL-quoted, longest first."""
    if options.auth_header is None:
        return []
    value = options.auth_header.get_secret_value()
    words = value.split()
    parts = [value, *(words[1:] if len(words) > 1 else [])]
    forms = {f for part in parts for f in (part, quote(part, safe=""), quote_plus(part)) if f}
    return sorted(forms, key=len, reverse=True)
