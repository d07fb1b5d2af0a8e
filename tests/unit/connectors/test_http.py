"""The HTTP connector's behaviour suite, auth and retries, against a real local HTTP server."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from email.utils import format_datetime

import pytest

from connectors.base import Capability, ReadRequest
from connectors.http import HttpConnector
from connectors.http.client import retry_after_seconds
from connectors.registry import load_connector
from connectors.testing import (
    ConnectorBehaviour,
    ErrorCase,
    SecretCase,
    read_all,
    records_of,
    secret_forms,
)
from exhub.errors import ConfigError, SourceUnreachableError
from tests.unit.connectors.legacy_http import (  # fixtures too: pytest finds them here
    NAMES,
    PAGE,
    PERSONS,
    TOKEN,
    LegacyServer,
    as_text,
    closed_port,
    http_connector,
)

pytestmark = pytest.mark.unit


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
    waits: list[float] = []
    connector.transport.sleep = waits.append  # the waits asked for, not wall time
    with caplog.at_level(logging.WARNING):
        records = records_of(read_all(connector, ReadRequest("persons/page")))
    assert records["name"].to_pylist() == NAMES
    assert len(waits) == 3
    assert waits[1] == 1.0, "Retry-After: 1 was not honoured"
    assert waits[0] < 1.0 and waits[2] < 1.0  # backoff, not Retry-After
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
    connector = http_connector(server)
    waits: list[float] = []
    connector.transport.sleep = waits.append
    read_all(connector, ReadRequest("persons/all"))
    assert len(waits) == 1
    assert 0.9 <= waits[0] <= 2.0  # until the date the service named
