"""Every problem type of the REST API: RFC 9457 bodies, stable codes, never a stack trace."""

from __future__ import annotations

import pytest

from tests.api.support import bearer
from zhangben.access import apikeys, idempotency
from zhangben.api.schemas import TransferIn
from zhangben.store.engine import run_write

V1 = "/api/v1"


def problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == f"/api/v1/problems/{code}" and body["code"] == code
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in r.text
    return body


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (12.5, "not a JSON float"),
        (12, "not a JSON int"),
        ("12.34567", "more than 4 decimal places"),
        ("NaN", "not a finite amount"),
        ("-5", "negative"),
        ("0", "greater than zero"),
        ("100000000000000", "larger than"),
        ("1e3", "plain decimal"),
        ("+5", "plain decimal"),
        (None, "not a JSON NoneType"),
    ],
)
def test_bad_amounts_are_refused_naming_the_field(two_accounts, amount, message):
    r = two_accounts.post(
        f"{V1}/transfers", json={"from_account": "ACC001", "to_account": "ACC002", "amount": amount}
    )
    body = problem(r, 422, "validation")
    assert body["errors"][0]["field"] == "amount"
    assert message in body["errors"][0]["message"] and "amount" in body["detail"]


def test_validation_of_shapes_and_parameters(two_accounts):
    api = two_accounts
    r = api.post(f"{V1}/transfers", json={"from_account": "ACC001", "amount": "1"})
    assert problem(r, 422, "validation")["errors"][0]["field"] == "to_account"
    r = api.post(
        f"{V1}/postings", json={"type": "income", "account": "ACC001", "amount": "1", "x": 1}
    )
    assert problem(r, 422, "validation")["errors"][0]["field"] == "x"
    r = api.post(
        f"{V1}/postings", content=b"{not json", headers={"content-type": "application/json"}
    )
    problem(r, 400, "not_json")  # a body that is not JSON: tests/api/test_routing.py
    problem(api.get(f"{V1}/entries", params={"limit": 501}), 422, "validation")
    assert (
        problem(api.get(f"{V1}/entries", params={"cursor": "!!"}), 422, "validation")["errors"][0][
            "field"
        ]
        == "cursor"
    )
    problem(api.get(f"{V1}/entries/0"), 422, "validation")
    r = api.post(
        f"{V1}/postings",
        json={"type": "income", "account": "ACC001", "amount": "1", "remark": "a\x00b"},
    )
    assert problem(r, 422, "validation")["errors"][0]["field"] == "remark"
    r = api.post(
        f"{V1}/postings",
        json={"type": "income", "account": "ACC001", "amount": "1", "subject_id": 24},
    )
    assert problem(r, 422, "validation")["errors"][0]["field"] == "subject_id"


def test_not_found(two_accounts):
    api = two_accounts
    problem(api.get(f"{V1}/accounts/NOPE"), 404, "not_found")
    problem(api.get(f"{V1}/entries/999999"), 404, "not_found")
    problem(api.post(f"{V1}/entries/999999/reversal"), 404, "not_found")
    problem(api.post(f"{V1}/transfers/999999/reversal"), 404, "not_found")
    r = api.post(
        f"{V1}/transfers", json={"from_account": "ACC001", "to_account": "NOPE", "amount": "1"}
    )
    problem(r, 404, "not_found")


def test_ledger_refusals(two_accounts):
    api = two_accounts
    r = api.post(
        f"{V1}/transfers", json={"from_account": "ACC002", "to_account": "ACC001", "amount": "5"}
    )
    assert "ACC002" in problem(r, 422, "insufficient_funds")["detail"]
    r = api.post(
        f"{V1}/transfers", json={"from_account": "ACC001", "to_account": "ACC001", "amount": "5"}
    )
    problem(r, 422, "same_account")
    api.post(f"{V1}/accounts", json={"number": "USD1", "name": "dollars", "currency": "USD"})
    r = api.post(
        f"{V1}/transfers", json={"from_account": "ACC001", "to_account": "USD1", "amount": "5"}
    )
    problem(r, 422, "currency_mismatch")
    problem(api.post(f"{V1}/accounts", json={"number": "ACC001", "name": "dup"}), 409, "conflict")
    api.post(f"{V1}/accounts/ACC002/close")
    r = api.post(f"{V1}/postings", json={"type": "income", "account": "ACC002", "amount": "5"})
    problem(r, 409, "account_closed")
    income = api.get(f"{V1}/entries", params={"type": "income"}).json()["items"][0]
    assert api.post(f"{V1}/entries/{income['id']}/reversal").status_code == 201
    problem(api.post(f"{V1}/entries/{income['id']}/reversal"), 409, "already_reversed")


