"""Read one endpoint of a JSON (or XML) REST service, page by page, as text columns.

Every record field is a text column (nested JSON values as compact JSON text); a batch's
columns are the keys seen so far in the read, in order of first appearance, so a schema only
grows (records lacking a key get null). Every row carries ``_source_position`` =
``"GET <path>?<since>=<watermark>&<page parameter>=<value>#<index>"`` (index 0-based in the
page's record list; the since parameter only when sent; for link paging the page's URL). An
item of the record list that is not an object is a reject, never dropped.

Incremental reads send the watermark (minus ``lookback_seconds`` when it is a date-time) in
``since_param`` and keep only records whose cursor text is at or after it, as the engine
compares cursor texts (ISO timestamps and zero-padded numbers order correctly).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from connectors.base import POSITION_COLUMN, Capability, Connector, ExtractBatch, ReadRequest
from connectors.files.batch import text_batch
from connectors.files.options import with_stream_options
from connectors.http.bodies import Body, json_text, parse_json, parse_xml, to_text
from connectors.http.client import Transport, target_of
from connectors.http.options import (
    CursorPagination,
    HttpOptions,
    LinkPagination,
    OffsetPagination,
    PagePagination,
)
from exhub.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass
class Page:
    """One page: where it came from (for positions) and its records."""

    target: str
    records: list[Any]


class HttpConnector(Connector):
    """Streams one endpoint (``source_object``, a path under ``base_url``) page by page.

    A stream may override ``records_path``, ``record_path``, ``pagination``, ``params``
    (replacing the source's), ``since_param`` and ``encoding``.
    """

    name: ClassVar[str] = "http"
    options_model: ClassVar[type[HttpOptions]] = HttpOptions
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.INCREMENTAL})
    stream_options: ClassVar[frozenset[str]] = frozenset(
        {"records_path", "record_path", "pagination", "params", "since_param", "encoding"}
    )

    options: HttpOptions

    def __init__(self, options: HttpOptions) -> None:
        super().__init__(options)
        self.transport = Transport(options)

    def describe(self) -> str:
        """Base URL, paging and body format; whether an auth header is set (never its value)."""
        options = self.options
        parts = [f"{options.pagination.style} paging", "XML" if options.is_xml else "JSON"]
        if options.auth_header is not None:
            parts.append(f"{options.auth_header_name} header set")
        return f"http {options.base_url} ({', '.join(parts)})"

    def check(self) -> None:
        """GET the base URL once: any answer but 401/403 shows the service is reachable.

        Raises:
            SourceUnreachableError: no answer (after the retries).
            ConfigError: the credentials were refused.
        """
        self.transport.get("", None, lambda response: None, strict=False)

    def close(self) -> None:
        """Close the HTTP client (idempotent)."""
        self.transport.close()

    def read_batches(self, request: ReadRequest) -> Iterator[ExtractBatch]:
        """Yield the endpoint's records in batches of at most ``request.batch_size``.

        Args:
            request: ``source_object`` is the endpoint path; ``cursor`` and ``watermark``
                select the records at or after the watermark; ``options`` are the stream's
                overrides.

        Yields:
            ExtractBatch: text columns plus ``_source_position``; non-object items as rejects.

        Raises:
            SourceUnreachableError: the service failed after the retries (retriable).
            ConfigError: credentials refused, unknown endpoint or a wrong option.
        """
        options = with_stream_options(
            self.options,
            request.options,
            self.stream_options,
            connector=self.name,
            stream=request.source_object,
        )
        endpoint = _endpoint(request.source_object)
        params = dict(options.params)
        lower = None
        since = ""
        if request.cursor and request.watermark:
            lower = lower_bound(request.watermark, request.lookback_seconds)
            if options.since_param:
                params[options.since_param] = lower
                since = f"{options.since_param}={quote(lower)}"
        batch = _Batch(request.batch_size)
        cursor_seen = False
        for page in self._pages(endpoint, params, options, since):
            for index, item in enumerate(page.records):
                position = f"{page.target}#{index}"
                if not isinstance(item, dict):
                    kind = "list" if isinstance(item, list) else type(item).__name__
                    batch.reject(
                        position, json_text(item), f"the record is a {kind}, not an object"
                    )
                else:
                    row = {str(k): to_text(v) for k, v in item.items()}
                    if request.cursor:
                        value = row.get(request.cursor)
                        cursor_seen = cursor_seen or value is not None
                        if lower is not None and (value is None or value < lower):
                            continue
                    batch.add(row, position)
                if batch.full:
                    yield batch.flush()
        if batch.pending:
            yield batch.flush()
        if request.cursor and batch.rows_seen and not cursor_seen:
            log.warning(
                "%s: no record has the cursor field %r: the watermark cannot advance",
                request.source_object,
                request.cursor,
            )

    # --- paging -------------------------------------------------------------------------

    def _pages(
        self, endpoint: str, params: dict[str, str], options: HttpOptions, since: str
    ) -> Iterator[Page]:
        """The pages of one read; ``since`` is the ``name=value`` positions show, if sent."""
        paging = options.pagination
        if isinstance(paging, PagePagination | OffsetPagination):
            yield from self._numbered(endpoint, params, options, paging, since)
        elif isinstance(paging, CursorPagination):
            yield from self._cursored(endpoint, params, options, paging, since)
        elif isinstance(paging, LinkPagination):
            yield from self._linked(endpoint, params, options, since)
        else:
            response, body = self._fetch(endpoint, params, options, {})
            yield Page(_target(response.request.url, since), body.records)

    def _numbered(
        self,
        endpoint: str,
        params: dict[str, str],
        options: HttpOptions,
        paging: PagePagination | OffsetPagination,
        since: str,
    ) -> Iterator[Page]:
        by_page = isinstance(paging, PagePagination)
        size = paging.size if isinstance(paging, PagePagination) else paging.limit
        number = paging.first_page if isinstance(paging, PagePagination) else 0
        extras = {"total": paging.total_path} if paging.total_path else {}
        fetched = 0
        while True:
            if isinstance(paging, PagePagination):
                name, sizes = paging.page_param, {paging.size_param: str(size)}
            else:
                name, sizes = paging.offset_param, {paging.limit_param: str(size)}
            query = {**params, name: str(number), **sizes}
            response, body = self._fetch(endpoint, query, options, extras)
            yield Page(_target(response.request.url, since, f"{name}={number}"), body.records)
            count = len(body.records)
            fetched += count
            total = _total(body, paging.total_path, target_of(response.request.url))
            if count == 0:
                if total is not None and fetched < total:
                    log.warning(
                        "%s: the service announced %d records but served %d",
                        endpoint,
                        total,
                        fetched,
                    )
                return
            if (total is not None and fetched >= total) or (total is None and count < size):
                return
            number = number + 1 if by_page else number + count

    def _cursored(
        self,
        endpoint: str,
        params: dict[str, str],
        options: HttpOptions,
        paging: CursorPagination,
        since: str,
    ) -> Iterator[Page]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            query = {**params, paging.cursor_param: cursor} if cursor is not None else params
            response, body = self._fetch(endpoint, query, options, {"next": paging.next_path})
            at = f"{paging.cursor_param}={quote(cursor)}" if cursor is not None else ""
            yield Page(_target(response.request.url, since, at), body.records)
            following = to_text(body.values.get("next"))
            if not following or following == cursor:
                return
            if following in seen:
                log.warning("%s: the service sent cursor %r again; stopping", endpoint, following)
                return
            seen.add(following)
            cursor = following

    def _linked(
        self, endpoint: str, params: dict[str, str], options: HttpOptions, since: str
    ) -> Iterator[Page]:
        base = httpx.URL(self.transport.client().base_url)
        url: str | httpx.URL = endpoint
        query: dict[str, str] | None = params
        seen: set[str] = set()
        while True:
            response, body = self._fetch(url, query, options, {})
            requested = response.request.url
            if query is None:  # a linked page: its URL says where it is
                linked = requested.query.decode("ascii", errors="backslashreplace")
                yield Page(_target(requested, linked), body.records)
            else:
                yield Page(_target(requested, since), body.records)
            link = response.links.get("next", {}).get("url")
            if not link:
                return
            following = requested.join(link)
            if (following.scheme, following.host, following.port) != (
                base.scheme,
                base.host,
                base.port,
            ):
                raise ConfigError(
                    f"{target_of(requested)}: the next page's link leaves {base.host}; "
                    "it is not followed (the auth header must not travel elsewhere)",
                    fix="set options.base_url to the host the service's links point to",
                    key="options.base_url",
                )
            if str(following) in seen:
                log.warning("%s: the service linked page %s again; stopping", endpoint, following)
                return
            seen.add(str(following))
            url, query = following, None

    def _fetch(
        self,
        url: str | httpx.URL,
        params: dict[str, str] | None,
        options: HttpOptions,
        extras: Mapping[str, str],
    ) -> tuple[httpx.Response, Body]:
        def parse(response: httpx.Response) -> Body:
            where = target_of(response.request.url)
            if options.record_path is not None:
                return parse_xml(
                    response.content,
                    options.encoding,
                    options.record_path,
                    extras,
                    where=where,
                    header_charset=response.charset_encoding,
                )
            charset = options.encoding or response.charset_encoding
            return parse_json(response.content, charset, options.records_path, extras, where=where)

        return self.transport.get(url, params, parse)


def _endpoint(source_object: str) -> str:
    """The stream's endpoint, checked to be a path under the base URL."""
    try:
        url = httpx.URL(source_object)
    except httpx.InvalidURL:
        url = None
    if url is None or url.is_absolute_url or source_object.startswith("//"):
        raise ConfigError(
            f"source_object '{source_object}' is not a path under the base URL",
            fix="write the endpoint's path, e.g. 'api/persons'; the host goes in options.base_url",
            key="source_object",
        )
    return source_object


def _target(url: httpx.URL, *query: str) -> str:
    """``GET <path>?<query parts>`` of a page, for positions."""
    parts = "&".join(part for part in query if part)
    return f"GET {url.path}" + (f"?{parts}" if parts else "")


def _total(body: Body, path: str | None, where: str) -> int | None:
    if path is None:
        return None
    text = to_text(body.values.get("total"))
    try:
        return int(str(text).strip())
    except ValueError:
        raise ConfigError(
            f"{where}: total_path '{path}' does not lead to a whole number in the body",
            fix="fix options.pagination.total_path, or remove it to stop at a short page",
            key="options.pagination.total_path",
        ) from None


def lower_bound(watermark: str, lookback_seconds: int) -> str:
    """The watermark moved back by ``lookback_seconds``, in the watermark's own shape.

    Args:
        watermark: the last published cursor text.
        lookback_seconds: how far back to start; applies to ISO dates and date-times only.

    Returns:
        str: the text to send and compare with.
    """
    if not lookback_seconds:
        return watermark
    text = watermark.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        log.warning("lookback ignored: the watermark %r is not an ISO date-time", watermark)
        return watermark
    earlier = moment - timedelta(seconds=lookback_seconds)
    if len(text) == 10:  # a date
        return earlier.date().isoformat()
    return earlier.isoformat(sep="T" if "T" in text else " ")


@dataclass
class _Batch:
    """Rows of one batch; the columns (keys seen so far in the read) outlive a flush."""

    size: int
    columns: dict[str, None] = field(default_factory=dict)
    rows: list[dict[str, str | None]] = field(default_factory=list)
    positions: list[str] = field(default_factory=list)
    rejects: list[tuple[str, str, str]] = field(default_factory=list)
    rows_seen: int = 0

    def add(self, row: dict[str, str | None], position: str) -> None:
        if POSITION_COLUMN in row:
            row[f"{POSITION_COLUMN}_2"] = row.pop(POSITION_COLUMN)
        for key in row:
            self.columns.setdefault(key)
        self.rows.append(row)
        self.positions.append(position)
        self.rows_seen += 1

    def reject(self, position: str, raw: str, reason: str) -> None:
        self.rejects.append((position, raw, reason))

    @property
    def pending(self) -> int:
        return len(self.rows) + len(self.rejects)

    @property
    def full(self) -> bool:
        return self.pending >= self.size

    def flush(self) -> ExtractBatch:
        names = list(self.columns)
        values = [[row.get(name) for row in self.rows] for name in names]
        batch = text_batch(names, values, self.positions, self.rejects)
        self.rows, self.positions, self.rejects = [], [], []
        return batch
