"""Scopes, shop and account limits of API keys; staff and user sessions."""

from __future__ import annotations

import pytest

from tests.api.support import bearer

V1 = "/api/v1"


@pytest.fixture
def shops(api):
    """Accounts in two shops, each with money."""
    for number, shop in (("S1A", "S001"), ("S1B", "S001"), ("S2A", "S002")):
        assert (
            api.post(
                f"{V1}/accounts", json={"number": number, "name": number, "shop_code": shop}
            ).status_code
            == 201
        )
        api.post(f"{V1}/postings", json={"type": "income", "account": number, "amount": "100"})
    return api


def test_read_scope_reads_but_never_writes(shops, make_key):
    reader = bearer(make_key(scopes=("read",)))
    assert shops.get(f"{V1}/accounts", headers=reader).status_code == 200
    assert shops.get(f"{V1}/entries", headers=reader).status_code == 200
    for path, body in (
        ("/postings", {"type": "income", "account": "S1A", "amount": "1"}),
        ("/transfers", {"from_account": "S1A", "to_account": "S1B", "amount": "1"}),
        ("/accounts", {"number": "NEW", "name": "n"}),
        ("/accounts/S1A/close", None),
        ("/entries/1/reversal", None),
        ("/transfers/1/reversal", None),
    ):
        r = shops.post(V1 + path, json=body, headers=reader)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", path


def test_shop_limited_key(shops, make_key):
    s1 = bearer(make_key(shops=["S001"]))
    listed = shops.get(f"{V1}/accounts", headers=s1).json()["items"]
    assert [a["number"] for a in listed] == ["S1A", "S1B"]
    assert shops.get(f"{V1}/accounts", params={"shop": "S002"}, headers=s1).json()["items"] == []
    assert shops.get(f"{V1}/accounts/S2A", headers=s1).status_code == 403
    assert shops.get(f"{V1}/accounts/S2A/balance", headers=s1).status_code == 403
    entries = shops.get(f"{V1}/entries", headers=s1).json()["items"]
    assert {e["account"] for e in entries} == {"S1A", "S1B"}
    assert shops.get(f"{V1}/entries", params={"account": "S2A"}, headers=s1).json()["items"] == []
    s2_entry = shops.get(f"{V1}/entries", params={"account": "S2A"}).json()["items"][0]
    assert shops.get(f"{V1}/entries/{s2_entry['id']}", headers=s1).status_code == 403
    assert shops.post(f"{V1}/entries/{s2_entry['id']}/reversal", headers=s1).status_code == 403
    ok = {"from_account": "S1A", "to_account": "S1B", "amount": "1"}
    assert shops.post(f"{V1}/transfers", json=ok, headers=s1).status_code == 201
    out = {"from_account": "S1A", "to_account": "S2A", "amount": "1"}
    r = shops.post(f"{V1}/transfers", json=out, headers=s1)
    assert r.status_code == 403 and "S2A" in r.json()["detail"]
    assert shops.get(f"{V1}/balances", headers=s1).json()["totals"] == {"CNY": "200.0000"}
    r = shops.post(
        f"{V1}/accounts", json={"number": "X", "name": "x", "shop_code": "S002"}, headers=s1
    )
    assert r.status_code == 403
    r = shops.post(
        f"{V1}/accounts", json={"number": "X", "name": "x", "shop_code": "S001"}, headers=s1
    )
    assert r.status_code == 201


def test_account_limited_key(shops, make_key):
    only = bearer(make_key(accounts=["S1A"]))
    assert [a["number"] for a in shops.get(f"{V1}/accounts", headers=only).json()["items"]] == [
        "S1A"
    ]
    assert shops.get(f"{V1}/accounts/S1B", headers=only).status_code == 403
    r = shops.post(
        f"{V1}/postings", json={"type": "expense", "account": "S1B", "amount": "1"}, headers=only
    )
    assert r.status_code == 403
    r = shops.post(
        f"{V1}/postings", json={"type": "expense", "account": "S1A", "amount": "1"}, headers=only
    )
    assert r.status_code == 201


