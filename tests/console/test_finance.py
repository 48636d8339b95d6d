"""The console's roles, 报表 and 账期 over real HTTP (the whole app, TestClient), on SQLite and
PostgreSQL: each demo role's reach, the reports in their groupings with the chart's figures
and the 月结 workbook, bad months, and closing and reopening a period (supervisors only, with
CSRF, a reason to reopen, nothing written when refused)."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.console.support import bad_row_bill, csrf_of, demo_ledger, login
from zhangben.app import create_app
from zhangben.console.session import COOKIE, STALE_FORM
from zhangben.core import roles
from zhangben.core.queries import EntryFilter
from zhangben.demo.ledger import load_demo
from zhangben.periods import Periods


@pytest.fixture
def demo(ledger):
    return demo_ledger(ledger)


@pytest.fixture
def app(settings, demo):
    return create_app(settings, demo)


def _as(app, username: str) -> TestClient:
    client = TestClient(app)
    assert login(client, username).status_code == 303, username
    return client


def test_the_stored_roles_and_what_they_hold():
    assert [roles.rank_of(r) for r in roles.STORED] == [
        "viewer", "clerk", "supervisor", "admin", "admin", "clerk",
    ]  # fmt: skip
    assert roles.holds("supervisor", "clerk") and not roles.holds("clerk", "supervisor")
    assert roles.holds("staff", "admin") and not roles.holds("user", "supervisor")
    assert not roles.holds("bogus", "clerk")  # an unknown value holds nothing beyond viewing
    assert [roles.sees_every_account(r) for r in ("viewer", "admin", "staff", "user", "x")] == [
        True, True, True, False, False,
    ]  # fmt: skip


def test_each_demo_role_in_the_console_and_on_the_wire(app, demo, tmp_path):
    expected = {
        "viewer": ("查看", False, False),
        "clerk": ("出纳", True, False),
        "supervisor": ("主管", True, True),
        "finance": ("管理员", True, True),
        "merchant": ("出纳", True, False),
    }
    bill = bad_row_bill(tmp_path / "alipay.csv").read_bytes()
    for username, (label, imports, reverses) in expected.items():
        with _as(app, username) as client:
            home = client.get("/console/")
            assert f"· {label}）" in home.text, username
            assert ('href="/console/periods"' in home.text) == (username != "merchant")
            assert ('href="/console/settings"' in home.text) == (username == "finance")
            page = client.get("/console/accounts/ACC001")
            assert page.status_code == (404 if username == "merchant" else 200), username
            assert ("冲正</button>" in page.text) == reverses, username
            before = demo.count_entries()
            upload = client.post(
                "/console/imports",
                data={"csrf": csrf_of(home.text), "account": "ALIPAY-S001"},
                files={"file": ("alipay.csv", bill, "text/csv")},
            )
            if username == "viewer":
                assert upload.status_code == 403 and "导入需要出纳权限" in upload.text
                assert demo.count_entries() == before
            elif imports and username != "merchant":
                assert upload.status_code == 200, username
            # the 壹川 wire still says staff or user; a viewer's session only reads over REST
            wire = client.get(
                "/api/v1/accounts", headers={"Authorization": f"Bearer {client.cookies[COOKIE]}"}
            )
            assert wire.status_code == 200
            assert demo.user(username).wire_role == ("user" if username == "merchant" else "staff")
    with _as(app, "viewer") as client:
        before = demo.count_entries()
        write = client.post(
            "/api/v1/postings",
            json={"type": "income", "account": "ACC001", "amount": "1.00"},
            headers={"Authorization": f"Bearer {client.cookies[COOKIE]}"},
        )
        assert write.status_code == 403 and "write" in write.text
        assert demo.count_entries() == before


def _money(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.\-]", "", text))


def test_reports_by_day_month_category_and_account(app, demo):
    with _as(app, "finance") as client:
        page = client.get("/console/reports?month=2024-01")
        assert page.status_code == 200 and 'id="report-chart"' in page.text
        assert 'data-src="/console/reports/chart.json?month=2024-01&amp;by=day"' in page.text
        body = re.search(
            r'<table class="grid" id="report">.*?<tbody>(.*?)</tbody>', page.text, re.S
        )
        assert body.group(1).count("<tr>") == 31  # every day of the month
        income = _money(re.search(r'report-income">([^<]+)<', page.text).group(1))
        expected = demo.report(*_january(), ("day",)).totals[0]
        assert income == expected.income and income > 0
        chart = client.get("/console/reports/chart.json?month=2024-01&by=day").json()
        assert len(chart["days"]) == 31 and chart["days"][0] == "2024-01-01"
        assert Decimal(str(sum(chart["income"]))).quantize(Decimal("0.01")) == income
        assert Decimal(str(chart["balance"][-1])) == expected.closing
        monthly = client.get("/console/reports?month=2024-01&by=month")
        assert monthly.status_code == 200 and "<td>2023-02</td>" in monthly.text
        assert (
            len(client.get("/console/reports/chart.json?month=2024-01&by=month").json()["days"])
            == 12
        )
        by_category = client.get("/console/reports?month=2024-01&by=category&shop=S001")
        assert by_category.status_code == 200 and "期初" not in by_category.text
        assert 'value="category" selected' in by_category.text  # the grouping kept
        by_account = client.get("/console/reports?month=2024-01&by=account")
        assert "ACC001" in by_account.text
        book = client.get("/console/reports/month/2024-01.xlsx")
        assert book.status_code == 200 and "attachment" in book.headers["content-disposition"]
        sheets = load_workbook(io.BytesIO(book.content)).sheetnames
        assert sheets[:3] == ["账户", "日报", "类目"]
        for query, message in (
            ("month=2026-13", "月份「2026-13」无效"),
            ("month=2024-01&by=week", "未知的分组「week」"),
            ("month=2024-01&shop=S999", "店铺「S999」不存在"),
        ):
            bad = client.get(f"/console/reports?{query}")
            assert bad.status_code == 400 and message in bad.text, query
            assert 'id="report-form"' in bad.text and 'id="report"' not in bad.text
            assert client.get(f"/console/reports/chart.json?{query}").status_code == 400
        assert client.get("/console/reports/month/2026-13.xlsx").status_code == 400
    with _as(app, "merchant") as client:  # only their own account's figures
        page = client.get("/console/reports?month=2018-05&by=account")
        assert "0000000000000002" in page.text and "0000000000000001" not in page.text
        assert client.get("/console/reports?month=2024-01&shop=S002").status_code == 400
        assert client.get("/console/periods").status_code == 403


def _january():
    return date(2024, 1, 1), date(2024, 1, 31)


def test_a_clerk_is_refused_a_close_and_a_supervisor_closes_and_reopens(app, demo):
    periods = Periods(demo)
    with _as(app, "clerk") as clerk:
        page = clerk.get("/console/periods?month=2024-01")
        assert page.status_code == 200 and 'id="run-checks"' in page.text  # checks on demand
        checked = clerk.get("/console/periods?month=2024-01&check=1").text
        assert ('id="findings"' in checked) == bool(periods.checks("2024-01"))
        assert ('id="checks-ok"' in checked) != ('id="findings"' in checked)
        assert 'id="close-form"' not in page.text  # not offered
        refused = clerk.post(
            "/console/periods/close",
            data={"csrf": csrf_of(page.text), "month": "2024-01", "force": "1"},
        )
        assert refused.status_code == 403 and "结账需要主管权限，未作任何修改" in refused.text
        assert 'id="periods"' in refused.text  # the page is whole
        assert periods.list_periods() == []
    with _as(app, "supervisor") as boss:
        page = boss.get("/console/periods?month=2024-01")
        csrf = csrf_of(page.text)
        assert 'id="close-form"' in page.text
        stale = boss.post("/console/periods/close", data={"csrf": "x" * 64, "month": "2024-01"})
        assert stale.status_code == 403 and STALE_FORM in stale.text
        bad = boss.post("/console/periods/close", data={"csrf": csrf, "month": "2026-13"})
        assert bad.status_code == 400 and "月份「2026-13」无效" in bad.text
        assert periods.list_periods() == []
        findings = periods.checks("2024-01")
        if findings:  # the demo's bill accounts have no bills: the checks find the gaps
            unforced = boss.post("/console/periods/close", data={"csrf": csrf, "month": "2024-01"})
            assert unforced.status_code == 409 and "未结账" in unforced.text
            assert 'id="findings"' in unforced.text  # what stands in the way, listed
            assert periods.list_periods() == []
        closed = boss.post(
            "/console/periods/close", data={"csrf": csrf, "month": "2024-01", "force": "1"}
        )
        assert closed.status_code == 200 and "2024-01 已结账" in closed.text
        assert periods.get("2024-01").status == "closed"
        again = boss.post(
            "/console/periods/close", data={"csrf": csrf, "month": "2024-01", "force": "1"}
        )
        assert again.status_code == 409 and "账期状态不允许结账" in again.text
        no_reason = boss.post(
            "/console/periods/reopen", data={"csrf": csrf, "month": "2024-01", "reason": " "}
        )
        assert no_reason.status_code == 400 and "反结账必须填写原因" in no_reason.text
        assert periods.get("2024-01").status == "closed"
        reopened = boss.post(
            "/console/periods/reopen",
            data={"csrf": csrf, "month": "2024-01", "reason": "补录一笔漏记的运费"},
        )
        assert reopened.status_code == 200 and "2024-01 已反结账" in reopened.text
        assert periods.get("2024-01").status == "reopened"
        listed = boss.get("/console/periods?month=2026-13")
        assert listed.status_code == 400 and "月份「2026-13」无效" in listed.text
        assert "已反结账" in listed.text and 'id="periods"' in listed.text


def test_the_overview_names_the_latest_day_and_month_with_entries(settings, ledger):
    assert load_demo(ledger)  # the demo alone: nothing today, nothing this month
    newest = ledger.entries(EntryFilter(), limit=1, with_total=False).items[0]
    day = newest.trade_time.astimezone(ledger.tz)
    with TestClient(create_app(settings, ledger)) as client:
        login(client, "finance")
        home = client.get("/console/").text
        assert f"最近营业日 {day:%Y-%m-%d}（今日无流水）" in home
        assert f"最近有流水的月份 {day:%Y-%m}（本月无流水）" in home
        assert "<h2>今日</h2>" not in home
        ledger.income("ACC001", "12.34", operator_id=ledger.user("finance").id)
        home = client.get("/console/").text
        assert "<h2>今日</h2>" in home and "<h2>本月</h2>" in home and "无流水" not in home
