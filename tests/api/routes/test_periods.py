"""/api/v1/periods over real HTTP (on SQLite; the facade runs on both databases): staff close, list,
show, check, reopen and verify; a posting dated into a closed period is a 409 ``period_closed``;
bad input and the state's refusals are problems; restricted callers read only their shops'
periods."""

from __future__ import annotations

import hashlib

import pytest

from tests.api.support import bearer

V1 = "/api/v1"
PROBLEM = "application/problem+json"


@pytest.fixture
def staff(client, make_session):
    token, _ = make_session("boss", "staff")
    return bearer(token)


@pytest.fixture
def books(api):
    for number, shop, kind in (("ACC001", "S001", "main"), ("ALI", "S002", "alipay")):
        r = api.post(f"{V1}/accounts", json={"number": number, "name": number, "shop_code": shop,
                                             "type": kind})  # fmt: skip
        assert r.status_code == 201, r.text
    for account, amount, day in (("ACC001", "1000", 5), ("ALI", "8", 6)):
        r = api.post(
            f"{V1}/postings",
            json={"type": "income", "account": account, "amount": amount,
                  "trade_time": f"2024-03-{day:02d}T10:00:00+08:00"},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    return api


def test_close_refuse_list_show_reopen_verify(books, client, staff):
    r = client.post(f"{V1}/periods/2024-03/close", json={"shop": "S001"}, headers=staff)
    assert r.status_code == 200, r.text
    period = r.json()
    assert (period["month"], period["shop"], period["status"]) == ("2024-03", "S001", "closed")
    assert period["closed_by"] == "user:boss" and period["forced"] is False
    assert period["starts_at"] == "2024-03-01T00:00:00+08:00"
    assert period["snapshot_sha256"] == hashlib.sha256(period["snapshot"].encode()).hexdigest()
    [acc] = period["accounts"]
    assert (acc["account"], acc["opening"], acc["income"], acc["closing"]) == (
        "ACC001", "0.0000", "1000.0000", "1000.0000",
    )  # fmt: skip
    refused = books.post(
        f"{V1}/postings",
        json={"type": "income", "account": "ACC001", "amount": "1",
              "trade_time": "2024-03-20T10:00:00+08:00"},
    )  # fmt: skip
    assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["code"] == "period_closed"
    assert problem["type"] == "/api/v1/problems/period_closed"
    assert problem["detail"].startswith("period 2024-03 is closed (shop S001 is closed through")
    transfer = books.post(
        f"{V1}/transfers",
        json={"from_account": "ALI", "to_account": "ACC001", "amount": "1",
              "trade_time": "2024-03-20T10:00:00+08:00"},
    )  # fmt: skip
    assert transfer.status_code == 409 and transfer.json()["code"] == "period_closed"
    listed = books.get(f"{V1}/periods").json()
    assert [p["month"] for p in listed["items"]] == ["2024-03"]
    assert listed["closed_through"] == [{"shop": "S001", "month": "2024-03"}]
    shown = books.get(f"{V1}/periods/2024-03", params={"shop": "S001"}).json()
    assert shown["snapshot"] == period["snapshot"]
    assert books.get(f"{V1}/periods/2024-02", params={"shop": "S001"}).json()["status"] == (
        "closed"
    )
    assert books.get(f"{V1}/periods/2024-04", params={"shop": "S001"}).json()["status"] == "open"
    again = client.post(f"{V1}/periods/2024-03/close", json={"shop": "S001"}, headers=staff)
    assert again.status_code == 409 and again.json()["code"] == "period_state"
    no_reason = client.post(f"{V1}/periods/2024-03/reopen", json={"shop": "S001"}, headers=staff)
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "validation"
    blank = client.post(
        f"{V1}/periods/2024-03/reopen", json={"shop": "S001", "reason": "  "}, headers=staff
    )
    assert blank.status_code == 422 and "reason: is required" in blank.json()["detail"]
    r = client.post(
        f"{V1}/periods/2024-03/reopen", json={"shop": "S001", "reason": "补记漏单"}, headers=staff
    )
    assert r.status_code == 200 and r.json()["status"] == "reopened"
    assert [(e["action"], e["actor"], e["reason"]) for e in r.json()["events"]] == [
        ("close", "user:boss", None), ("reopen", "user:boss", "补记漏单"),
    ]  # fmt: skip
    verified = client.get(f"{V1}/periods/verify", headers=staff).json()
    assert verified == {"ok": True, "periods_checked": 0, "problems": []}
    assert client.get(f"{V1}/verify", headers=staff).json()["periods_checked"] == 0


def test_checks_and_a_close_refused_with_its_findings(books, client, staff):
    checks = client.get(f"{V1}/periods/2024-03/checks", params={"shop": "S002"}, headers=staff)
    assert checks.status_code == 200
    assert checks.json()["ok"] is False
    assert checks.json()["findings"] == [
        {"check": "missing_import_days", "account": "ALI",
         "text": "account ALI: no import for 2024-03-01..2024-03-31 (31 days)"},
    ]  # fmt: skip
    r = client.post(f"{V1}/periods/2024-03/close", json={"shop": "S002"}, headers=staff)
    assert r.status_code == 409 and r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "period_not_ready"
    assert r.json()["findings"] == checks.json()["findings"]
    assert books.get(f"{V1}/periods").json()["items"] == []
    forced = client.post(
        f"{V1}/periods/2024-03/close", json={"shop": "S002", "force": True}, headers=staff
    )
    assert forced.status_code == 200 and forced.json()["forced"] is True
    assert forced.json()["acknowledged"] == checks.json()["findings"]


@pytest.mark.parametrize(
    "path,body,status,code",
    [
        ("/periods/2026-13/close", {}, 422, "validation"),
        ("/periods/2024-3/close", {}, 422, "validation"),
        ("/periods/2024-03/close", {"shop": "S404"}, 422, "validation"),
        ("/periods/2024-03/close", {"force": "yes"}, 422, "validation"),
        ("/periods/2024-03/close", {"extra": 1}, 422, "validation"),
        ("/periods/2999-01/close", {}, 409, "period_state"),
        ("/periods/2024-03/reopen", {"reason": "x"}, 409, "period_state"),
    ],
)
def test_bad_input_is_a_problem_and_writes_nothing(books, client, staff, path, body, status, code):
    r = client.post(V1 + path, json=body, headers=staff)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert r.headers["content-type"] == PROBLEM
    assert books.get(f"{V1}/periods").json()["items"] == []


def test_only_staff_close_and_restricted_callers_read_their_shops(books, client, staff, make_key):
    r = books.post(f"{V1}/periods/2024-03/close", json={"shop": "S001"})  # an integrator key
    assert r.status_code == 403
    for shop in ("S001", None):
        body = {"shop": shop, "force": True} if shop else {"force": True}
        assert client.post(f"{V1}/periods/2024-03/close", json=body, headers=staff).status_code == (
            200
        )
    limited = bearer(make_key(shops=["S001"]))
    seen = client.get(f"{V1}/periods", headers=limited).json()
    assert [(p["month"], p["shop"]) for p in seen["items"]] == [("2024-03", "S001")]
    assert seen["closed_through"] == [{"shop": "S001", "month": "2024-03"}]
    assert client.get(f"{V1}/periods/2024-03", headers=limited).status_code == 403
    assert (
        client.get(f"{V1}/periods/2024-03", params={"shop": "S001"}, headers=limited).status_code
        == 200
    )
    assert client.get(f"{V1}/periods/verify", headers=limited).status_code == 403


def test_the_periods_are_in_the_openapi_schema(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/periods", "/api/v1/periods/{month}", "/api/v1/periods/{month}/close",
                 "/api/v1/periods/{month}/reopen", "/api/v1/periods/{month}/checks",
                 "/api/v1/periods/verify"):  # fmt: skip
        assert path in paths, path
    close = paths["/api/v1/periods/{month}/close"]["post"]["responses"]["409"]
    assert "period_not_ready" in close["description"] and PROBLEM in close["content"]
    posting = paths["/api/v1/postings"]["post"]["responses"]["409"]["description"]
    assert "period_closed" in posting
    codes = {p["code"] for p in client.get(f"{V1}/problems").json()}
    assert {"period_closed", "period_not_ready", "period_state"} <= codes
