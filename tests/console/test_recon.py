"""The console's 对账 screens over real HTTP (the whole app, TestClient), on SQLite and
PostgreSQL, on the sample orders: the queues show the planted cases (等待中 apart) with their
rows and XLSX; an order's workspace matches (clerk+, a gap type for a difference, force only
for a supervisor with a memo); the history shows the match and its undo (supervisor, a
reason, refused in a closed period). A refused action writes nothing."""

from __future__ import annotations

import base64
import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.console.support import csrf_of, demo_ledger, login
from tests.recon.support import ACTOR, with_samples
from zhangben.app import create_app
from zhangben.demo.orders import PLANTED
from zhangben.periods import Periods
from zhangben.recon.service import Recon


@pytest.fixture
def recon(ledger, tmp_path) -> Recon:
    recon, files = with_samples(demo_ledger(ledger), tmp_path)
    recon.import_expected(files["orders"], shop="S001", actor=ACTOR)
    recon.run(actor=ACTOR)
    return recon


@pytest.fixture
def app(settings, recon):
    return create_app(settings, recon.ledger)


def _as(app, username: str) -> TestClient:
    client = TestClient(app)
    assert login(client, username).status_code == 303, username
    return client


def _written(recon: Recon) -> tuple[int, int]:
    return len(recon.groups(limit=10_000)), len(recon.events(limit=10_000))


def test_the_queues_show_the_planted_cases_with_rows_and_xlsx(app, recon):
    summary = {q.code: q for q in recon.queues()}
    with _as(app, "finance") as client:
        page = client.get("/console/recon")
        assert page.status_code == 200 and 'href="/console/recon"' in page.text
        table = re.search(r'<table class="grid" id="queues">(.*?)</table>', page.text, re.S)
        assert "等待中" not in table.group(1)  # shown apart, not counted
        assert 'id="queue-awaiting"' in page.text
        for code in ("shipped_not_paid", "paid_no_order", "amount_difference", "duplicate"):
            row = re.search(rf'<tr id="queue-{code}">(.*?)</tr>', page.text, re.S).group(1)
            count = summary[code].count
            assert count > 0
            assert f'href="/console/recon/queues/{code}">{count}</a>' in row, code
        rows = client.get("/console/recon/queues/paid_no_order")
        assert rows.status_code == 200 and PLANTED.no_order in rows.text
        assert f'/console/recon/orders/S001/{PLANTED.no_order}"' in rows.text
        assert PLANTED.never_paid in client.get("/console/recon/queues/已发货未收款").text
        book = client.get("/console/recon/queues/amount_difference.xlsx")
        assert book.status_code == 200 and "attachment" in book.headers["content-disposition"]
        cells = [c for row in load_workbook(io.BytesIO(book.content)).active.values for c in row]
        assert PLANTED.difference in cells
        missing = client.get("/console/recon/queues/nope")
        assert missing.status_code == 404 and "没有名为「nope」的对账队列" in missing.text
    with _as(app, "merchant") as client:  # not finance staff
        assert client.get("/console/recon").status_code == 403


def _order(client, key: str):
    page = client.get(f"/console/recon/orders/S001/{key}")
    assert page.status_code == 200, key
    assert "<td>销售</td>" in page.text and "<td>sale</td>" not in page.text  # labels in Chinese
    boxes = re.findall(r'name="([ea])" value="(\d+)"', page.text)
    return page, csrf_of(page.text), {"e": [i for s, i in boxes if s == "e"],
                                      "a": [i for s, i in boxes if s == "a"]}  # fmt: skip


def test_a_manual_match_then_its_undo_appear_in_the_history(app, recon):
    key = PLANTED.difference
    gap = recon.gap_types()[0][0]
    with _as(app, "viewer") as client:  # reads, never matches
        page, csrf, items = _order(client, key)
        assert "核销需要出纳权限" in page.text
        before = _written(recon)
        refused = client.post(
            f"/console/recon/orders/S001/{key}/match", data={"csrf": csrf, **items}
        )
        assert refused.status_code == 403 and "核销需要出纳权限，未作任何修改" in refused.text
        assert _written(recon) == before
    with _as(app, "clerk") as client:
        page, csrf, items = _order(client, key)
        assert items["e"] and items["a"] and 'data-amount="' in page.text
        assert 'name="force"' not in page.text  # a supervisor's
        before = _written(recon)
        url = f"/console/recon/orders/S001/{key}/match"
        no_gap = client.post(url, data={"csrf": csrf, **items})
        assert no_gap.status_code == 400 and "必须选择差异类型" in no_gap.text
        assert 'id="expected-items"' in no_gap.text and "checked" in no_gap.text  # kept whole
        forced = client.post(url, data={"csrf": csrf, **items, "force": "1", "memo": "客户现金"})
        assert forced.status_code == 403 and "强制核销需要主管权限" in forced.text
        stale = client.post(url, data={"csrf": "x" * 64, **items, "gap_type": gap})
        assert stale.status_code == 403
        assert _written(recon) == before
        done = client.post(url, data={"csrf": csrf, **items, "gap_type": gap})
        assert done.status_code == 200 and "已核销，对账组" in done.text
        group = recon.groups(state="active", limit=1)[0]
        assert group.origin == "manual" and group.created_by == "user:clerk"
        assert group.key == key and group.gap_type == gap
        assert group.outcome in ("with_difference", "within_tolerance")
    with _as(app, "supervisor") as client:
        history = client.get("/console/recon/groups")
        row = re.search(rf'<tr id="group-{group.id}">(.*?)</tr>', history.text, re.S).group(1)
        assert "人工" in row and "有效" in row and "撤销</button>" in row
        csrf = csrf_of(history.text)
        no_reason = client.post(
            f"/console/recon/groups/{group.id}/undo", data={"csrf": csrf, "reason": " "}
        )
        assert no_reason.status_code == 400 and "撤销核销必须填写原因" in no_reason.text
        assert recon.group(group.id).state == "active"
        undone = client.post(
            f"/console/recon/groups/{group.id}/undo", data={"csrf": csrf, "reason": "差异类型选错"}
        )
        assert undone.status_code == 200 and f"已撤销对账组 {group.group_no}" in undone.text
        row = re.search(rf'<tr id="group-{group.id}">(.*?)</tr>', undone.text, re.S).group(1)
        assert "已撤销" in row and "撤销</button>" not in row
        assert [e.action for e in recon.events(subject=("group", str(group.id)))] == [
            "undone", "matched",
        ]  # fmt: skip


