"""The HTTP connector against a real local HTTP server run in a thread of the test process.

The server plays a legacy REST service: persons paged in every style, a GBK XML service,
scripted failures (500, 429 with Retry-After, an answer slower than the timeout), and error
pages that echo the request's auth header, so that scrubbing is tested for real.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import pytest

from connectors.base import POSITION_COLUMN, Capability, ReadRequest
from connectors.http import HttpConnector
from connectors.http.client import retry_after_seconds
from connectors.http.connector import lower_bound
from connectors.registry import load_connector
from connectors.testing import (
    ConnectorBehaviour,
    ErrorCase,
    SecretCase,
    read_all,
    records_of,
    rejects_of,
    secret_forms,
)
from exhub.errors import ConfigError, SourceUnreachableError

pytestmark = pytest.mark.unit

TOKEN = "s3cr3t@%/tok=en"
"""The token behind ``${TOKEN}``: needs URL-encoding, must never appear anywhere."""

NAMES = ["张三", "李四", "王五", "赵六", "钱七", "孙八", "周九", "吴十", "郑一", "王䶮"]
PERSONS = [
    {
        "id": i,
        "name": name,
        "updated_at": f"2024-03-{i:02d} 08:00:00",
        "address": {"city": "合肥", "district": "蜀山区"},
        "active": i % 2 == 0,
    }
    for i, name in enumerate(NAMES, start=1)
]


def as_text(person: dict[str, Any]) -> dict[str, str]:
    """A person as the connector must return it."""
    return {
        "id": str(person["id"]),
        "name": person["name"],
        "updated_at": person["updated_at"],
        "address": json.dumps(person["address"], ensure_ascii=False, separators=(",", ":")),
        "active": "true" if person["active"] else "false",
    }


@dataclass
class Legacy:
    """The server's state: what it serves and what it was asked."""

    script: list[str] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_action(self) -> str | None:
        with self.lock:
            return self.script.pop(0) if self.script else None


