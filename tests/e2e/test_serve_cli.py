"""``exhub serve`` starts the portal with tokens from the environment, and refuses to start
without any configured."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import httpx
import pytest

from tests.support import EXHUB, run_exhub

pytestmark = pytest.mark.e2e
TOKEN = "cli-token-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_with_the_token_from_the_environment(deployment):
    home, _ = deployment
    run_exhub("sync", "ps_hukou", home=home, check=True)
    (home / "exhub.yaml").write_text(
        "serve_tokens:\n  public_security: ${EXHUB_TOKEN_PS}\n", encoding="utf-8"
    )
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EXHUB_")}
    environ |= {"EXHUB_HOME": str(home), "EXHUB_TOKEN_PS": TOKEN}
    server = subprocess.Popen(
        [*EXHUB, "serve", "--port", str(port)], cwd=home, env=environ,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                me = httpx.get(f"{base}/api/me", headers={"Authorization": f"Bearer {TOKEN}"})
                break
            except httpx.ConnectError:
                time.sleep(0.2)
        else:
            pytest.fail("exhub serve did not start")
        assert me.json()["name"] == "public_security"
        datasets = httpx.get(f"{base}/api/datasets", headers={"Authorization": f"Bearer {TOKEN}"})
        assert [d["name"] for d in datasets.json()] == ["person"]
        assert httpx.get(f"{base}/").status_code == 303  # pages want a session
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert TOKEN not in out + err


def test_serve_without_tokens_is_a_usage_error(deployment):
    home, _ = deployment
    result = run_exhub("serve", home=home)
    assert result.returncode == 2
    assert "no serve_tokens configured" in result.stderr
