"""Reports and balances as of a day over REST: the figures, the groupings, scoped keys, the
OpenAPI schema, and bad input as problem+json with nothing written."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.api.support import bearer

V1 = "/api/v1"
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def books(api, ledger):
    ledger.open_account(number="ACC001", name="主账户", shop_code="S001")
    ledger.open_account(number="ALI", name="支付宝", type="alipay", shop_code="S001")
    ledger.open_account(number="JD", name="京东", type="jd_wallet", shop_code="S002")
    ledger.income("ACC001", "1000.00", trade_time=datetime(2026, 9, 30, 10, tzinfo=SH))
    ledger.income("ALI", "300.00", trade_time=datetime(2026, 10, 1, 23, 59, tzinfo=SH),
                  subject_id=20)  # fmt: skip
    ledger.expense("ACC001", "120.50", trade_time=datetime(2026, 10, 2, 9, tzinfo=SH),
                   subject_id=5)  # fmt: skip
    ledger.transfer("ACC001", "JD", "200.00", trade_time=datetime(2026, 10, 31, 23, tzinfo=SH))
    return api


def test_daily_report_of_a_shop(books):
    r = books.get(f"{V1}/reports/daily", params={"month": "2026-10", "shop": "S001"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["from"], body["to"], body["time_zone"]) == ("2026-10-01", "2026-10-31",
                                                              "Asia/Shanghai")  # fmt: skip
    assert body["group_by"] == ["day"] and body["balances"] is True
    assert len(body["rows"]) == 31
    first, second = body["rows"][:2]
    assert first == {
        "day": "2026-10-01", "currency": "CNY", "opening": "1000.0000", "income": "300.0000",
        "expense": "0.0000", "closing": "1300.0000", "entries": 1,
    }  # fmt: skip
    assert (second["expense"], second["closing"]) == ("120.5000", "1179.5000")
    assert body["totals"] == [
        {"currency": "CNY", "opening": "1000.0000", "income": "300.0000",
         "expense": "320.5000", "closing": "979.5000", "entries": 3},
    ]  # fmt: skip


def test_groupings_ranges_and_the_month_summary(books):
    r = books.get(f"{V1}/reports/summary", params={"month": "2026-10"})
    rows = {x["account"]: x for x in r.json()["rows"]}
    assert set(rows) == {"ACC001", "ALI", "JD"} and rows["ALI"]["account_name"] == "支付宝"
    assert (rows["ACC001"]["opening"], rows["ACC001"]["closing"]) == ("1000.0000", "679.5000")
    by_cat = books.get(
        f"{V1}/reports/summary",
        params=[("from", "2026-09-01"), ("to", "2026-10-31"), ("group_by", "category"),
                ("group_by", "subject")],
    ).json()  # fmt: skip
    assert by_cat["balances"] is False
    assert {(x["category_name"], x["subject_name"]) for x in by_cat["rows"]} >= {
        ("平台账单", "平台收入"), ("支出", "采购付款"), ("收入", None),
    }  # fmt: skip
    assert all(x["opening"] is None and x["closing"] is None for x in by_cat["rows"])
    assert by_cat["totals"][0]["closing"] == "1179.5000"  # every account: the transfer nets out
    months = books.get(
        f"{V1}/reports/monthly",
        params={"from": "2026-09", "to": "2026-10", "group_by": "platform,shop"},
    ).json()
    got = {(x["month"], x["platform"], x["shop"]): x["entries"] for x in months["rows"]}
    assert got == {("2026-09", None, "S001"): 1, ("2026-10", "alipay", "S001"): 1,
                   ("2026-10", None, "S001"): 2, ("2026-10", "jd_wallet", "S002"): 1}  # fmt: skip
    day = {"from": "2026-10-02", "to": "2026-10-02", "account": "ACC001", "type": "main"}
    one = books.get(f"{V1}/reports/daily", params=day)
    assert [x["expense"] for x in one.json()["rows"]] == ["120.5000"]


def test_a_key_limited_to_a_shop_sees_only_its_accounts(books, make_key):
    books.headers.update(bearer(make_key(scopes=("read",), shops=["S002"])))
    r = books.get(f"{V1}/reports/summary", params={"month": "2026-10"})
    assert [x["account"] for x in r.json()["rows"]] == ["JD"]
    r = books.get(f"{V1}/reports/daily", params={"month": "2026-10", "shop": "S001"})
    assert r.json()["rows"] == [] and r.json()["totals"] == []
    r = books.get(f"{V1}/balances", params={"as_of": "2026-10-31"})
    assert [(x["account"], x["balance"]) for x in r.json()["items"]] == [("JD", "200.0000")]
    del books.headers["Authorization"]
    r = books.get(f"{V1}/reports/daily", params={"month": "2026-10"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("path", "params", "field", "words"),
    [
        ("daily", {"month": "2026-13"}, "month", "is not a month like 2026-10"),
        ("daily", {"month": "Oct"}, "month", "pattern"),
        ("daily", {"from": "2026-10-31", "to": "2026-10-01"}, "to", "before it starts"),
        ("daily", {"from": "2026-02-30", "to": "2026-03-01"}, "from", "is not a day"),
        ("monthly", {"from": "2026-10"}, "from", "both from and to"),
        ("summary", {"month": "2026-10", "from": "2026-10-01"}, "month", "not both"),
        ("summary", {"month": "2026-10", "group_by": "colour"}, "group_by", "unknown grouping"),
        ("daily", {"month": "2026-10", "group_by": "month"}, "group_by", "report's own"),
        ("summary", {"month": "2026-10", "group_by": "shop,shop"}, "group_by", "once"),
    ],
)
def test_bad_input_is_a_problem_and_writes_nothing(books, ledger, path, params, field, words):
    before = ledger.summaries_status()
    r = books.get(f"{V1}/reports/{path}", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "validation" and problem["errors"][0]["field"] == field
    assert words in problem["detail"]
    assert ledger.summaries_status() == before


def test_balances_as_of_a_day_or_an_instant(books):
    r = books.get(f"{V1}/balances", params={"as_of": "2026-10-01"})  # a day: its end
    body = r.json()
    assert body["as_of"] == "2026-10-01"
    assert {x["account"]: x["balance"] for x in body["items"]} == {
        "ACC001": "1000.0000", "ALI": "300.0000", "JD": "0.0000",
    }  # fmt: skip
    assert body["totals"] == {"CNY": "1300.0000"}
    r = books.get(f"{V1}/balances", params={"as_of": "2026-10-01T12:00:00", "shop": "S001"})
    body = r.json()
    assert body["as_of"] == "2026-10-01T12:00:00+08:00"
    assert {x["account"]: x["balance"] for x in body["items"]} == {
        "ACC001": "1000.0000", "ALI": "0.0000",
    }  # fmt: skip
    now = books.get(f"{V1}/balances").json()
    assert now["as_of"] is None and now["totals"] == {"CNY": "1179.5000"}
    one = books.get(f"{V1}/accounts/ALI/balance", params={"as_of": "2026-10-01"}).json()
    assert (one["balance"], one["as_of"]) == ("300.0000", "2026-10-01")
    early = books.get(f"{V1}/accounts/ALI/balance", params={"as_of": "2026-10-01T23:00"})
    assert early.json()["balance"] == "0.0000"
    for bad in ("2026-10-32", "2026-13-01T00:00", "yesterday", "1800-01-01"):
        r = books.get(f"{V1}/balances", params={"as_of": bad})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "as_of", (bad, r.text)


def test_reports_are_in_the_openapi_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("daily", "monthly", "summary"):
        operation = paths[f"{V1}/reports/{path}"]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"month", "from", "to", "group_by", "shop", "account", "type"} <= names
        assert "application/problem+json" in operation["responses"]["422"]["content"]
    assert "as_of" in {p["name"] for p in paths[f"{V1}/balances"]["get"]["parameters"]}
