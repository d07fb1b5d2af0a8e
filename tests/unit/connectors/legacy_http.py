"""A legacy REST service for the HTTP connector's tests, served from a thread of the test process.

It serves persons paged in every style, a GB18030 XML service, scripted failures (500, 429 with
Retry-After, an answer slower than the timeout), and error pages that echo the request's auth
header, so that scrubbing is tested for real.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.http import HttpConnector

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
