"""The chart, the verifier and the problem type catalogue over REST (staff only where it
writes)."""

from __future__ import annotations

from tests.api.support import bearer

V1 = "/api/v1"


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
