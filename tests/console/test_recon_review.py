"""The console's 对账 screens over real HTTP, on SQLite and PostgreSQL: a forced match above
the approval amount (here 100.00) is 待复核 in the history, its lines held; the supervisor who
forced it is refused its approval, another approves or rejects it (a reason required)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.console.support import csrf_of
from tests.console.test_recon import _as, _order, _written, app, recon  # noqa: F401
from zhangben.demo.orders import PLANTED


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"recon_force_approval_above": Decimal("100")})


def _row(page: str, group_id: int) -> str:
    return re.search(rf'<tr id="group-{group_id}">(.*?)</tr>', page, re.S).group(1)


def _force(client, key: str):
    page, csrf, items = _order(client, key)
    url = f"/console/recon/orders/S001/{key}/match"
    return client.post(url, data={"csrf": csrf, **items, "force": "1", "memo": "客户已线下付款"})


def test_a_forced_match_waits_for_another_supervisor(app, recon):  # noqa: F811
    key = PLANTED.never_paid
    with _as(app, "supervisor") as client:
        forced = _force(client, key)
        assert forced.status_code == 200 and "待另一位主管复核" in forced.text
        [group] = recon.groups(state="pending")
        assert group.created_by == "user:supervisor"
        _, _, items = _order(client, key)
        assert items == {"e": [], "a": []}  # held: nothing left to tick
        history = client.get("/console/recon/groups")
        row = _row(history.text, group.id)
        assert "待复核" in row and "复核通过</button>" in row and "驳回</button>" in row
        before = _written(recon)
        csrf = csrf_of(history.text)
        own = client.post(f"/console/recon/groups/{group.id}/approve", data={"csrf": csrf})
        assert own.status_code == 403 and "发起人不能复核自己的核销" in own.text
        assert _written(recon) == before and recon.group(group.id).state == "pending"
    with _as(app, "clerk") as client:
        page = client.get("/console/recon/groups")
        assert "复核通过</button>" not in _row(page.text, group.id)
        refused = client.post(
            f"/console/recon/groups/{group.id}/approve", data={"csrf": csrf_of(page.text)}
        )
        assert refused.status_code == 403 and "复核需要主管权限" in refused.text
    with _as(app, "finance") as client:
        csrf = csrf_of(client.get("/console/recon/groups").text)
        url = f"/console/recon/groups/{group.id}/reject"
        no_reason = client.post(url, data={"csrf": csrf, "reason": " "})
        assert no_reason.status_code == 400 and "驳回必须填写原因" in no_reason.text
        assert _written(recon) == before
        rejected = client.post(url, data={"csrf": csrf, "reason": "没有付款凭证"})
        assert rejected.status_code == 200 and "已驳回对账组" in rejected.text
        assert "已驳回" in _row(rejected.text, group.id)
    assert recon.group(group.id).state == "rejected"
    with _as(app, "supervisor") as client:
        assert _force(client, key).status_code == 200
    [again] = recon.groups(state="pending")
    with _as(app, "finance") as client:
        csrf = csrf_of(client.get("/console/recon/groups").text)
        done = client.post(f"/console/recon/groups/{again.id}/approve", data={"csrf": csrf})
        assert done.status_code == 200 and f"已复核通过对账组 {again.group_no}" in done.text
        assert "有效" in _row(done.text, again.id)
    actions = [(e.action, e.actor) for e in recon.events(subject=("group", str(again.id)))]
    assert actions == [("approved", "user:finance"), ("forced", "user:supervisor")]
