"""The HTTP API: who may call what, and the same answers as the CLI gives."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pyarrow as pa
import pytest

from exhub.errors import ConfigError
from exhub.serve import create_app
from tests.unit.serve.conftest import ENVIRON, TOKENS, as_

pytestmark = pytest.mark.unit
NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()


def test_no_token_or_a_wrong_one_is_401(client):
    assert client.get("/api/datasets").status_code == 401
    bad = client.get("/api/datasets", headers={"Authorization": "Bearer nope-0123456789abcdef"})
    assert bad.status_code == 401 and "Bearer" in bad.json()["error"]


@pytest.mark.parametrize(
    "name, role, department",
    [
        ("operator", "operator", None),
        ("auditor", "auditor", None),
        ("civil_affairs", "department", "civil_affairs"),
    ],
)
def test_a_token_names_its_principal(client, name, role, department):
    assert client.get("/api/me", headers=as_(name)).json() == {
        "name": name, "role": role, "department": department,
    }  # fmt: skip


def test_a_department_sees_its_access_and_masked_values(client):
    listed = {
        d["name"]: d for d in client.get("/api/datasets", headers=as_("civil_affairs")).json()
    }
    assert listed["person"]["access"] == "conditional: needs a grant"
    assert listed["legal_entity"]["masked"] == "legal_representative"
    sql = {"sql": "SELECT legal_representative FROM legal_entity ORDER BY uscc LIMIT 20"}
    masked = client.post("/api/query", json=sql, headers=as_("civil_affairs")).json()
    raw = client.post("/api/query", json=sql, headers=as_("operator")).json()
    assert masked["row_count"] == raw["row_count"] == 20
    pairs = zip(masked["rows"], raw["rows"], strict=True)
    assert all(m["legal_representative"][0] == r["legal_representative"][0] for m, r in pairs)
    assert all("*" in m["legal_representative"] for m in masked["rows"])
    assert not any("*" in r["legal_representative"] for r in raw["rows"])


def test_refused_sql_is_a_400_naming_the_reason(client):
    sql = {"sql": "SELECT * FROM read_parquet('/etc/passwd')"}
    refused = client.post("/api/query", json=sql, headers=as_("civil_affairs"))
    assert refused.status_code == 400 and "read_parquet()" in refused.json()["error"]


def test_auditors_do_not_query(client):
    sql = {"sql": "SELECT count(*) FROM person"}
    assert client.post("/api/query", json=sql, headers=as_("auditor")).status_code == 403


def test_query_results_come_as_arrow_on_request(client):
    sql = {"sql": "SELECT uscc, registered_capital FROM legal_entity ORDER BY uscc LIMIT 30"}
    headers = as_("operator") | {"Accept": "application/vnd.apache.arrow.stream"}
    response = client.post("/api/query", json=sql, headers=headers)
    assert response.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(response.content).read_all()
    as_json = client.post("/api/query", json=sql, headers=as_("operator")).json()
    assert table.num_rows == 30 and table.column("uscc").to_pylist() == [
        r["uscc"] for r in as_json["rows"]
    ]
    assert pa.types.is_decimal(table.schema.field("registered_capital").type)  # exact, not float


def test_request_answer_revoke_through_the_api(client):
    body = {
        "dataset": "person", "columns": ["resident_id"], "purpose": "婚姻登记核验",
        "expires": NEXT_YEAR,
    }  # fmt: skip
    filed = client.post("/api/access/requests", json=body, headers=as_("civil_affairs"))
    assert filed.status_code == 201 and filed.json()["status"] == "pending"
    request_id = filed.json()["id"]
    as_operator = client.post("/api/access/requests", json=body, headers=as_("operator"))
    assert as_operator.status_code == 403

    reason = {"reason": "依法履职"}
    self_approve = client.post(
        f"/api/access/requests/{request_id}/approve", json=reason, headers=as_("civil_affairs")
    )
    assert self_approve.status_code == 403 and "only the owner" in self_approve.json()["error"]
    approved = client.post(
        f"/api/access/requests/{request_id}/approve", json=reason, headers=as_("public_security")
    )
    assert approved.json()["status"] == "approved"
    again = client.post(
        f"/api/access/requests/{request_id}/refuse", json=reason, headers=as_("public_security")
    )
    assert again.status_code == 409 and "is approved, not pending" in again.json()["error"]
    held = client.get("/api/grants", headers=as_("civil_affairs")).json()
    assert [g["id"] for g in held] == [request_id]

    sql = {"sql": "SELECT resident_id FROM person ORDER BY 1 LIMIT 5"}
    granted = client.post("/api/query", json=sql, headers=as_("civil_affairs")).json()
    assert granted == client.post("/api/query", json=sql, headers=as_("operator")).json()

    revoked = client.post(
        f"/api/grants/{request_id}/revoke", json={"reason": "核验完成"},
        headers=as_("public_security"),
    )  # fmt: skip
    assert revoked.json()["status"] == "revoked"
    assert client.post("/api/query", json=sql, headers=as_("civil_affairs")).status_code == 400


def test_quarantine_is_for_the_owner_operator_and_auditors_and_is_audited(client):
    assert client.get("/api/quarantine/person", headers=as_("civil_affairs")).status_code == 403
    rows = client.get("/api/quarantine/person?limit=5", headers=as_("public_security")).json()
    assert len(rows) == 5 and all(r["failed_rules"] and r["raw"] for r in rows)
    entry = client.get("/api/audit?limit=1", headers=as_("auditor")).json()[0]
    assert (entry["actor"], entry["action"], entry["target"]) == (
        "public_security", "quarantine_list", "person",
    )  # fmt: skip
    assert entry["detail"]["user"] == "portal:public_security"


def test_a_department_reviews_only_its_own_and_its_datasets_audit_entries(client):
    client.post("/api/query", json={"sql": "SELECT 1 AS one"}, headers=as_("operator"))
    asked = {"sql": "SELECT count(*) FROM person"}  # refused without a grant, and audited
    client.post("/api/query", json=asked, headers=as_("civil_affairs"))
    mine = client.get("/api/audit", headers=as_("civil_affairs")).json()
    assert mine and all(e["actor"] == "civil_affairs" for e in mine)
    owner = client.get("/api/audit", headers=as_("public_security")).json()
    assert any(e["actor"] == "civil_affairs" and "person" in e["target"] for e in owner)
    assert client.get("/api/audit/verify", headers=as_("civil_affairs")).status_code == 403
    verdict = client.get("/api/audit/verify", headers=as_("auditor")).json()
    assert verdict["intact"] and verdict["entries_checked"] >= len(owner)


def test_no_token_reaches_the_audit_log_or_the_catalog(client, served_hub):
    client.post("/api/query", json={"sql": "SELECT 2 AS two"}, headers=as_("civil_affairs"))
    entries = served_hub.repository.list_audit()
    text = json.dumps([e.detail for e in entries], ensure_ascii=False, default=str)
    text += " ".join(e.actor + e.target for e in entries)
    assert not [t for t in TOKENS.values() if t in text]


def test_scorecards_count_runs_by_the_department_of_their_source(client, served_hub):
    cards = {
        c["department"]: c for c in client.get("/api/scorecards", headers=as_("auditor")).json()
    }
    runs = served_hub.repository.list_runs()
    assert sum(c["runs"] for c in cards.values()) == len(runs)
    ps = cards["public_security"]
    assert ps["runs"] == 1 and ps["datasets_owned"] == 1 and ps["success_rate"] == 1.0
    hukou = next(r for r in runs if r.source_id == "ps_hukou")
    assert ps["quarantine_rate"] == round(hukou.quarantined_rows / hukou.extracted_rows, 4)


@pytest.mark.parametrize(
    "tokens, environ, message",
    [
        ({}, {}, "no serve_tokens configured"),
        ({"operator": "${EXHUB_T_OP}"}, {}, "EXHUB_T_OP is not set"),
        ({"operator": "${EXHUB_T_OP}"}, {"EXHUB_T_OP": "short"}, "shorter than 16"),
        (
            {"operator": "${EXHUB_T_A}", "auditor": "${EXHUB_T_A}"},
            {"EXHUB_T_A": "x" * 20},
            "auditor has the same token as operator",
        ),
        ({"tax_bureau": "${EXHUB_T_TAX}"}, {"EXHUB_T_TAX": "t" * 20}, "unknown department"),
    ],
)
def test_bad_token_settings_stop_the_server_with_the_reason(served_hub, tokens, environ, message):
    hub = type(served_hub)(served_hub.settings.model_copy(update={"serve_tokens": tokens}))
    with pytest.raises(ConfigError, match=message):
        create_app(hub, environ=environ)


def test_environment_is_read_for_tokens_only_through_references(served_hub):
    assert set(served_hub.settings.serve_tokens.values()) == {f"${{{name}}}" for name in ENVIRON}


@pytest.mark.parametrize(
    "run",
    ["{run}/../../person/run_id=*", "../person/run_id=*", "{run}/../../person/*", "*"],
)
def test_the_quarantine_run_cannot_lead_into_another_dataset(client, served_hub, run):
    """Found by review: the run id was pasted into the file pattern unchecked."""
    (enterprise,) = [
        r for r in served_hub.repository.list_runs() if r.dataset_name == "legal_entity"
    ]
    url = f"/api/quarantine/legal_entity?run={run.format(run=enterprise.id)}"
    response = client.get(url, headers=as_("operator"))
    assert response.status_code == 404 and "no run" in response.json()["error"]


def test_a_run_of_the_dataset_reads_its_own_quarantine(client, served_hub):
    (hukou,) = [r for r in served_hub.repository.list_runs() if r.source_id == "ps_hukou"]
    rows = client.get(f"/api/quarantine/person?run={hukou.id}", headers=as_("operator")).json()
    assert rows and {r["_run_id"] for r in rows} == {hukou.id}


def test_run_details_hide_raw_facts_from_departments_that_do_not_own_the_dataset(
    client, served_hub
):
    """Found by review: a failed key gate's detail names duplicate keys (raw resident ids)."""
    (run,) = [r for r in served_hub.repository.list_runs() if r.source_id == "mz_marriage"]
    owner = client.get(f"/api/runs/{run.id}", headers=as_("public_security")).json()
    other = client.get(f"/api/runs/{run.id}", headers=as_("civil_affairs")).json()
    assert owner["gate_results"] and owner["validation_report_path"]
    assert [g["rule"] for g in other["gate_results"]] == [g["rule"] for g in owner["gate_results"]]
    assert {g["detail"] for g in other["gate_results"]} == {"(shown to the dataset's owner)"}
    assert other["validation_report_path"] is None
    assert other["extracted_rows"] == owner["extracted_rows"]


