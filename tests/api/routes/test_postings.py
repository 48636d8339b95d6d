"""Writes that move money over REST: postings, transfers, balances after them, a trade number
replayed by the core, reversals. (On SQLite; the overflow's 422 on both databases.)"""

from __future__ import annotations

import pytest

V1 = "/api/v1"


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


#: The largest amount one posting may carry (money.MAX_AMOUNT).
MAX = "99999999999999.9999"


@pytest.mark.both_backends
def test_a_posting_that_would_overflow_a_balance_is_the_same_422_on_both_databases(api, ledger):
    """R11 answers on PostgreSQL (zb_post v3 sums in numeric) as on SQLite: a 422 naming the
    amount, never a 500 (issue 13, point 6)."""
    ledger.open_account(number="BIG", name="big")
    ledger.open_account(number="SRC", name="src", allow_overdraft=True)
    for _ in range(9):  # 899,999,999,999,999.9991: just under the ±900,000,000,000,000 limit
        ledger.income("BIG", MAX)
    calls = [
        ("postings", {"type": "income", "account": "BIG", "amount": "1"}),
        ("transfers", {"from_account": "SRC", "to_account": "BIG", "amount": "1"}),
    ]
    for path, payload in calls:
        r = api.post(f"{V1}/{path}", json=payload)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["code"] == "validation"
        assert problem["detail"] == "amount: account BIG's balance would overflow"
        assert problem["errors"] == [
            {"field": "amount", "message": "account BIG's balance would overflow"}
        ]
    assert api.get(f"{V1}/accounts/BIG/balance").json()["balance"] == "899999999999999.9991"
    assert api.get(f"{V1}/accounts/SRC/balance").json()["balance"] == "0.0000"
