"""/api/v1/recon's scopes and its second approver over real HTTP, on SQLite and PostgreSQL:
``read`` is refused a match (403, nothing written), ``reconcile`` matches but is refused a
force, ``force`` forces; ``write`` implies ``reconcile`` (keys made before it existed keep
reconciling); a session's scopes follow the role; every route declares its scope in the
OpenAPI schema; a forced match above the approval amount waits for a second person."""

from __future__ import annotations

import pytest

from tests.api.support import bearer
from tests.api.test_recon import V1, _problem, _upload
from tests.recon.support import with_samples
from tests.recon.test_service import counts, expected_id, row_id
from zhangben.access.apikeys import granted, role_scopes
from zhangben.demo.orders import PLANTED

MEMO = "buyer paid the rest in cash"


@pytest.fixture
def items(api, ledger, tmp_path):
    """The sample orders uploaded and run; the never-paid sale (520.00), the orphan (66.20)."""
    _, files = with_samples(ledger, tmp_path)
    assert _upload(api, files["orders"]).status_code == 200
    assert api.post(f"{V1}/runs", json={}).status_code == 200
    return expected_id(ledger, PLANTED.never_paid, "sale"), row_id(ledger, PLANTED.no_order)


def _key(client, make_key, *scopes):
    secret = make_key(scopes=scopes)
    return lambda method, path, **kw: client.request(method, path, headers=bearer(secret), **kw)


def test_read_reconcile_and_force_keys(client, ledger, make_key, items):
    sale, orphan = items
    part = {"expected": [{"id": sale, "amount": "66.20"}], "actual": [{"id": orphan}]}
    forced = {"expected": [{"id": sale}], "actual": [{"id": orphan}], "force": True, "memo": MEMO}
    read = _key(client, make_key, "read")
    before = counts(ledger)
    body = _problem(read("POST", f"{V1}/groups", json=part), 403, "forbidden")
    assert "'reconcile'" in body["detail"]
    _problem(read("POST", f"{V1}/groups", json={**part, "preview": True}), 403, "forbidden")
    _problem(read("POST", f"{V1}/runs", json={}), 403, "forbidden")
    assert counts(ledger) == before
    assert read("GET", f"{V1}/queues").status_code == 200

    reconcile = _key(client, make_key, "reconcile")
    _problem(reconcile("POST", f"{V1}/groups", json=forced), 403, "forbidden")
    assert counts(ledger) == before
    r = reconcile("POST", f"{V1}/groups", json=part)
    assert r.status_code == 201 and r.json()["state"] == "active", r.text
    assert reconcile("GET", f"{V1}/groups/{r.json()['id']}").status_code == 200  # implies read
    undone = reconcile("POST", f"{V1}/groups/{r.json()['id']}/undo", json={"reason": "again"})
    assert undone.status_code == 200, undone.text

    force = _key(client, make_key, "force")
    r = force("POST", f"{V1}/groups", json=forced)
    assert r.status_code == 201, r.text
    assert (r.json()["outcome"], r.json()["state"]) == ("forced", "pending")  # 453.80 > 100


def test_the_approval_amount_is_a_setting_of_1000_yuan_by_default(db_url):
    from decimal import Decimal

    from zhangben.settings import Settings

    assert Settings(database_url=db_url).recon_force_approval_above == Decimal("1000.00")


def test_a_limited_key_is_refused_whatever_its_scopes(client, make_key, items):
    secret = make_key(scopes=("read", "force"), shops=["S001"])
    body = _problem(client.get(f"{V1}/queues", headers=bearer(secret)), 403, "forbidden")
    assert "limited" in body["detail"]
    assert _key(client, make_key, "read", "force")("GET", f"{V1}/queues").status_code == 200


def test_scopes_imply_and_follow_the_role():
    assert granted(["read", "write"]) == {"read", "write", "reconcile"}
    assert granted(["force"]) == {"read", "reconcile", "force"}
    assert granted(["reconcile"]) == {"read", "reconcile"}
    assert role_scopes("viewer") == {"read"}
    assert role_scopes("clerk") == role_scopes("user") == {"read", "write", "reconcile"}
    for role in ("supervisor", "admin", "staff"):
        assert role_scopes(role) == {"read", "write", "reconcile", "force"}


def test_every_recon_route_declares_its_scope(client):
    paths = client.get("/openapi.json").json()["paths"]
    declared = {
        (method, path.removeprefix("/api/v1")): op["security"]
        for path, ops in paths.items()
        if path.startswith("/api/v1/recon")
        for method, op in ops.items()
    }
    assert len(declared) >= 16
    for (method, path), security in declared.items():
        [(scheme, [scope])] = [next(iter(s.items())) for s in security]
        assert scheme == "HTTPBearer"
        if method == "get":
            wanted = "read"
        else:
            wanted = "force" if path.endswith(("approve", "reject")) else "reconcile"
        assert scope == wanted, (method, path)


def test_sessions_by_role_and_the_second_approver(client, ledger, make_session, items, settings):
    sale, orphan = items
    clerk = bearer(make_session("clerk1", "clerk")[0])
    boss = bearer(make_session("boss1", "supervisor")[0])
    other = bearer(make_session("boss2", "supervisor")[0])
    viewer = bearer(make_session("viewer1", "viewer")[0])
    whole = {"expected": [{"id": sale}], "actual": [{"id": orphan}]}
    forced = {**whole, "force": True, "memo": MEMO}
    _problem(client.post(f"{V1}/groups", json=forced, headers=clerk), 403, "forbidden")
    _problem(client.post(f"{V1}/groups", json=whole, headers=viewer), 403, "forbidden")

    pending = client.post(f"{V1}/groups", json=forced, headers=boss)
    assert pending.status_code == 201, pending.text
    group = pending.json()
    assert (group["state"], group["difference"]) == ("pending", "-453.8000")
    assert client.get(f"{V1}/expected-items/{sale}", headers=boss).json()["applied"] == "520.0000"
    before = counts(ledger)
    approve = f"{V1}/groups/{group['id']}/approve"
    body = _problem(client.post(approve, json={}, headers=boss), 403, "second_approver")
    assert "second, different person" in body["detail"]
    _problem(client.post(approve, json={}, headers=clerk), 403, "forbidden")
    assert counts(ledger) == before
    r = client.post(f"{V1}/groups/{group['id']}/reject", json={"reason": "no"}, headers=other)
    assert r.status_code == 200 and r.json()["state"] == "rejected", r.text
    assert client.get(f"{V1}/expected-items/{sale}", headers=boss).json()["applied"] == "0.0000"

    again = client.post(f"{V1}/groups", json=forced, headers=boss).json()
    r = client.post(f"{V1}/groups/{again['id']}/approve", json={"memo": "ok"}, headers=other)
    assert r.status_code == 200 and r.json()["state"] == "active", r.text
    _problem(client.post(f"{V1}/groups/{again['id']}/approve", headers=other), 409, "recon_state")
    events = client.get(f"{V1}/events?group={again['id']}", headers=boss).json()["items"]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("approved", "user:boss2"),
        ("forced", "user:boss1"),
    ]


@pytest.fixture
def settings(settings):
    """A lower approval amount (100.00), so the samples' 453.80 difference waits."""
    from decimal import Decimal

    return settings.model_copy(update={"recon_force_approval_above": Decimal("100")})
