"""Reading the flow over REST: one entry, and the list's filters. (Its cursors:
test_entries_paging.py.)"""

from __future__ import annotations

V1 = "/api/v1"


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
