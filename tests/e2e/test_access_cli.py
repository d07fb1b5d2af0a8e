"""A department asks for conditional data, the owner approves, the department reads the
granted columns raw and the rest masked, the owner revokes; every step is in the audit log."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from tests.support import run_exhub

pytestmark = pytest.mark.e2e

NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()


def exhub_json(home, *args):
    return json.loads(run_exhub(*args, "--format", "json", home=home, check=True).stdout)


@pytest.fixture
def published(deployment):
    home, _ = deployment
    # civil_affairs has no source system here: the settings make it known.
    (home / "exhub.yaml").write_text("departments:\n  civil_affairs: 民政局\n", encoding="utf-8")
    run_exhub("sync", "ps_hukou", home=home, check=True)
    return home


def test_request_approve_query_revoke(published):
    home = published
    (listed,) = exhub_json(home, "datasets", "list", "--as", "civil_affairs")
    assert (listed["name"], listed["access"]) == ("person", "conditional: needs a grant")
    sql = "SELECT resident_id, name, mobile FROM person WHERE mobile IS NOT NULL LIMIT 20"

    denied = run_exhub("query", "--as", "civil_affairs", sql, home=home)
    assert denied.returncode == 2
    assert "may not read 'person'" in denied.stderr and "exhub access request" in denied.stderr

    asked = exhub_json(
        home, "access", "request", "person", "--as", "civil_affairs",
        "--columns", "resident_id,name", "--purpose", "婚姻登记核验", "--expires", NEXT_YEAR,
    )  # fmt: skip
    assert (asked["status"], asked["columns"], asked["rows"]) == (
        "pending",
        "resident_id, name",
        "all",
    )

    self_approved = run_exhub(
        "access", "approve", str(asked["id"]), "--as", "civil_affairs", "--reason", "自批",
        home=home,
    )  # fmt: skip
    assert self_approved.returncode == 2 and "only the owner of 'person'" in self_approved.stderr

    approved = exhub_json(
        home, "access", "approve", str(asked["id"]), "--as", "public_security",
        "--reason", "依法履职需要",
    )  # fmt: skip
    assert approved["status"] == "approved" and approved["answer"] == "依法履职需要"
    (grant,) = exhub_json(home, "grants", "list", "--as", "civil_affairs")
    assert grant["id"] == asked["id"]

    rows = exhub_json(home, "query", "--as", "civil_affairs", sql)
    operator = exhub_json(home, "query", sql)
    assert [r["resident_id"] for r in rows] == [r["resident_id"] for r in operator]
    assert [r["name"] for r in rows] == [r["name"] for r in operator]
    assert all(r["mobile"][3:7] == "****" for r in rows)  # not granted
    assert all("****" not in r["mobile"] for r in operator)

    exhub_json(
        home, "grants", "revoke", str(asked["id"]), "--as", "public_security",
        "--reason", "核验完成",
    )  # fmt: skip
    assert run_exhub("query", "--as", "civil_affairs", sql, home=home).returncode == 2
    assert exhub_json(home, "grants", "list") == []

    log = exhub_json(home, "audit", "log")
    actions = [(e["actor"], e["action"], e["outcome"]) for e in reversed(log)]
    assert actions == [
        ("civil_affairs", "query", "refused"),
        ("civil_affairs", "access_request", None),
        ("public_security", "access_approve", None),
        ("civil_affairs", "query", "ok"),
        (actions[4][0], "query", "ok"),  # the operator, under the login name
        ("public_security", "grant_revoke", None),
        ("civil_affairs", "query", "refused"),
    ]
    assert exhub_json(home, "audit", "verify")["intact"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--expires", "2020-01-01"], "is not in the future"),
        (["--expires", "next year"], "is not an ISO date or time"),
        (["--columns", "shoe_size"], "'person' has no column 'shoe_size'"),
        (["--rows", "(SELECT 1) = 1"], "may only compare the dataset's own columns"),
        (["--as", "tax_bureau"], "unknown department 'tax_bureau'"),
    ],
)
def test_a_bad_request_is_a_usage_error_naming_the_option(published, args, message):
    base = {
        "--as": "civil_affairs",
        "--columns": "name",
        "--purpose": "核验",
        "--expires": NEXT_YEAR,
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [item for pair in base.items() for item in pair]
    result = run_exhub("access", "request", "person", *flat, home=published)
    assert result.returncode == 2
    assert message in result.stderr
