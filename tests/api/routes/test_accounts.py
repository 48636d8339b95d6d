"""Accounts over REST: open, look up, list with filters, close; owners."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

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


@pytest.mark.both_backends
def test_balance_as_of_never_leaves_the_ledgers_range(api, ledger):
    """Back-dated postings can make the sum at an earlier instant larger than any balance the
    account ever held: ten incomes of the maximum dated in January, each followed by an
    expense dated in June. Summed as of February that is past ±900,000,000,000,000 (and past
    int64 in minor units): the same 422 on both databases, never a 500 or a number above the
    ledger's own maximum (issue 13, point 6)."""
    sh = ZoneInfo("Asia/Shanghai")
    biggest = "99999999999999.9999"
    ledger.open_account(number="BIG", name="big")
    january, june = datetime(2024, 1, 1, tzinfo=sh), datetime(2024, 6, 1, tzinfo=sh)
    for i in range(10):
        ledger.income("BIG", biggest, trade_time=january + timedelta(hours=i))
        ledger.expense("BIG", biggest, trade_time=june)

    def as_of(instant: str):
        return api.get(f"{V1}/accounts/BIG/balance", params={"as_of": instant})

    # within the range: exact
    assert as_of("2024-01-01T00:30:00").json()["balance"] == biggest
    assert as_of("2024-01-01T08:30:00").json()["balance"] == "899999999999999.9991"
    assert as_of("2024-07-01T00:00:00").json()["balance"] == "0.0000"
    # beyond it: refused, naming as_of
    r = as_of("2024-02-01T00:00:00")
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "validation"
    assert problem["errors"][0]["field"] == "as_of"
    assert "900000000000000.0000" in problem["detail"]
