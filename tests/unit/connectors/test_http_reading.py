"""The HTTP connector's pagination, XML, values and incremental reads, against a real server."""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa
import pytest

from connectors.base import POSITION_COLUMN, ReadRequest
from connectors.http import client as http_client
from connectors.http.connector import lower_bound
from connectors.testing import (
    read_all,
    records_of,
    rejects_of,
)
from exhub.errors import ConfigError
from tests.unit.connectors.legacy_http import (  # fixtures too: pytest finds them here
    NAMES,
    PERSONS,
    LegacyServer,
    http_connector,
)

pytestmark = pytest.mark.unit


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


class _StoppedClock:
    """A clock that moves only when the connector sleeps: the rate limiter's waits exactly."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_rate_limit(server: LegacyServer, monkeypatch: pytest.MonkeyPatch) -> None:
    connector = http_connector(
        server,
        pagination={"style": "page", "size": 2},
        records_path="data.list",
        max_requests_per_second=20,
    )
    clock = _StoppedClock()
    monkeypatch.setattr(http_client, "time", clock)
    connector.transport.sleep = clock.sleep
    read_all(connector, ReadRequest("persons/page"))
    assert len(server.legacy.requests) == 6
    # The first request goes at once; each later one waits its 1/20 s slot.
    assert clock.waits == pytest.approx([1 / 20] * 5)


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
