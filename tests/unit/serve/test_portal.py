"""The portal in a real browser: a department asks, the owner approves, the department reads
granted columns raw and the rest masked; an auditor checks the chain; a bad token is refused."""

from __future__ import annotations

import pytest

from exhub.query import run_query
from tests.browser import live_server
from tests.unit.serve.conftest import TOKENS

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def portal(app):
    with live_server(app) as base_url:
        yield base_url


def sign_in(page, base_url: str, name: str) -> None:
    page.goto(f"{base_url}/")
    assert page.url.endswith("/login")  # no session yet: sent to sign in
    page.fill("#token", TOKENS[name])
    page.click("#sign-in")
    assert page.text_content("#signed-in-as") == name


def sign_out(page) -> None:
    page.click("text=Sign out")
    assert page.url.endswith("/login")


def test_ask_approve_read_in_the_browser(portal, browser_page):
    page = browser_page
    sign_in(page, portal, "civil_affairs")
    assert "conditional: needs a grant" in page.text_content("#datasets")

    page.click("#datasets >> text=person")
    assert page.text_content("#access-basis") == "conditional: needs a grant"
    page.check("input[name=columns][value=resident_id]")
    page.check("input[name=columns][value=name]")
    page.fill("#purpose", "婚姻登记核验")
    page.click("#send-request")
    assert "pending" in page.text_content("#flash")
    sign_out(page)

    sign_in(page, portal, "public_security")
    page.goto(f"{portal}/access")
    row = page.locator("#requests tr", has_text="婚姻登记核验")
    row.locator("input[name=reason]").fill("依法履职需要")
    row.locator("button[value=approve]").click()
    assert "approved" in page.text_content("#flash")
    sign_out(page)

    sign_in(page, portal, "civil_affairs")
    page.goto(f"{portal}/query")
    page.fill(
        "#sql", "SELECT resident_id, name, mobile FROM person WHERE mobile IS NOT NULL LIMIT 5"
    )
    page.fill("#query-purpose", "婚姻登记核验")
    page.click("#run-query")
    assert page.text_content("#row-count").startswith("5 rows")
    cells = page.locator("#result tr").nth(1).locator("td").all_text_contents()
    resident_id, name, mobile = cells
    assert len(resident_id) == 18 and "*" not in resident_id and "*" not in name
    assert mobile[3:7] == "****"


def test_refused_sql_shows_the_reason_on_the_page(portal, browser_page):
    sign_in(browser_page, portal, "civil_affairs")
    browser_page.goto(f"{portal}/query")
    browser_page.fill("#sql", "SELECT * FROM read_parquet('/etc/passwd')")
    browser_page.click("#run-query")
    assert "table function read_parquet() is not allowed" in browser_page.text_content("#error")


def test_a_bad_token_is_refused_and_the_auditor_sees_the_chain(portal, browser_page, served_hub):
    page = browser_page
    page.goto(f"{portal}/login")
    page.fill("#token", "not-a-token-0123456789")
    page.click("#sign-in")
    assert page.text_content("#error") == "That token is not valid."
    run_query(served_hub, "SELECT 1 AS one", actor="operator", purpose="an entry to review")
    sign_in(page, portal, "auditor")
    page.goto(f"{portal}/audit")
    assert "Hash chain intact" in page.text_content("#verdict")
    assert "an entry to review" in page.text_content("#audit")
    assert page.locator("header a[href='/query']").count() == 0  # auditors do not query
    page.goto(f"{portal}/scorecards")
    departments = served_hub.repository.list_departments()
    assert page.locator("#scorecards tr").count() == 1 + len(departments) == 4


def test_quarantine_samples_show_only_to_raw_row_readers(portal, browser_page, served_hub):
    (run,) = [r for r in served_hub.repository.list_runs() if r.source_id == "ps_hukou"]
    sign_in(browser_page, portal, "civil_affairs")
    browser_page.goto(f"{portal}/runs/{run.id}")
    assert browser_page.locator("#rules").count() == 1
    assert browser_page.locator("#quarantine").count() == 0
    sign_out(browser_page)
    sign_in(browser_page, portal, "public_security")
    browser_page.goto(f"{portal}/runs/{run.id}")
    assert browser_page.locator("#quarantine tr").count() > 1
    report = browser_page.request.get(f"{portal}/runs/{run.id}/report")
    assert report.status == 200 and "html" in report.headers["content-type"]
