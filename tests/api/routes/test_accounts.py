"""Accounts over REST: open, look up, list with filters, close; owners."""

from __future__ import annotations

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