def test_force_needs_a_memo_and_undo_in_a_closed_period_is_refused(app, recon):
    key = PLANTED.never_paid
    with _as(app, "supervisor") as client:
        page, csrf, items = _order(client, key)
        url = f"/console/recon/orders/S001/{key}/match"
        before = _written(recon)
        for memo in ("", "ok"):
            refused = client.post(url, data={"csrf": csrf, **items, "force": "1", "memo": memo})
            assert refused.status_code == 400 and "强制核销必须填写说明" in refused.text
        assert _written(recon) == before
        forced = client.post(
            url, data={"csrf": csrf, **items, "force": "1", "memo": "客户已线下付款"}
        )
        assert forced.status_code == 200 and "已核销" in forced.text
        assert recon.groups(state="active", limit=1)[0].outcome == "forced"

        auto = next(g for g in recon.groups(state="active") if g.key == PLANTED.exact[0])
        Periods(recon.ledger).close("2024-03", shop="S001", actor=ACTOR, force=True)
        before = _written(recon)
        closed = client.post(
            f"/console/recon/groups/{auto.id}/undo", data={"csrf": csrf, "reason": "晚到的退款"}
        )
        assert closed.status_code == 409 and "2024-03 已结账" in closed.text
        assert 'id="groups"' in closed.text  # the page is whole
        assert recon.group(auto.id).state == "active" and _written(recon) == before


def test_a_filled_queue_is_uploaded_dry_run_then_applied(app, recon):
    from tests.recon.test_actions import fill

    orphan = recon.queue("paid_no_order").rows[0].id
    with _as(app, "clerk") as client:
        page = client.get("/console/recon/queues/paid_no_order")
        assert 'id="actions-upload"' in page.text
        csrf = csrf_of(page.text)
        book = load_workbook(io.BytesIO(client.get(
            "/console/recon/queues/paid_no_order.xlsx").content))  # fmt: skip
        data = fill(book, **{str(orphan): {"动作": "忽略", "备注": "a test payment"}})
        url = "/console/recon/queues/paid_no_order/actions"
        before = _written(recon)
        stale = client.post(url, data={"csrf": "nope"}, files={"file": ("q.xlsx", data)})
        assert stale.status_code == 403 and _written(recon) == before
        dry = client.post(url, data={"csrf": csrf}, files={"file": ("q.xlsx", data)})
        assert dry.status_code == 200, dry.text
        report = re.search(r'<table class="grid" id="actions-report">(.*?)</table>', dry.text, re.S)
        assert "将执行" in report.group(1) and f"忽略 bill row {orphan}" in report.group(1)
        assert _written(recon) == before  # the dry run wrote nothing
        apply_form = re.search(r'<form id="actions-apply".*?</form>', dry.text, re.S).group(0)
        carried = re.search(r'name="data" value="([^"]+)"', apply_form).group(1)
        done = client.post(url, data={"csrf": csrf, "data": carried, "apply": "1"})
        assert done.status_code == 200 and "已执行 1 行" in done.text
        assert recon.queue("paid_no_order").count == 0
        assert [e.action for e in recon.events(limit=2)] == ["file_applied", "ignored"]
        again = client.post(url, data={"csrf": csrf, "data": carried, "apply": "1"})
        assert "已执行 0 行，1 行此前已处理" in again.text

        bad = fill(load_workbook(io.BytesIO(data)), **{str(orphan): {"动作": "删除"}})
        written = _written(recon)
        shown = client.post(url, data={"csrf": csrf}, files={"file": ("q.xlsx", bad)})
        assert "错误" in shown.text and 'id="actions-apply"' not in shown.text
        refused = client.post(
            url, data={"csrf": csrf, "data": base64.b64encode(bad).decode(), "apply": "1"}
        )
        assert refused.status_code == 422 and "row 2, 动作" in refused.text
        assert _written(recon) == written
    with _as(app, "viewer") as client:  # may look, may not apply
        page = client.get("/console/recon/queues/paid_no_order")
        applied = client.post(
            "/console/recon/queues/paid_no_order/actions",
            data={"csrf": csrf_of(page.text), "data": base64.b64encode(data).decode(),
                  "apply": "1"},
        )  # fmt: skip
        assert applied.status_code == 403 and recon.queue("paid_no_order").count == 0