def test_the_api_takes_tokens_only_and_forms_only_from_the_portal(app):
    """Found by review: the API accepted the portal's cookie, and forms had no origin check."""
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://portal.local") as browser:
        signed_in = browser.post("/login", data={"token": TOKENS["civil_affairs"]})
        assert signed_in.status_code == 200 and "civil_affairs" in signed_in.text
        assert browser.get("/").status_code == 200  # the session works for pages
        assert browser.get("/api/me").status_code == 401  # but not for the API
        query = {"sql": "SELECT 1 AS one"}
        same = browser.post("/query", data=query, headers={"Origin": "http://portal.local"})
        assert same.status_code == 200
        forged = browser.post("/query", data=query, headers={"Origin": "http://evil.example"})
        assert forged.status_code == 403 and "another site" in forged.text


@pytest.mark.parametrize("https", [False, True])
def test_the_sign_in_cookie_is_secure_when_the_portal_is_served_over_https(served_hub, https):
    from fastapi.testclient import TestClient

    from exhub.engine.hub import Hub

    hub = Hub(served_hub.settings.model_copy(update={"serve_https": https}))
    scheme = "https" if https else "http"
    with TestClient(create_app(hub, environ=ENVIRON), base_url=f"{scheme}://portal.local") as b:
        token = {"token": TOKENS["civil_affairs"]}
        signed_in = b.post("/login", data=token, follow_redirects=False)
        cookie = signed_in.headers["set-cookie"].lower()
        assert "exhub" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        assert ("; secure" in cookie) is https


