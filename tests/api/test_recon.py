"""/api/v1/recon over real HTTP (on SQLite; the facade runs on both databases): the walk-through of
docs/reconciliation.md (order file in, runs, queues, a match by hand, undo, force, void,
ignore, key, events), and bad input refused with a stable problem type, writing nothing."""

from __future__ import annotations

import pytest

from tests.api.support import bearer
from tests.recon.support import with_samples
from tests.recon.test_service import counts, expected_id, row_id
from zhangben.demo.orders import PLANTED
from zhangben.periods import Periods

V1 = "/api/v1/recon"
PROBLEM = "application/problem+json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def staff(client, make_session):
    token, _ = make_session("boss", "staff")
    return bearer(token)


@pytest.fixture
def books(api, ledger, tmp_path):
    """The sample WeChat bill imported; the order file uploaded and a run made."""
    _, files = with_samples(ledger, tmp_path)
    return api, files


def _upload(api, path):
    return api.post(
        f"{V1}/expected-items/file?shop=S001",
        content=path.read_bytes(),
        headers={"Content-Type": "text/csv"},
    )


def _problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["code"] == code and body["type"] == f"/api/v1/problems/{code}"
    return body


def test_the_walk_through_over_rest(books, ledger, client, staff):
    api, files = books
    r = _upload(api, files["orders"])
    assert r.status_code == 200, r.text
    assert r.json() == {"lines": 56, "new": 56, "existing": 0}
    assert _upload(api, files["orders"]).json() == {"lines": 56, "new": 0, "existing": 56}

    dry = api.post(f"{V1}/runs", json={"dry_run": True})
    assert dry.status_code == 200, dry.text
    assert dry.json()["run_id"] is None and dry.json()["counts"]["auto_exact"] == 24
    assert api.get(f"{V1}/runs").json()["items"] == []
    real = api.post(f"{V1}/runs", json={}).json()
    assert real["run_id"] >= 1 and real["sha256"] == dry.json()["sha256"]
    [stored] = api.get(f"{V1}/runs").json()["items"]
    assert stored["id"] == real["run_id"] and stored["counts"] == real["counts"]

    queues = api.get(f"{V1}/queues").json()
    assert queues["exceptions"] == 6
    by_code = {q["code"]: q for q in queues["items"]}
    assert by_code["paid_no_order"]["count"] == 1
    assert by_code["paid_no_order"]["total"] == "66.2000"
    assert by_code["awaiting"]["counted"] is False
    q = api.get(f"{V1}/queues/到账无订单").json()
    [row] = q["rows"]
    orphan = row_id(ledger, PLANTED.no_order)
    assert (row["subject"], row["id"], row["key"]) == ("bill_row", orphan, PLANTED.no_order)
    xlsx = api.get(f"{V1}/queues/paid_no_order?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == XLSX
    assert xlsx.content[:2] == b"PK"
    _problem(api.get(f"{V1}/queues/nope"), 404, "not_found")

    sale = expected_id(ledger, PLANTED.never_paid, "sale")
    item = api.get(f"{V1}/expected-items/{sale}").json()
    assert (item["amount"], item["applied"], item["state"]) == ("520.0000", "0.0000", "open")
    part = {"expected": [{"id": sale, "amount": "66.20"}], "actual": [{"id": orphan}]}
    before = counts(ledger)
    preview = api.post(f"{V1}/groups", json={**part, "preview": True}).json()
    assert (preview["id"], preview["outcome"], preview["difference"]) == (None, "exact", "0.0000")
    assert counts(ledger) == before
    r = api.post(f"{V1}/groups", json=part)
    assert r.status_code == 201, r.text
    group = r.json()
    assert (group["outcome"], group["state"], len(group["lines"])) == ("exact", "active", 2)
    assert api.get(f"{V1}/groups/{group['id']}").json() == group
    assert api.get(f"{V1}/expected-items/{sale}").json()["applied"] == "66.2000"

    undone = api.post(f"{V1}/groups/{group['id']}/undo", json={"reason": "wrong order"})
    assert undone.status_code == 200 and undone.json()["state"] == "undone"
    _problem(api.post(f"{V1}/groups/{group['id']}/undo", json={"reason": "x"}), 409, "recon_state")

    whole = {"expected": [{"id": sale}], "actual": [{"id": orphan}]}
    body = _problem(api.post(f"{V1}/groups", json=whole), 422, "validation")
    assert body["errors"] == [{"field": "gap_type", "message": body["errors"][0]["message"]}]
    forced = {**whole, "force": True, "memo": "buyer paid the rest in cash"}
    _problem(api.post(f"{V1}/groups", json=forced), 403, "forbidden")  # an API key: not staff
    r = client.post(f"{V1}/groups", json=forced, headers=staff)
    assert r.status_code == 201, r.text
    assert (r.json()["outcome"], r.json()["difference"]) == ("forced", "-453.8000")

    voided = expected_id(ledger, PLANTED.refund_not_out, "refund")
    assert api.post(f"{V1}/expected-items/{voided}/void", json={"reason": "withdrawn"}).json() == {
        "ok": True
    }
    assert api.get(f"{V1}/expected-items/{voided}").json()["state"] == "void"
    twice = row_id(ledger, PLANTED.paid_twice, 1)
    r = api.post(f"{V1}/bill-rows/{twice}/ignore", json={"reason": "refunded by the bank"})
    assert r.status_code == 200, r.text
    r = api.put(f"{V1}/bill-rows/{twice}/key", json={"key": PLANTED.paid_twice})
    _problem(r, 409, "recon_state")

    events = api.get(f"{V1}/events?group={group['id']}").json()["items"]
    assert [e["action"] for e in events] == ["undone", "matched"]
    assert api.get(f"{V1}/events?limit=1").json()["items"][0]["action"] == "ignored"


def test_bad_input_is_refused_and_writes_nothing(books, ledger, client, staff, tmp_path):
    api, files = books
    bad = tmp_path / "bad.csv"
    bad.write_text("订单号,类型,金额,发生时间\nA1,sale,1.00,2024-03-01\nA2,gift,2,2024-03-01\n")
    before = counts(ledger)
    body = _problem(_upload(api, bad), 422, "order_file")
    assert body["detail"].startswith("line 3, 类型: unknown kind 'gift'")
    batch = {"shop": "S001", "items": [
        {"order_no": "A1", "kind": "sale", "amount": "1", "occurred_at": "2024-03-01"},
        {"order_no": "A2", "kind": "sale", "amount": "x", "occurred_at": "2024-03-01"},
    ]}  # fmt: skip
    body = _problem(api.post(f"{V1}/expected-items", json=batch), 422, "order_file")
    assert body["detail"].startswith("line 2, amount")
    _problem(api.post(f"{V1}/expected-items", json={"items": [{"nope": 1}]}), 422, "validation")
    assert counts(ledger) == before

    assert _upload(api, files["orders"]).status_code == 200
    assert api.post(f"{V1}/runs", json={}).status_code == 200
    sale = expected_id(ledger, PLANTED.never_paid, "sale")
    orphan = row_id(ledger, PLANTED.no_order)
    before = counts(ledger)
    over = {"expected": [{"id": sale, "amount": "520.0001"}], "actual": [{"id": orphan}],
            "force": True, "memo": "over"}  # fmt: skip
    _problem(client.post(f"{V1}/groups", json=over, headers=staff), 409, "over_applied")
    no_memo = {"expected": [{"id": sale}], "actual": [{"id": orphan}], "force": True}
    body = _problem(client.post(f"{V1}/groups", json=no_memo, headers=staff), 422, "validation")
    assert body["errors"][0]["field"] == "memo"
    _problem(api.post(f"{V1}/groups", json={"expected": [{"id": 10**9}]}), 404, "not_found")
    _problem(api.post(f"{V1}/expected-items/{sale}/void", json={"reason": ""}), 422, "validation")
    assert counts(ledger) == before

    [exact] = [g for g in api.get(f"{V1}/events?limit=500").json()["items"]
               if g["action"] == "matched"][:1]  # fmt: skip
    Periods(ledger).close("2024-03", shop="S001", actor="user:boss", force=True)
    before = counts(ledger)
    r = api.post(f"{V1}/groups/{exact['subject_id']}/undo", json={"reason": "late"})
    assert "2024-03" in _problem(r, 409, "period_closed")["detail"]
    assert counts(ledger) == before


def test_limited_and_read_only_callers_are_refused(books, client, make_key):
    limited = bearer(make_key(shops=["S001"]))
    _problem(client.get(f"{V1}/queues", headers=limited), 403, "forbidden")
    reader = bearer(make_key(scopes=("read",)))
    assert client.get(f"{V1}/queues", headers=reader).status_code == 200
    _problem(client.post(f"{V1}/runs", json={}, headers=reader), 403, "forbidden")


def test_the_excel_round_trip_over_rest(books, ledger):
    import io

    import openpyxl

    from tests.recon.test_actions import fill

    api, files = books
    _upload(api, files["orders"])
    api.post(f"{V1}/runs", json={})
    orphan = row_id(ledger, PLANTED.no_order)
    sale = expected_id(ledger, PLANTED.never_paid, "sale")
    got = api.get(f"{V1}/queues/paid_no_order?format=xlsx")
    book = openpyxl.load_workbook(io.BytesIO(got.content))
    cells = {"动作": "核销", "订单号": PLANTED.never_paid, "差异类型": "PAID_NO_ORDER",
             "备注": "paid in part"}  # fmt: skip
    data = fill(book, **{str(orphan): cells})

    def post(body: bytes, dry: str = "false"):
        return api.post(f"{V1}/actions?dry_run={dry}", content=body, headers={"Content-Type": XLSX})

    before = counts(ledger)
    dry = post(data, "true")
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert (body["dry_run"], body["applied"], body["errors"]) == (True, 0, 0)
    [row] = body["rows"]
    assert (row["row"], row["action"], row["status"], row["id"]) == (2, "match", "apply", orphan)
    assert "with_difference" in row["message"] and f"E{sale}" in row["message"]
    assert counts(ledger) == before
    applied = post(data).json()
    assert (applied["applied"], applied["rows"][0]["status"]) == (1, "applied")
    assert api.get(f"{V1}/queues/paid_no_order").json()["count"] == 0
    assert api.get(f"{V1}/expected-items/{sale}").json()["applied"] != "0.0000"
    [event] = api.get(f"{V1}/events?limit=1").json()["items"]
    assert event["action"] == "file_applied" and event["subject_id"] == applied["sha256"]
    again = post(data).json()
    assert (again["applied"], again["done"]) == (0, 1)

    bad = fill(openpyxl.load_workbook(io.BytesIO(data)), **{str(orphan): {"动作": "撤销"}})
    after = counts(ledger)
    problem = _problem(post(bad), 422, "action_file")
    assert problem["detail"].startswith("row 2, 动作: unknown action '撤销'")
    assert problem["errors"] == [
        {"field": "row 2, 动作", "message": problem["detail"].split(": ", 1)[1]}
    ]
    assert post(bad, "true").json()["rows"][0]["column"] == "动作"
    _problem(post(b"not a workbook"), 422, "action_file")
    assert counts(ledger) == after
