"""The browser harness itself: a live uvicorn server driven by a real headless Chromium."""

from __future__ import annotations

import html

import pytest
from playwright.sync_api import Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.browser import live_server

pytestmark = pytest.mark.unit

FORM = """<!doctype html>
<html><head><meta charset="utf-8"><title>form</title></head><body>
<form method="post" action="/echo">
  <label>Name <input name="name" id="name"></label>
  <button type="submit">Send</button>
</form>
</body></html>"""


async def form(request: Request) -> HTMLResponse:
    return HTMLResponse(FORM)


async def echo(request: Request) -> HTMLResponse:
    value = (await request.form())["name"]
    return HTMLResponse(
        '<!doctype html><html><head><meta charset="utf-8"><title>echo</title></head>'
        f'<body><p id="echo">You sent: {html.escape(str(value))}</p></body></html>'
    )


def make_app() -> Starlette:
    return Starlette(routes=[Route("/", form), Route("/echo", echo, methods=["POST"])])


def test_form_round_trip_in_a_real_browser(browser_page: Page) -> None:
    with live_server(make_app()) as base_url:
        first = browser_page.goto(f"{base_url}/")
        assert first is not None and first.status == 200

        browser_page.fill("#name", "合肥市公安局 <b>&</b>")
        with browser_page.expect_navigation():
            browser_page.click("button[type=submit]")

        assert browser_page.url == f"{base_url}/echo"
        assert browser_page.inner_text("#echo") == "You sent: 合肥市公安局 <b>&</b>"

        missing = browser_page.goto(f"{base_url}/no-such-page")
        assert missing is not None and missing.status == 404