def test_json_results_stop_at_the_cap_and_say_so(client, monkeypatch):
    from exhub.serve import api

    monkeypatch.setattr(api, "MAX_JSON_ROWS", 5)
    sql = {"sql": "SELECT uscc FROM legal_entity"}
    answer = client.post("/api/query", json=sql, headers=as_("operator")).json()
    assert answer["truncated"] and len(answer["rows"]) == 5 < answer["row_count"]


def test_a_request_is_unknown_to_departments_that_are_not_its_parties(client):
    """Found by review: the not-the-owner error named any request's dataset and owner."""
    body = {"dataset": "person", "columns": ["mobile"], "purpose": "核实", "expires": NEXT_YEAR}
    filed = client.post("/api/access/requests", json=body, headers=as_("civil_affairs")).json()
    reason = {"reason": "x"}
    stranger = client.post(
        f"/api/access/requests/{filed['id']}/approve", json=reason,
        headers=as_("market_regulation"),
    )  # fmt: skip
    missing = client.post(
        "/api/access/requests/999999/approve", json=reason, headers=as_("market_regulation")
    )
    assert stranger.status_code == missing.status_code == 404
    assert stranger.json()["error"] == f"access request {filed['id']} does not exist"
    assert client.get("/api/datasets/no_such", headers=as_("civil_affairs")).status_code == 404