class Handler(BaseHTTPRequestHandler):
    server: LegacyServer

    def log_message(self, format: str, *args: Any) -> None:  # silence the access log
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        legacy = self.server.legacy
        with legacy.lock:
            legacy.requests.append((url.path, query, dict(self.headers)))
        action = legacy.next_action()
        if action == "500":
            return self.send(500, b"Internal Server Error", "text/plain")
        if action and action.startswith("429"):
            return self.send(429, b"slow down", "text/plain", {"Retry-After": action[4:]})
        if action == "slow":
            time.sleep(1.5)
        if action == "html":
            return self.send(200, b"<html>gateway busy</html>", "text/html")
        auth = self.headers.get("Authorization", "")
        if url.path.startswith("/api/admin"):
            return self.send(403, f"forbidden for {auth}".encode(), "text/plain")
        if url.path.startswith("/api/") and auth != f"Bearer {TOKEN}":
            return self.send(401, f"bad credentials: {auth}".encode(), "text/plain")
        route = getattr(self, "route_" + url.path.removeprefix("/api/").replace("/", "_"), None)
        if route is None:
            return self.send(404, b"not found", "text/plain")
        return route(query)

    def send(
        self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def json(self, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self.send(200, body, "application/json; charset=utf-8", headers)

    @staticmethod
    def persons(query: dict[str, str]) -> list[dict[str, Any]]:
        since = query.get("since", "")
        return sorted(
            (p for p in PERSONS if p["updated_at"] >= since), key=lambda p: p["updated_at"]
        )

    # --- routes ---------------------------------------------------------------------

    def route_persons_page(self, query: dict[str, str]) -> None:
        rows = self.persons(query)
        page, size = int(query.get("page", 1)), int(query.get("page_size", 10))
        chunk = rows[(page - 1) * size : page * size]
        self.json({"code": 0, "data": {"total": len(rows), "list": chunk}})

    def route_persons_offset(self, query: dict[str, str]) -> None:
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 10))
        self.json({"rows": self.persons(query)[offset : offset + limit]})

    def route_persons_cursor(self, query: dict[str, str]) -> None:
        rows = self.persons(query)
        start = int(query.get("cursor", "c0")[1:])
        following = f"c{start + 4}" if start + 4 < len(rows) else None
        self.json({"items": rows[start : start + 4], "paging": {"next": following}})

    def route_persons_link(self, query: dict[str, str]) -> None:
        rows = self.persons(query)
        page = int(query.get("p", 1))
        headers = {}
        if page * 3 < len(rows):
            headers["Link"] = f'</api/persons/link?p={page + 1}>; rel="next"'
        self.json(rows[(page - 1) * 3 : page * 3], headers)

    def route_persons_foreign(self, query: dict[str, str]) -> None:
        self.json(PERSONS[:1], {"Link": '<http://elsewhere.example/api/persons?p=2>; rel="next"'})

    def route_persons_all(self, query: dict[str, str]) -> None:
        self.json(self.persons(query))

    def route_persons_xml(self, query: dict[str, str]) -> None:
        page, size = int(query.get("page", 1)), int(query.get("page_size", 10))
        rows = PERSONS[(page - 1) * size : page * size]
        items = "".join(
            f'<ns:Person id="{p["id"]}"><ns:Name>{p["name"]}</ns:Name>'
            f"<ns:UpdatedAt>{p['updated_at']}</ns:UpdatedAt><ns:Mobile/>"
            f'<ns:Note xsi:nil="true"/><ns:Tel>1</ns:Tel><ns:Tel>2</ns:Tel></ns:Person>'
            for p in rows
        )
        xml = (
            '<?xml version="1.0" encoding="GB18030"?>'
            '<ns:Response xmlns:ns="urn:hefei:hj" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<ns:Total>{len(PERSONS)}</ns:Total><ns:Persons>{items}</ns:Persons></ns:Response>"
        )
        self.send(200, xml.encode("gb18030"), "text/xml")

    def route_raw(self, query: dict[str, str]) -> None:
        body = '{"data": [{"amount": 1.50, "big": 12345678901234567890.12, "n": null}, 7]}'
        self.send(200, body.encode(), "application/json")

    def route_gbk(self, query: dict[str, str]) -> None:
        body = json.dumps([{"name": "张三"}], ensure_ascii=False).encode("gbk")
        self.send(200, body, "application/json")

    def route_varied(self, query: dict[str, str]) -> None:
        self.json([{"a": 1}, {"b": 2}, {"a": 3, "c": [1, 2]}])

    def route_echo(self, query: dict[str, str]) -> None:
        auth = self.headers.get("Authorization", "")
        self.send(400, f"bad request, you sent {auth}".encode(), "text/plain")

    def route_moved(self, query: dict[str, str]) -> None:
        self.send(302, b"", "text/plain", {"Location": "https://new.example/api/persons?k=1"})


class LegacyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.legacy = Legacy()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client gave up on a slow answer: a broken pipe is expected

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api"


@pytest.fixture(scope="module")
def legacy_server() -> Iterator[LegacyServer]:
    server = LegacyServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(legacy_server: LegacyServer) -> LegacyServer:
    legacy_server.legacy.script.clear()
    legacy_server.legacy.requests.clear()
    return legacy_server


def http_connector(server: LegacyServer, **options: Any) -> HttpConnector:
    raw = {
        "base_url": server.url,
        "auth_header": f"Bearer {TOKEN}",
        "backoff_seconds": 0.01,
        "timeout_seconds": 5,
        **options,
    }
    return HttpConnector.from_options(raw, where="sources/hj.yaml")


