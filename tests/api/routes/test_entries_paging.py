"""Keyset cursors: newest first, stable while new entries arrive, same cost on deep pages."""

from __future__ import annotations

V1 = "/api/v1"


def test_cursor_paging_across_inserts_skips_and_repeats_nothing(two_accounts):
    api = two_accounts
    for i in range(23):
        api.post(
            f"{V1}/postings",
            json={"type": "income", "account": "ACC002", "amount": f"{i + 1}.01"},
        )
    expected = [e["id"] for e in api.get(f"{V1}/entries", params={"limit": 500}).json()["items"]]
    assert len(expected) == 24 and expected == sorted(expected, reverse=True)

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = api.get(f"{V1}/entries", params=params).json()
        seen += [e["id"] for e in page["items"]]
        pages += 1
        # New entries arrive while paging: they are newer than the cursor, so no page shows them.
        api.post(f"{V1}/postings", json={"type": "income", "account": "ACC001", "amount": "1"})
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected and pages == 5
    assert len(set(seen)) == len(seen)
    newest = api.get(f"{V1}/entries", params={"limit": 5}).json()["items"]
    assert all(e["id"] > expected[0] for e in newest)


def test_cursor_keeps_filters_and_total(two_accounts):
    api = two_accounts
    for _ in range(6):
        api.post(
            f"{V1}/transfers",
            json={"from_account": "ACC001", "to_account": "ACC002", "amount": "1"},
        )
    q = {"account": "ACC002", "limit": 4, "with_total": "true"}
    first = api.get(f"{V1}/entries", params=q).json()
    assert first["total"] == 6 and len(first["items"]) == 4
    second = api.get(f"{V1}/entries", params={**q, "cursor": first["next_cursor"]}).json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    assert {e["account"] for e in first["items"] + second["items"]} == {"ACC002"}