def test_user_session_reads_and_writes_only_own_accounts(client, api, make_session):
    alice, alice_id = make_session("alice")
    bob, bob_id = make_session("bob")
    for number, owner in (("ALICE1", alice_id), ("ALICE2", alice_id), ("BOB1", bob_id)):
        api.post(f"{V1}/accounts", json={"number": number, "name": number, "owner_id": owner})
        api.post(f"{V1}/postings", json={"type": "income", "account": number, "amount": "50"})
    a = bearer(alice)
    mine = client.get(f"{V1}/accounts", headers=a).json()["items"]
    assert [x["number"] for x in mine] == ["ALICE1", "ALICE2"]
    assert client.get(f"{V1}/accounts", params={"owner": bob_id}, headers=a).json()["items"] == []
    assert client.get(f"{V1}/accounts/BOB1", headers=a).status_code == 403
    assert {e["account"] for e in client.get(f"{V1}/entries", headers=a).json()["items"]} == {
        "ALICE1",
        "ALICE2",
    }
    before = api.get(f"{V1}/accounts/BOB1/balance").json()["balance"]
    for body in (
        {"type": "expense", "account": "BOB1", "amount": "1"},
        {"type": "income", "account": "BOB1", "amount": "1"},
    ):
        r = client.post(f"{V1}/postings", json=body, headers=a)
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = client.post(
        f"{V1}/transfers",
        json={"from_account": "ALICE1", "to_account": "BOB1", "amount": "1"},
        headers=a,
    )
    assert r.status_code == 403
    bob_entry = api.get(f"{V1}/entries", params={"account": "BOB1"}).json()["items"][0]
    assert client.post(f"{V1}/entries/{bob_entry['id']}/reversal", headers=a).status_code == 403
    assert api.get(f"{V1}/accounts/BOB1/balance").json()["balance"] == before
    r = client.post(
        f"{V1}/transfers",
        json={"from_account": "ALICE1", "to_account": "ALICE2", "amount": "1"},
        headers=a,
    )
    assert r.status_code == 201
    assert r.json()["entries"][0]["operator_id"] == alice_id
    assert (
        client.post(f"{V1}/accounts", json={"number": "N", "name": "n"}, headers=a).status_code
        == 403
    )
    assert client.get(f"{V1}/verify", headers=a).status_code == 403
    assert client.post(f"{V1}/categories", json={"name": "x"}, headers=a).status_code == 403


def test_staff_session_sees_and_writes_everything(client, api, make_session):
    staff, _ = make_session("boss", "staff")
    s = bearer(staff)
    assert (
        client.post(f"{V1}/accounts", json={"number": "ST1", "name": "n"}, headers=s).status_code
        == 201
    )
    r = client.post(
        f"{V1}/postings", json={"type": "income", "account": "ST1", "amount": "3"}, headers=s
    )
    assert r.status_code == 201
    assert client.get(f"{V1}/verify", headers=s).json()["ok"] is True


# -- the per-process cache of verified API keys ----------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def key_cache(client):
    cache = client.app.state.zb_api.keys
    cache.clock = FakeClock()
    assert cache.ttl == 5.0  # ZHANGBEN_AUTH_CACHE_SECONDS' default
    return cache


def test_a_revoked_key_stops_working_within_the_cache_ttl(client, ledger, make_key, key_cache):
    from zhangben.access import apikeys
    from zhangben.store.engine import run_write

    secret = make_key()
    assert client.get(f"{V1}/accounts", headers=bearer(secret)).status_code == 200
    assert len(key_cache) == 1
    key_id = run_write(ledger.engine, lambda c: apikeys.list_keys(c))[-1].id
    run_write(ledger.engine, lambda c: apikeys.revoke_key(c, key_id))
    key_cache.clock.now += 4.9  # still cached in this process: at most ttl seconds
    assert client.get(f"{V1}/accounts", headers=bearer(secret)).status_code == 200
    key_cache.clock.now += 0.2  # past the ttl: read again, refused
    r = client.get(f"{V1}/accounts", headers=bearer(secret))
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert client.get(f"{V1}/accounts", headers=bearer(secret)).status_code == 401
    assert len(key_cache) == 0  # refusals are not cached


def test_a_disabled_integrator_and_narrowed_grants_apply_within_the_ttl(
    client, ledger, make_key, key_cache
):
    from zhangben.access import apikeys, integrators
    from zhangben.store.engine import run_write

    secret = make_key()
    assert client.get(f"{V1}/accounts", headers=bearer(secret)).status_code == 200
    iid = run_write(ledger.engine, lambda c: apikeys.list_keys(c))[-1].integrator_id
    run_write(ledger.engine, lambda c: integrators.grant(c, iid, shop_codes=["S009"]))
    key_cache.clock.now += 5.1
    r = client.post(f"{V1}/accounts", json={"number": "X1", "name": "x"}, headers=bearer(secret))
    assert r.status_code == 403  # the new shop limit is seen
    run_write(ledger.engine, lambda c: integrators.set_enabled(c, iid, False))
    key_cache.clock.now += 5.1
    assert client.get(f"{V1}/accounts", headers=bearer(secret)).status_code == 401


def test_a_tampered_key_is_refused_even_while_the_real_one_is_cached(client, make_key, key_cache):
    secret = make_key()
    assert client.get(f"{V1}/accounts", headers=bearer(secret)).status_code == 200
    tampered = secret[:-1] + ("A" if not secret.endswith("A") else "B")
    assert client.get(f"{V1}/accounts", headers=bearer(tampered)).status_code == 401


