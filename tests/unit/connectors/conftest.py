import threading
from collections.abc import Iterator

import pytest

# Detailed assertion messages from the shared behaviour suite (before anything imports it).
pytest.register_assert_rewrite("connectors.testing")

from tests.unit.connectors.legacy_http import LegacyServer  # noqa: E402


# The legacy REST service of the HTTP connector's tests (tests/unit/connectors/legacy_http.py).
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
