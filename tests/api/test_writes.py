"""Idempotency-Key: replay writes nothing, a different body is refused, keys are per caller,
concurrent duplicates write once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.support import bearer

V1 = "/api/v1"
TRANSFER = {"from_account": "ACC001", "to_account": "ACC002", "amount": "10"}


def count(api) -> int:
    return api.get(f"{V1}/entries", params={"with_total": "true", "limit": 1}).json()["total"]


def test_same_key_same_body_replays_the_first_response(two_accounts):
    api = two_accounts
    before = count(api)
    first = api.post(f"{V1}/transfers", json=TRANSFER, headers={"Idempotency-Key": "t-1"})
    assert first.status_code == 201
    for _ in range(3):
        again = api.post(f"{V1}/transfers", json=TRANSFER, headers={"Idempotency-Key": "t-1"})
        assert again.status_code == 201 and again.content == first.content
        assert again.headers["idempotent-replayed"] == "true"
    assert count(api) == before + 2
    assert api.get(f"{V1}/accounts/ACC002/balance").json()["balance"] == "10.0000"


def test_same_key_different_body_is_409_and_writes_nothing(two_accounts):
    api = two_accounts
    api.post(f"{V1}/transfers", json=TRANSFER, headers={"Idempotency-Key": "t-2"})
    before = count(api)
    r = api.post(
        f"{V1}/transfers", json={**TRANSFER, "amount": "11"}, headers={"Idempotency-Key": "t-2"}
    )
    assert r.status_code == 409 and r.json()["code"] == "idempotency_conflict"
    r = api.post(
        f"{V1}/postings",
        json={"type": "income", "account": "ACC001", "amount": "10"},
        headers={"Idempotency-Key": "t-2"},
    )
    assert r.status_code == 409  # another route is another request
    assert count(api) == before


def test_every_write_route_is_idempotent(two_accounts):
    api = two_accounts
    calls = [
        ("/accounts", {"number": "ACC003", "name": "three"}),
        ("/postings", {"type": "income", "account": "ACC003", "amount": "7"}),
        ("/transfers", {"from_account": "ACC003", "to_account": "ACC002", "amount": "2"}),
    ]
    for path, body in calls:
        first = api.post(V1 + path, json=body, headers={"Idempotency-Key": "same-" + path})
        before = count(api)
        again = api.post(V1 + path, json=body, headers={"Idempotency-Key": "same-" + path})
        assert first.status_code in (200, 201), first.text
        assert (again.status_code, again.content) == (first.status_code, first.content), path
        assert count(api) == before
    entry_id = api.get(f"{V1}/entries", params={"type": "income", "account": "ACC001"}).json()[
        "items"
    ][0]["id"]
    transfer_id = api.get(f"{V1}/entries", params={"type": "transfer_in"}).json()["items"][0][
        "posting_id"
    ]
    paths = (
        f"/entries/{entry_id}/reversal",
        f"/transfers/{transfer_id}/reversal",
        "/accounts/ACC001/close",
    )
    for path in paths:
        first = api.post(V1 + path, headers={"Idempotency-Key": "rev" + path})
        before = count(api)
        again = api.post(V1 + path, headers={"Idempotency-Key": "rev" + path})
        assert first.status_code in (200, 201), first.text
        assert (again.status_code, again.content) == (first.status_code, first.content)
        assert count(api) == before


def test_refusals_are_stored_too(two_accounts):
    api = two_accounts
    body = {"from_account": "ACC002", "to_account": "ACC001", "amount": "5"}
    first = api.post(f"{V1}/transfers", json=body, headers={"Idempotency-Key": "poor"})
    assert first.status_code == 422 and first.json()["code"] == "insufficient_funds"
    api.post(f"{V1}/postings", json={"type": "income", "account": "ACC002", "amount": "50"})
    again = api.post(f"{V1}/transfers", json=body, headers={"Idempotency-Key": "poor"})
    assert (again.status_code, again.content) == (422, first.content)
    assert (
        api.post(f"{V1}/transfers", json=body, headers={"Idempotency-Key": "rich"}).status_code
        == 201
    )


def test_keys_are_per_caller(two_accounts, make_key):
    api = two_accounts
    other = bearer(make_key())
    a = api.post(f"{V1}/transfers", json=TRANSFER, headers={"Idempotency-Key": "shared"})
    b = api.post(f"{V1}/transfers", json=TRANSFER, headers={"Idempotency-Key": "shared", **other})
    assert a.status_code == b.status_code == 201
    assert a.json()["transfer_id"] != b.json()["transfer_id"]


def test_a_stale_claim_is_taken_over_and_the_core_key_prevents_a_double_post(two_accounts):
    api = two_accounts
    caller = None
    first = api.post(f"{V1}/transfers", json=TRANSFER, headers={"Idempotency-Key": "crash"})
    assert first.status_code == 201
    # Simulate a crash after the ledger write: the stored response is lost, the claim is stale.
    engine = api.app.state.zb_api.ledger.engine
    from zhangben.store.access_tables import idempotency_records as rec

    with engine.begin() as conn:
        caller = conn.execute(rec.select()).first().caller
        conn.execute(
            rec.update().values(
                status=None, body=None, created_at=datetime.now(UTC) - timedelta(minutes=5)
            )
        )
    before = count(api)
    again = api.post(f"{V1}/transfers", json=TRANSFER, headers={"Idempotency-Key": "crash"})
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["transfer_id"] == first.json()["transfer_id"]
    assert count(api) == before and caller.startswith("key:")


def test_how_long_a_claim_lives_is_a_setting(settings, ledger, make_key, two_accounts):
    """ZHANGBEN_IDEMPOTENCY_STALE_SECONDS: a claim 5 s old is alive at the default (15 s), a
    retry gets 409 in progress; at 2 s it is dead and the retry takes it over."""
    from fastapi.testclient import TestClient

    from zhangben.app import create_app
    from zhangben.store.access_tables import idempotency_records as rec

    api = two_accounts
    engine = api.app.state.zb_api.ledger.engine

    def orphan_claim(key: str) -> None:  # a worker killed after its claim, before its answer
        first = api.post(f"{V1}/transfers", json=TRANSFER, headers={"Idempotency-Key": key})
        assert first.status_code == 201
        with engine.begin() as conn:
            conn.execute(
                rec.update()
                .where(rec.c.key == key)
                .values(status=None, body=None, created_at=datetime.now(UTC) - timedelta(seconds=5))
            )

    orphan_claim("slow")
    busy = api.post(f"{V1}/transfers", json=TRANSFER, headers={"Idempotency-Key": "slow"})
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency_in_progress"
    short = settings.model_copy(update={"idempotency_stale_seconds": 2})
    with TestClient(create_app(short, ledger), headers=dict(api.headers)) as quick:
        assert quick.app.state.zb_api.idempotency_stale == timedelta(seconds=2)
        before = count(quick)
        again = quick.post(f"{V1}/transfers", json=TRANSFER, headers={"Idempotency-Key": "slow"})
        assert again.status_code == 200 and again.json()["replayed"] is True
        assert count(quick) == before
    assert api.app.state.zb_api.idempotency_stale == timedelta(seconds=15)


@pytest.mark.both_backends  # PostgreSQL's writers race; SQLite's queue
def test_concurrent_duplicates_write_once(two_accounts):
    api = two_accounts
    before = count(api)

    def send(_):
        return api.post(f"{V1}/transfers", json=TRANSFER, headers={"Idempotency-Key": "race"})

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, range(16)))
    statuses = {r.status_code for r in results}
    assert statuses <= {201, 409}, statuses
    ok = [r for r in results if r.status_code == 201]
    assert ok and len({r.content for r in ok}) == 1
    busy = [r for r in results if r.status_code == 409]
    assert all(r.json()["code"] == "idempotency_in_progress" for r in busy)
    assert count(api) == before + 2