@pytest.mark.usefixtures("same_minute")
def test_rate_limit_is_counted_on_every_request_even_when_the_key_is_cached(
    client, make_key, key_cache
):
    secret = make_key(rate=3)
    codes = [client.get(f"{V1}/accounts", headers=bearer(secret)).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_sessions_are_not_cached_logout_ends_them_at_once(client, ledger, make_session):
    from datetime import UTC, datetime

    from zhangben.access import sessions
    from zhangben.store.engine import run_write

    token, _ = make_session("boss", role="staff")
    assert client.get(f"{V1}/accounts", headers=bearer(token)).status_code == 200
    run_write(ledger.engine, lambda c: sessions.logout(c, token, datetime.now(UTC)))
    assert client.get(f"{V1}/accounts", headers=bearer(token)).status_code == 401


def test_no_cache_with_ttl_zero(settings, ledger, make_key):
    from fastapi.testclient import TestClient

    from zhangben.access import apikeys
    from zhangben.app import create_app
    from zhangben.store.engine import run_write

    secret = make_key()
    with TestClient(create_app(settings.model_copy(update={"auth_cache_seconds": 0}), ledger)) as c:
        assert c.get(f"{V1}/accounts", headers=bearer(secret)).status_code == 200
        key_id = run_write(ledger.engine, lambda conn: apikeys.list_keys(conn))[-1].id
        run_write(ledger.engine, lambda conn: apikeys.revoke_key(conn, key_id))
        assert c.get(f"{V1}/accounts", headers=bearer(secret)).status_code == 401


def _same_refusal(hidden, missing, hidden_name: str, missing_name: str) -> None:
    """Two 403 problems that differ only by the name the caller sent."""
    assert hidden.status_code == missing.status_code == 403, (hidden.text, missing.text)
    assert hidden.headers["content-type"] == missing.headers["content-type"]
    a, b = hidden.json(), missing.json()
    assert a["code"] == b["code"] == "forbidden"
    assert a["detail"].replace(hidden_name, "X") == b["detail"].replace(missing_name, "X")
    assert {k: v for k, v in a.items() if k not in ("detail", "instance")} == {
        k: v for k, v in b.items() if k not in ("detail", "instance")
    }


def test_a_limited_caller_cannot_tell_what_exists_outside_its_reach(
    shops, make_key, make_session, client
):
    """A key limited to shop S001 (or a user's session) gets the same 403 for another shop's
    account, entry or transfer as for one that does not exist: a 404 would tell that it does
    not (issue 13, point 10). An unrestricted key still gets the 404."""
    api = shops
    b = {"number": "S2B", "name": "b", "shop_code": "S002"}
    assert api.post(f"{V1}/accounts", json=b).status_code == 201
    move = {"from_account": "S2A", "to_account": "S2B", "amount": "1"}
    transfer_id = api.post(f"{V1}/transfers", json=move).json()["transfer_id"]
    entry_id = api.get(f"{V1}/entries", params={"account": "S2A"}).json()["items"][-1]["id"]
    alice, _ = make_session("alice")
    for who in (bearer(make_key(shops=["S001"])), bearer(alice)):
        for path in ("", "/balance"):
            hidden = client.get(f"{V1}/accounts/S2A{path}", headers=who)
            missing = client.get(f"{V1}/accounts/NOPE{path}", headers=who)
            _same_refusal(hidden, missing, "S2A", "NOPE")
        for body in (
            {"type": "income", "account": "{}", "amount": "1"},
            {"from_account": "S1A", "to_account": "{}", "amount": "1"},
        ):
            path = "/postings" if "type" in body else "/transfers"
            hidden, missing = (
                client.post(
                    V1 + path,
                    json={k: v.format(n) for k, v in body.items()},
                    headers=who,
                )
                for n in ("S2A", "NOPE")
            )
            _same_refusal(hidden, missing, "S2A", "NOPE")
        for path, real in (
            ("/entries/{}", entry_id),
            ("/entries/{}/reversal", entry_id),
            ("/transfers/{}/reversal", transfer_id),
        ):
            call = client.get if path == "/entries/{}" else client.post
            hidden = call(V1 + path.format(real), headers=who)
            missing = call(V1 + path.format(999999), headers=who)
            _same_refusal(hidden, missing, str(real), "999999")
    key = bearer(make_key(shops=["S001"]))
    hidden = client.post(f"{V1}/accounts/S2A/close", headers=key)
    missing = client.post(f"{V1}/accounts/NOPE/close", headers=key)
    _same_refusal(hidden, missing, "S2A", "NOPE")
    assert api.get(f"{V1}/accounts/NOPE").status_code == 404
    assert api.get(f"{V1}/entries/999999").status_code == 404
    assert api.post(f"{V1}/transfers/999999/reversal").status_code == 404