PAGE = {"style": "page", "size": 4, "total_path": "data.total"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TestHttpBehaviour(ConnectorBehaviour):
    @pytest.fixture
    def connector(self, server: LegacyServer) -> Iterator[HttpConnector]:
        # No since_param: the watermark filters client-side, so the pages (and the positions
        # the suite compares) are those of the full read. since_param is tested below.
        options = {"pagination": PAGE, "records_path": "data.list"}
        with http_connector(server, **options) as connector:
            yield connector

    @pytest.fixture
    def known_request(self) -> ReadRequest:
        return ReadRequest("persons/page", key_columns=("id",), cursor="updated_at", batch_size=3)

    @pytest.fixture
    def expected_rows(self) -> list[dict]:
        return [as_text(p) for p in PERSONS]

    @pytest.fixture
    def error_cases(self, server: LegacyServer, connector: HttpConnector) -> list[ErrorCase]:
        wrong = http_connector(server, auth_header="Bearer wrong")
        nowhere = http_connector(
            server, base_url=f"http://127.0.0.1:{closed_port()}/api", max_retries=1
        )
        busy = http_connector(server, max_retries=2)
        patient = http_connector(server, max_retry_after_seconds=5)

        def always(action: str, count: int) -> None:
            server.legacy.script[:] = [action] * count

        return [
            ErrorCase(
                "404",
                lambda: read_all(connector, ReadRequest("nothing/here")),
                ConfigError,
                r"GET /api/nothing/here\?page=1&page_size=4: no such endpoint on "
                r"http://127\.0\.0\.1:\d+ \(HTTP 404\)",
            ),
            ErrorCase(
                "401",
                lambda: read_all(wrong, ReadRequest("persons/all")),
                ConfigError,
                r"refused the credentials \(HTTP 401\)",
            ),
            ErrorCase(
                "connection refused",
                lambda: read_all(nowhere, ReadRequest("persons/all")),
                SourceUnreachableError,
                "gave up after 2 attempts",
            ),
            ErrorCase("check refused", nowhere.check, SourceUnreachableError),
            ErrorCase(
                "500 for good",
                lambda: (always("500", 3), read_all(busy, ReadRequest("persons/all"))),
                SourceUnreachableError,
                r"HTTP 500 Internal Server Error \(gave up after 3 attempts\)",
            ),
            ErrorCase(
                "Retry-After beyond the limit",
                lambda: (always("429 3600", 1), read_all(patient, ReadRequest("persons/all"))),
                SourceUnreachableError,
                "asks to retry after 3600 s",
            ),
            ErrorCase(
                "redirect",
                lambda: read_all(connector, ReadRequest("moved")),
                ConfigError,
                r"redirects \(HTTP 302\) to /api/persons on https://new\.example",
            ),
            ErrorCase(
                "absolute source_object",
                lambda: read_all(connector, ReadRequest("http://elsewhere.example/x")),
                ConfigError,
                "not a path under the base URL",
            ),
            ErrorCase(
                "wrong records_path",
                lambda: read_all(connector, ReadRequest("persons/offset")),
                ConfigError,
                "records_path 'data.list' is not in the body; "
                "the path stops at an object with keys: rows",
            ),
            ErrorCase(
                "credentials in base_url",
                lambda: http_connector(server, base_url="http://u:pw@127.0.0.1/"),
                ConfigError,
                "must not hold credentials",
            ),
            ErrorCase(
                "both body paths",
                lambda: http_connector(server, records_path="a", record_path="b"),
                ConfigError,
                "not both",
            ),
            ErrorCase(
                "unknown pagination style",
                lambda: http_connector(server, pagination={"style": "scroll"}),
                ConfigError,
                "option 'pagination'",
            ),
        ]

    @pytest.fixture
    def secret_case(self, server: LegacyServer, connector: HttpConnector) -> SecretCase:
        return SecretCase(
            secret=TOKEN,
            connector=connector,
            actions=[
                lambda: read_all(connector, ReadRequest("persons/page", cursor="updated_at")),
                lambda: read_all(connector, ReadRequest("echo")),  # 400 echoing the header
                lambda: read_all(connector, ReadRequest("admin/users")),  # 403 echoing it
                lambda: read_all(connector, ReadRequest("missing")),
                lambda: http_connector(server, auth_header=f"Bearer {TOKEN}\n"),
                connector.check,
            ],
        )


def test_registered_under_http() -> None:
    assert load_connector("http") is HttpConnector
    assert Capability.INCREMENTAL in HttpConnector.capabilities


def test_auth_header_is_sent_and_describe_hides_it(server: LegacyServer) -> None:
    connector = http_connector(server, auth_header_name="Authorization")
    read_all(connector, ReadRequest("persons/all"))
    (_, _, headers) = server.legacy.requests[0]
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert connector.describe() == (
        f"http {server.url} (none paging, JSON, Authorization header set)"
    )


def test_error_bodies_echoing_the_token_are_scrubbed(server: LegacyServer) -> None:
    connector = http_connector(server)
    with pytest.raises(ConfigError) as info:
        read_all(connector, ReadRequest("echo"))
    assert str(info.value).startswith(
        "GET /api/echo: the service refused the request (HTTP 400): bad request, you sent ***"
    )
    for form in secret_forms(TOKEN):
        assert form not in str(info.value)


def test_retries_500_429_and_a_timeout_then_succeeds(
    server: LegacyServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.legacy.script[:] = ["500", "429 1", "slow"]
    connector = http_connector(
        server, timeout_seconds=0.5, pagination=PAGE, records_path="data.list"
    )
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        records = records_of(read_all(connector, ReadRequest("persons/page")))
    assert records["name"].to_pylist() == NAMES
    assert time.monotonic() - started >= 1.0, "Retry-After: 1 was not honoured"
    first_page = [r for r in server.legacy.requests if r[1].get("page") == "1"]
    assert len(first_page) == 4
    warnings = [r.getMessage() for r in caplog.records if r.name == "connectors.http.client"]
    assert warnings[0].startswith("GET /api/persons/page?page=1&page_size=4: HTTP 500")
    assert "retry 1 of 5" in warnings[0]
    assert "HTTP 429 Too Many Requests; retry 2 of 5 in 1.0 s" in warnings[1]
    assert "no answer within 0.5 s; retry 3 of 5" in warnings[2]


def test_a_garbled_body_is_retried(server: LegacyServer) -> None:
    server.legacy.script[:] = ["html"]
    records = records_of(read_all(http_connector(server), ReadRequest("persons/all")))
    assert records.num_rows == len(PERSONS)
    assert len(server.legacy.requests) == 2


def test_a_body_that_stays_garbled_is_unreachable(server: LegacyServer) -> None:
    server.legacy.script[:] = ["html"] * 2
    with pytest.raises(SourceUnreachableError, match="the body is not JSON"):
        read_all(http_connector(server, max_retries=1), ReadRequest("persons/all"))


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param("120", 120.0, id="delay-seconds"),
        pytest.param("Fri, 01 Mar 2024 08:00:30 GMT", 30.0, id="http-date"),
        pytest.param("Fri, 01 Mar 2024 07:00:00 GMT", 0.0, id="date-in-the-past"),
        pytest.param("soon", None, id="unreadable"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_retry_after_values(value: str | None, seconds: float | None) -> None:
    now = dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)
    assert retry_after_seconds(value, now) == seconds


def test_retry_after_as_an_http_date_is_honoured(server: LegacyServer) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    server.legacy.script[:] = [f"429 {format_datetime(soon, usegmt=True)}"]
    started = time.monotonic()
    read_all(http_connector(server), ReadRequest("persons/all"))
    assert time.monotonic() - started >= 0.9


@pytest.mark.parametrize(
    ("endpoint", "options", "positions"),
    [
        pytest.param(
            "persons/page",
            {"pagination": {"style": "page", "size": 4}, "records_path": "data.list"},
            {0: "?page=1#0", 3: "?page=1#3", 4: "?page=2#0", 9: "?page=3#1"},
            id="page",
        ),
        pytest.param(
            "persons/offset",
            {"pagination": {"style": "offset", "limit": 4}, "records_path": "rows"},
            {0: "?offset=0#0", 3: "?offset=0#3", 4: "?offset=4#0", 9: "?offset=8#1"},
            id="offset",
        ),
        pytest.param(
            "persons/cursor",
            {
                "pagination": {"style": "cursor", "next_path": "paging.next"},
                "records_path": "items",
            },
            {0: "#0", 3: "#3", 4: "?cursor=c4#0", 9: "?cursor=c8#1"},
            id="cursor",
        ),
        pytest.param(
            "persons/link",
            {"pagination": {"style": "link"}},
            {0: "#0", 2: "#2", 3: "?p=2#0", 9: "?p=4#0"},
            id="link",
        ),
    ],
)
def test_pagination_styles(
    server: LegacyServer, endpoint: str, options: dict, positions: dict[int, str]
) -> None:
    connector = http_connector(server, **options)
    records = records_of(read_all(connector, ReadRequest(endpoint, batch_size=4)))
    assert records["name"].to_pylist() == NAMES
    got = records[POSITION_COLUMN].to_pylist()
    assert {i: got[i] for i in positions} == {
        i: f"GET /api/{endpoint}{p}" for i, p in positions.items()
    }
    assert len(set(got)) == len(got)


def test_page_paging_stops_at_a_short_page_or_the_total(server: LegacyServer) -> None:
    paging = {"style": "page", "size": 5}
    read_all(
        http_connector(server, pagination=paging, records_path="data.list"),
        ReadRequest("persons/page"),
    )
    # 10 records in pages of 5: the second page is full, so a third (empty) one is asked.
    assert [q["page"] for _, q, _ in server.legacy.requests] == ["1", "2", "3"]
    server.legacy.requests.clear()
    paging["total_path"] = "data.total"
    read_all(
        http_connector(server, pagination=paging, records_path="data.list"),
        ReadRequest("persons/page"),
    )
    assert [q["page"] for _, q, _ in server.legacy.requests] == ["1", "2"]


def test_xml_service_in_gb18030_with_namespaces(server: LegacyServer) -> None:
    connector = http_connector(
        server,
        record_path="Persons/Person",
        pagination={"style": "page", "size": 4, "total_path": "Total"},
    )
    records = records_of(read_all(connector, ReadRequest("persons/xml")))
    assert records.num_rows == len(PERSONS)
    assert records.schema.names == [
        "@id",
        "Name",
        "UpdatedAt",
        "Mobile",
        "Note",
        "Tel",
        POSITION_COLUMN,
    ]
    assert records.slice(9, 1).to_pylist() == [
        {
            "@id": "10",
            "Name": "王䶮",
            "UpdatedAt": "2024-03-10 08:00:00",
            "Mobile": "",
            "Note": None,
            "Tel": '["1","2"]',
            POSITION_COLUMN: "GET /api/persons/xml?page=3#1",
        }
    ]
    assert [q["page"] for _, q, _ in server.legacy.requests] == ["1", "2", "3"]
    assert server.legacy.requests[0][2]["Accept"] == "application/xml"


def test_xml_record_path_may_start_at_the_root(server: LegacyServer) -> None:
    connector = http_connector(server, record_path="Response/Persons/Person")
    assert records_of(read_all(connector, ReadRequest("persons/xml"))).num_rows == 10


def test_wrong_xml_record_path_names_the_root_children(server: LegacyServer) -> None:
    connector = http_connector(server, record_path="Data/Row")
    with pytest.raises(ConfigError, match="the root's child elements: Total, Persons"):
        read_all(connector, ReadRequest("persons/xml"))


def test_values_keep_their_source_text_and_non_objects_are_rejects(server: LegacyServer) -> None:
    batches = read_all(http_connector(server, records_path="data"), ReadRequest("raw"))
    records, rejects = records_of(batches), rejects_of(batches)
    assert records.to_pylist() == [
        {
            "amount": "1.50",
            "big": "12345678901234567890.12",
            "n": None,
            POSITION_COLUMN: "GET /api/raw#0",
        }
    ]
    assert rejects.to_pylist() == [
        {
            POSITION_COLUMN: "GET /api/raw#1",
            "raw": "7",
            "reason": "the record is a int, not an object",
        }
    ]


def test_columns_are_the_union_of_keys_so_far(server: LegacyServer) -> None:
    batches = read_all(http_connector(server), ReadRequest("varied", batch_size=2))
    assert [b.records.schema.names for b in batches] == [
        ["a", "b", POSITION_COLUMN],
        ["a", "b", "c", POSITION_COLUMN],
    ]
    assert batches[0].records.column("b").to_pylist() == [None, "2"]
    assert batches[1].records.to_pylist()[0]["c"] == "[1,2]"
    assert all(t == pa.string() for t in batches[1].records.schema.types)


def test_incremental_sends_since_with_lookback_and_filters(server: LegacyServer) -> None:
    connector = http_connector(server, since_param="since")
    request = ReadRequest(
        "persons/all", cursor="updated_at", watermark="2024-03-08 08:00:00", lookback_seconds=86400
    )
    records = records_of(read_all(connector, request))
    assert server.legacy.requests[0][1]["since"] == "2024-03-07 08:00:00"
    assert records["id"].to_pylist() == ["7", "8", "9", "10"]
    assert (
        records[POSITION_COLUMN][0].as_py()
        == "GET /api/persons/all?since=2024-03-07%2008%3A00%3A00#0"
    )


def test_incremental_without_since_param_filters_client_side(server: LegacyServer) -> None:
    request = ReadRequest("persons/all", cursor="updated_at", watermark="2024-03-09 08:00:00")
    records = records_of(read_all(http_connector(server), request))
    assert "since" not in server.legacy.requests[0][1]
    assert records["id"].to_pylist() == ["9", "10"]


@pytest.mark.parametrize(
    ("watermark", "seconds", "lower"),
    [
        pytest.param("2024-03-08 08:00:00", 3600, "2024-03-08 07:00:00", id="space"),
        pytest.param("2024-03-08T08:00:00+08:00", 60, "2024-03-08T07:59:00+08:00", id="iso-zone"),
        pytest.param("2024-03-08", 1, "2024-03-07", id="date"),
        pytest.param("v17", 60, "v17", id="not-a-time"),
        pytest.param("2024-03-08 08:00:00", 0, "2024-03-08 08:00:00", id="no-lookback"),
    ],
)
def test_lookback(watermark: str, seconds: int, lower: str) -> None:
    assert lower_bound(watermark, seconds) == lower


def test_rate_limit(server: LegacyServer) -> None:
    connector = http_connector(
        server,
        pagination={"style": "page", "size": 2},
        records_path="data.list",
        max_requests_per_second=20,
    )
    started = time.monotonic()
    read_all(connector, ReadRequest("persons/page"))
    assert len(server.legacy.requests) == 6
    assert time.monotonic() - started >= 5 / 20


def test_stream_options_override_the_source(server: LegacyServer) -> None:
    connector = http_connector(server, records_path="data.list")
    request = ReadRequest("persons/offset", options={"records_path": "rows", "params": {"x": "1"}})
    assert records_of(read_all(connector, request)).num_rows == 10
    assert server.legacy.requests[0][1] == {"x": "1"}
    with pytest.raises(ConfigError, match="option 'auth_header' cannot be set per stream"):
        read_all(connector, ReadRequest("persons/all", options={"auth_header": "${T}"}))


def test_link_to_another_host_is_not_followed(server: LegacyServer) -> None:
    connector = http_connector(server, pagination={"style": "link"})
    with pytest.raises(ConfigError, match=r"the next page's link leaves 127\.0\.0\.1"):
        read_all(connector, ReadRequest("persons/foreign"))


def test_body_in_an_undeclared_encoding(server: LegacyServer) -> None:
    with pytest.raises(ConfigError, match="not valid utf-8: byte 0xd5") as info:
        read_all(http_connector(server), ReadRequest("gbk"))
    assert "options.encoding" in str(info.value)
    records = records_of(read_all(http_connector(server, encoding="gbk"), ReadRequest("gbk")))
    assert records["name"].to_pylist() == ["张三"]


def test_check_accepts_any_answer_but_refused_credentials(server: LegacyServer) -> None:
    http_connector(server).check()  # GET /api/ is a 404: the service answers
    with pytest.raises(ConfigError, match="HTTP 401"):
        http_connector(server, auth_header="Bearer nope").check()


def test_reads_after_close_reopen_the_client(server: LegacyServer) -> None:
    connector = http_connector(server)
    connector.close()
    assert records_of(read_all(connector, ReadRequest("persons/all"))).num_rows == 10
    connector.close()


def test_full_read_after_an_incremental_one(server: LegacyServer) -> None:
    connector = http_connector(server, since_param="since")
    request = ReadRequest("persons/all", cursor="updated_at", watermark="2024-03-10 08:00:00")
    assert records_of(read_all(connector, request))["id"].to_pylist() == ["10"]
    again = replace(request, watermark=None)
    assert records_of(read_all(connector, again)).num_rows == 10
