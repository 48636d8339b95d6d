"""Every REST resource over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.api.support import bearer

V1 = "/api/v1"


def test_accounts_open_get_list_filter_close(api):
    r = api.post(
        f"{V1}/accounts",
        json={
            "number": "ACC100",
            "name": "店铺三主账户",
            "type": "main",
            "shop_code": "S003",
            "allow_overdraft": True,
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["balance"] == "0.0000" and body["status"] == "open" and body["allow_overdraft"]
    api.post(f"{V1}/accounts", json={"number": "ALI1", "name": "支付宝", "type": "alipay"})
    assert api.get(f"{V1}/accounts/ACC100").json()["shop_code"] == "S003"

    def numbers(**q):
        return [a["number"] for a in api.get(f"{V1}/accounts", params=q).json()["items"]]

    assert numbers() == ["ACC100", "ALI1"]
    assert numbers(type="alipay") == ["ALI1"]
    assert numbers(shop="S003") == ["ACC100"]
    assert numbers(status="closed") == []
    closed = api.post(f"{V1}/accounts/ACC100/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] is not None
    assert numbers(status="closed") == ["ACC100"]


def test_accounts_with_owner(api, make_session):
    _, uid = make_session("alice")
    r = api.post(f"{V1}/accounts", json={"number": "A1", "name": "x", "owner_id": uid})
    assert r.status_code == 201 and r.json()["owner_id"] == uid
    assert [
        a["number"] for a in api.get(f"{V1}/accounts", params={"owner": uid}).json()["items"]
    ] == ["A1"]
    r = api.post(f"{V1}/accounts", json={"number": "A2", "name": "x", "owner_id": 999999})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "owner_id"


def test_income_expense_transfer_and_balances(two_accounts):
    api = two_accounts
    r = api.post(
        f"{V1}/postings",
        json={
            "type": "expense",
            "account": "ACC001",
            "amount": "12.34",
            "subject_id": 5,
            "remark": "采购付款",
            "trade_time": "2024-01-01T11:00:00",
        },
    )
    assert r.status_code == 201, r.text
    posting = r.json()
    (entry,) = posting["entries"]
    assert entry["amount"] == "-12.3400" and entry["balance_after"] == "987.6600"
    assert entry["category_id"] == 4 and entry["subject_name"] == "采购付款"
    assert entry["trade_time"] == "2024-01-01T11:00:00+08:00"
    assert entry["source"] == "api"

    r = api.post(
        f"{V1}/transfers",
        json={"from_account": "ACC001", "to_account": "ACC002", "amount": "200.5"},
    )
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["kind"] == "transfer" and t["transfer_id"] == t["posting_id"]
    out, in_ = t["entries"]
    assert (out["type"], out["amount"], out["account"]) == ("transfer_out", "-200.5000", "ACC001")
    assert (in_["type"], in_["amount"], in_["account"]) == ("transfer_in", "200.5000", "ACC002")
    assert out["posting_id"] == in_["posting_id"] == t["transfer_id"]

    assert api.get(f"{V1}/accounts/ACC001/balance").json()["balance"] == "787.1600"
    as_of = api.get(f"{V1}/accounts/ACC001/balance", params={"as_of": "2024-01-01T11:00:00+08:00"})
    assert as_of.json()["balance"] == "-12.3400"  # the income was posted "now", after that
    assert as_of.json()["as_of"].startswith("2024-01-01T11:00:00")
    bal = api.get(f"{V1}/balances").json()
    assert {b["account"]: b["balance"] for b in bal["items"]} == {
        "ACC001": "787.1600",
        "ACC002": "200.5000",
    }
    assert bal["totals"] == {"CNY": "987.6600"}


def test_trade_no_replay_by_the_core_is_200(two_accounts):
    api = two_accounts
    body = {"type": "income", "account": "ACC002", "amount": "5", "trade_no": "T-1"}
    first = api.post(f"{V1}/postings", json=body)
    again = api.post(f"{V1}/postings", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["replayed"] is True
    assert again.json()["posting_id"] == first.json()["posting_id"]


def test_reversals(two_accounts):
    api = two_accounts
    income_entry = api.get(f"{V1}/entries").json()["items"][0]
    r = api.post(f"{V1}/entries/{income_entry['id']}/reversal", json={"remark": "录错了"})
    assert r.status_code == 201, r.text
    (rev,) = r.json()["entries"]
    assert rev["type"] == "reversal" and rev["amount"] == "-1000.0000"
    assert rev["reverses_entry_id"] == income_entry["id"] and rev["remark"] == "录错了"

    api.post(f"{V1}/postings", json={"type": "income", "account": "ACC001", "amount": "50"})
    t = api.post(
        f"{V1}/transfers", json={"from_account": "ACC001", "to_account": "ACC002", "amount": "30"}
    ).json()
    r = api.post(f"{V1}/transfers/{t['transfer_id']}/reversal")
    assert r.status_code == 201, r.text
    assert [e["amount"] for e in r.json()["entries"]] == ["30.0000", "-30.0000"]
    assert api.get(f"{V1}/accounts/ACC002/balance").json()["balance"] == "0.0000"


def test_entries_get_and_filters(two_accounts):
    api = two_accounts
    api.post(f"{V1}/accounts", json={"number": "S1", "name": "shop", "shop_code": "S001"})
    api.post(
        f"{V1}/postings",
        json={
            "type": "income",
            "account": "S1",
            "amount": "9",
            "source": "alipay",
            "external_id": "A-1",
            "trade_time": "2024-03-01 10:00:00",
        },
    )
    api.post(
        f"{V1}/transfers", json={"from_account": "ACC001", "to_account": "ACC002", "amount": "1"}
    )

    def ids(**q):
        items = api.get(f"{V1}/entries", params=q).json()["items"]
        return [e["account"] + ":" + e["type"] for e in items]

    assert ids(account="ACC002") == ["ACC002:transfer_in"]
    assert ids(account=["ACC002", "S1"]) == ["ACC002:transfer_in", "S1:income"]
    assert ids(type="income") == ["S1:income", "ACC001:income"]
    assert ids(shop="S001") == ["S1:income"]
    assert ids(source="alipay") == ["S1:income"]
    assert ids(category=24) == ["ACC002:transfer_in", "ACC001:transfer_out"]
    assert ids(start="2024-03-01T00:00:00", end="2024-03-02T00:00:00") == ["S1:income"]
    page = api.get(f"{V1}/entries", params={"with_total": "true", "limit": 1}).json()
    assert page["total"] == 4 and len(page["items"]) == 1 and page["next_cursor"]
    one = page["items"][0]
    assert api.get(f"{V1}/entries/{one['id']}").json() == one


def test_categories_verify_and_problem_catalogue(client, api, make_session):
    chart = api.get(f"{V1}/categories").json()["items"]
    transfer = next(c for c in chart if c["id"] == 24)
    assert [s["name"] for s in transfer["subjects"]] == ["转账转出", "转账转入"]
    staff, _ = make_session("boss", "staff")
    r = client.post(
        f"{V1}/categories", json={"name": "广告费", "kind": "expense"}, headers=bearer(staff)
    )
    assert r.status_code == 201 and r.json()["id"] >= 100
    sub = client.post(
        f"{V1}/categories",
        json={"name": "直通车", "kind": "expense", "parent_id": r.json()["id"]},
        headers=bearer(staff),
    )
    assert sub.status_code == 201 and sub.json()["parent_id"] == r.json()["id"]
    v = client.get(f"{V1}/verify", headers=bearer(staff))
    assert v.status_code == 200 and v.json()["ok"] is True
    codes = {p["code"] for p in client.get(f"{V1}/problems").json()}
    assert {"validation", "insufficient_funds", "idempotency_conflict", "rate_limited"} <= codes
    assert client.get(f"{V1}/problems/not_found").json()["status"] == 404


def test_openapi_documents_every_route(client):
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    api_paths = {p: ops for p, ops in spec["paths"].items() if p.startswith(V1)}
    assert len(api_paths) >= 14
    for path, ops in api_paths.items():
        for method, op in ops.items():
            responses = op["responses"]
            assert "422" in responses and "500" in responses, (method, path)
            problem = responses["500"]["content"]["application/problem+json"]["schema"]
            assert problem["$ref"].endswith("/Problem")
            if not path.startswith(f"{V1}/problems"):
                assert op["security"] == [{"HTTPBearer": []}]
                assert "401" in responses
            ok = responses.get("200") or responses.get("201")
            assert "application/json" in ok["content"], (method, path)
    money = spec["components"]["schemas"]["TransferIn"]["properties"]["amount"]
    assert money["type"] == "string" and "pattern" in money
    assert client.get("/docs").status_code == 200
