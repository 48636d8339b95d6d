"""The 月结 workbook over REST (on SQLite; the workbook itself on both databases): the download
(status, media type, a UTF-8 file name), its figures, what each caller sees (shops, accounts, the
period, the checks for staff), the OpenAPI schema, and bad input as problem+json."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from tests.api.support import bearer
from tests.periods.support import import_month, money, period_items, read_book, table
from zhangben.periods import Periods

V1 = "/api/v1"
SH = ZoneInfo("Asia/Shanghai")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def books(client, ledger, tmp_path):
    bills = import_month(ledger, tmp_path, shop="S3")
    ledger.open_account(number="OTHER", name="别的店", shop_code="S4")
    ledger.income("OTHER", "7", trade_time=datetime(2024, 3, 5, 10, tzinfo=SH))
    return bills


def get(client, token, month="2024-03", **params):
    return client.get(f"{V1}/reports/month/{month}.xlsx", params=params, headers=bearer(token))


def test_the_download(client, books, make_session):
    token, _ = make_session("boss", "staff")
    r = get(client, token, shop="S3")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert r.headers["content-disposition"] == (
        'attachment; filename="month-2024-03-S3.xlsx"; '
        f"filename*=UTF-8''{quote('月结-2024-03-S3.xlsx')}"
    )
    assert "%E6%9C%88%E7%BB%93" in r.headers["content-disposition"]
    wb = read_book(r.content)
    assert wb.sheetnames == ["账户", "日报", "类目", "账期"]
    rows = {row["账户"]: row for row in table(wb["账户"])}
    assert set(rows) == {"ALI", "JD", "合计"}
    for number, bill in books.items():
        assert money(rows[number]["收入"]) == bill.income
        assert money(rows[number]["差额"]) == 0
    assert money(rows["合计"]["收入"]) == sum(b.income for b in books.values())
    items = dict(period_items(wb["账期"]))
    assert items["状态"] == "open（未结账）" and items["结账检查"] == "无"  # staff: the checks


def test_what_each_caller_sees(client, ledger, books, make_key, make_session):
    Periods(ledger).close("2024-03", shop="S3", actor="test")
    # an unrestricted key: every account, the ledger's period, no checks (staff only)
    wb = read_book(get(client, make_key(scopes=("read",))).content)
    assert [r["账户"] for r in table(wb["账户"])] == ["ALI", "JD", "OTHER", "合计"]
    items = dict(period_items(wb["账期"]))
    assert items["范围"] == "全账本" and items["状态"] == "open（未结账）"
    assert items["结账检查"].startswith("（未包含")
    # a key limited to S3: its shop's period; its accounts only, with or without shop=
    s3 = make_key(scopes=("read",), shops=["S3"])
    wb = read_book(get(client, s3, shop="S3").content)
    assert dict(period_items(wb["账期"]))["状态"] == "closed（已结账）"
    wb = read_book(get(client, s3).content)
    assert [r["账户"] for r in table(wb["账户"])] == ["ALI", "JD", "合计"]
    assert "快照SHA-256" not in dict(period_items(wb["账期"]))  # the ledger's: not its to read
    r = get(client, s3, shop="S4")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    # a key limited to one account sees that account, and no period
    wb = read_book(get(client, make_key(scopes=("read",), accounts=["JD"]), shop="S3").content)
    assert [r["账户"] for r in table(wb["账户"])] == ["JD", "合计"]
    assert "快照SHA-256" not in dict(period_items(wb["账期"]))
    # a user sees their own accounts only (none here)
    user, _ = make_session("clerk")
    wb = read_book(get(client, user, shop="S3").content)
    assert [r["账户"] for r in table(wb["账户"])] == []
    # no credentials
    assert client.get(f"{V1}/reports/month/2024-03.xlsx").status_code == 401


@pytest.mark.parametrize(
    ("month", "params", "field"),
    [("2026-13", {}, "month"), ("1969-12", {}, "month"), ("2024-03", {"shop": "NOPE"}, "shop")],
)
def test_bad_input_is_a_problem(client, books, make_key, month, params, field):
    r = get(client, make_key(scopes=("read",)), month, **params)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "validation" and body["errors"][0]["field"] == field
    assert get(client, make_key(), "2026-1").status_code == 422  # not the path's pattern


def test_openapi(client):
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/v1/reports/month/{month}.xlsx"]["get"]
    assert list(op["responses"]["200"]["content"]) == [XLSX]
    assert op["responses"]["200"]["content"][XLSX]["schema"] == {
        "type": "string",
        "format": "binary",
    }
    assert {p["name"] for p in op["parameters"]} == {"month", "shop"}
    assert op["tags"] == ["reports"]