def test_core_trade_no_conflict_is_409(two_accounts):
    api = two_accounts
    body = {"type": "income", "account": "ACC001", "amount": "5", "trade_no": "T-9"}
    assert api.post(f"{V1}/postings", json=body).status_code == 201
    r = api.post(f"{V1}/postings", json={**body, "amount": "6"})
    problem(r, 409, "idempotency_conflict")


def test_unauthorized(client, ledger, make_key):
    problem(client.get(f"{V1}/accounts"), 401, "unauthorized")
    problem(
        client.get(f"{V1}/accounts", headers=bearer("zb_000000000000_nope")), 401, "unauthorized"
    )
    problem(client.get(f"{V1}/accounts", headers=bearer("some-session")), 401, "unauthorized")
    problem(
        client.get(f"{V1}/accounts", headers={"Authorization": "Basic eDp5"}), 401, "unauthorized"
    )
    secret = make_key()
    assert client.get(f"{V1}/accounts", headers=bearer(secret)).status_code == 200
    tampered = secret[:-2] + ("AA" if not secret.endswith("AA") else "BB")
    problem(client.get(f"{V1}/accounts", headers=bearer(tampered)), 401, "unauthorized")
    key_id = run_write(ledger.engine, lambda c: apikeys.list_keys(c))[-1].id
    run_write(ledger.engine, lambda c: apikeys.revoke_key(c, key_id))
    client.app.state.zb_api.keys.clear()  # as once the cache's few seconds have passed
    r = client.get(f"{V1}/accounts", headers=bearer(secret))
    assert problem(r, 401, "unauthorized") and r.headers["www-authenticate"].startswith("Bearer")


def test_forbidden(client, make_key):
    reader = bearer(make_key(scopes=("read",)))
    r = client.post(f"{V1}/accounts", json={"number": "X1", "name": "x"}, headers=reader)
    assert "write" in problem(r, 403, "forbidden")["detail"]
    problem(client.get(f"{V1}/verify", headers=reader), 403, "forbidden")


@pytest.mark.usefixtures("same_minute")
def test_rate_limited(client, make_key):
    limited = bearer(make_key(rate=2))
    assert client.get(f"{V1}/accounts", headers=limited).status_code == 200
    assert client.get(f"{V1}/accounts", headers=limited).status_code == 200
    r = client.get(f"{V1}/accounts", headers=limited)
    problem(r, 429, "rate_limited")
    assert int(r.headers["retry-after"]) >= 1


def test_idempotency_in_progress(two_accounts, ledger):
    api = two_accounts
    body = {"from_account": "ACC001", "to_account": "ACC002", "amount": "1"}
    # Claim the key as if a twin request were still running, then send the request.
    first = api.post(f"{V1}/transfers", json=body, headers={"Idempotency-Key": "probe"})
    caller = "key:" + str(
        run_write(ledger.engine, lambda c: apikeys.list_keys(c))[-1].integrator_id
    )
    run_write(
        ledger.engine,
        lambda c: idempotency.begin(c, caller, "busy", idempotency.request_hash("POST", "/x", {})),
    )
    assert first.status_code == 201
    r = api.post(f"{V1}/transfers", json=body, headers={"Idempotency-Key": "busy"})
    assert problem(r, 409, "idempotency_conflict")  # different request hash than the claim
    payload = TransferIn(**body).model_dump(mode="json")
    digest = idempotency.request_hash("POST", f"{V1}/transfers", payload)
    run_write(ledger.engine, lambda c: idempotency.begin(c, caller, "busy2", digest))
    r = api.post(f"{V1}/transfers", json=body, headers={"Idempotency-Key": "busy2"})
    problem(r, 409, "idempotency_in_progress")
    assert r.headers["retry-after"] == "1"


def test_server_fault_is_a_bare_500(two_accounts, monkeypatch):
    api = two_accounts
    ledger = api.app.state.zb_api.ledger

    def boom(*a, **kw):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ledger, "transfer", boom)
    body = {"from_account": "ACC001", "to_account": "ACC002", "amount": "1"}
    r = api.post(f"{V1}/transfers", json=body, headers={"Idempotency-Key": "k-fault"})
    assert problem(r, 500, "internal")["detail"] == "an internal error occurred"
    assert "secret internals" not in r.text
    monkeypatch.undo()
    # The fault released the key: the retry runs for real.
    r = api.post(f"{V1}/transfers", json=body, headers={"Idempotency-Key": "k-fault"})
    assert r.status_code == 201
