"""A served hub: person and legal_entity published, four principals with tokens."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from exhub.serve import create_app
from tests.support import published_hub

TOKENS = {
    "operator": "op-token-0123456789abcdef",
    "auditor": "au-token-0123456789abcdef",
    "civil_affairs": "ca-token-0123456789abcdef",
    "public_security": "ps-token-0123456789abcdef",
    "market_regulation": "mr-token-0123456789abcdef",
}
SETTINGS = {"serve_tokens": {name: f"${{EXHUB_TOKEN_{name.upper()}}}" for name in TOKENS}}
ENVIRON = {f"EXHUB_TOKEN_{name.upper()}": token for name, token in TOKENS.items()}


@pytest.fixture(scope="module")
def served_hub(tmp_path_factory):
    return published_hub(tmp_path_factory.mktemp("hub"), **SETTINGS)


@pytest.fixture(scope="module")
def app(served_hub):
    return create_app(served_hub, environ=ENVIRON)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as test_client:
        yield test_client


def as_(name: str) -> dict[str, str]:
    """The header that signs a request in as ``name``."""
    return {"Authorization": f"Bearer {TOKENS[name]}"}
