"""The 月结 workbook on SQLite and PostgreSQL, read back with openpyxl: its sheets, headers,
formats and widths; its figures against ``Ledger.report`` and against the bills' own totals;
the platforms' closing balances and the difference; the period's status and checks; money
past 15 significant digits and hostile names; bad input; and LibreOffice opening it."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.periods.support import MONEY, import_month, money, period_items, read_book, table
from zhangben.core.errors import ValidationError
from zhangben.periods import Periods
from zhangben.periods.workbook import SHEETS, workbook_bytes

SH = ZoneInfo("Asia/Shanghai")
MARCH = (date(2024, 3, 1), date(2024, 3, 31))


def book_of(ledger, month="2024-03", **kw):
    return read_book(workbook_bytes(Periods(ledger).month_book(month, **kw)))


@pytest.fixture
def shop(ledger, tmp_path):
    """A month of Alipay and JD bills in shop S3, and a main account with postings by hand."""
    bills = import_month(ledger, tmp_path)
    ledger.open_account(number="MAIN", name="主账户", shop_code="S3")
    ledger.income("MAIN", "1000.1234", trade_time=datetime(2024, 2, 20, 10, tzinfo=SH))
    ledger.expense("MAIN", "0.0001", trade_time=datetime(2024, 3, 5, 10, tzinfo=SH), subject_id=5)
    ledger.open_account(number="OTHER", name="别的店", shop_code="S4")
    ledger.income("OTHER", "7", trade_time=datetime(2024, 3, 5, 10, tzinfo=SH))
    return ledger, bills


def test_sheets_headers_formats_frozen_rows_and_widths(shop):
    ledger, _ = shop
    wb = book_of(ledger, shop="S3")
    assert wb.sheetnames == list(SHEETS) == ["账户", "日报", "类目", "账期"]
    headers = {ws.title: [c.value for c in ws[1]] for ws in wb}
    assert headers == {
        "账户": ["账户", "账户名称", "店铺", "类型", "币种", "期初", "收入", "支出", "期末", "笔数",
                 "平台期末余额", "平台余额时间", "差额"],
        "日报": ["日期", "币种", "期初", "收入", "支出", "期末", "笔数"],
        "类目": ["类目编号", "类目", "科目编号", "科目", "币种", "收入", "支出", "笔数"],
        "账期": ["项目", "内容"],
    }  # fmt: skip
    for ws in wb:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.b for c in ws[1]), ws.title
    accounts = wb["账户"]
    ali = next(r for r in accounts.iter_rows(min_row=2) if r[0].value == "ALI")
    formats = [c.number_format for c in ali]
    assert formats[5:11] == [MONEY] * 4 + ["0", MONEY]
    assert formats[11:] == ["yyyy-mm-dd hh:mm:ss", MONEY]
    day = next(wb["日报"].iter_rows(min_row=2, max_row=2))
    assert day[0].number_format == "yyyy-mm-dd" and day[0].value == datetime(2024, 3, 1)
    assert [c.number_format for c in day[2:]] == [MONEY] * 4 + ["0"]
    # the totals row is last and bold
    total = list(accounts.iter_rows(min_row=accounts.max_row))[0]
    assert total[0].value == "合计" and all(c.font.b for c in total)
    # widths fit the widest text shown: 京东钱包-月结 is 6 CJK characters (12) and 1 more
    assert accounts.column_dimensions["B"].width >= 13
    assert accounts.column_dimensions["A"].width >= 6


def test_figures_equal_the_report_and_the_bills_own_totals(shop):
    ledger, bills = shop
    wb = book_of(ledger, shop="S3")
    rows = table(wb["账户"])
    *accounts, total = rows
    report = ledger.report(*MARCH, ("account",), shop_codes=["S3"])
    assert [r["账户"] for r in accounts] == [r.account for r in report.rows] == ["ALI", "JD",
                                                                                "MAIN"]  # fmt: skip
    for row, expected in zip(accounts, report.rows, strict=True):
        assert row["账户名称"] == expected.account_name and row["店铺"] == "S3"
        got = [money(row[k]) for k in ("期初", "收入", "支出", "期末")]
        assert got == [expected.opening, expected.income, expected.expense, expected.closing]
        assert row["笔数"] == expected.entries
    (t,) = report.totals
    assert total["账户"] == "合计" and total["币种"] == "CNY"
    assert [money(total[k]) for k in ("期初", "收入", "支出", "期末")] == [
        t.opening, t.income, t.expense, t.closing,
    ]  # fmt: skip
    # each bill account's income and expense are the bill's own column sums; its opening the
    # platform's balance before the first row (the opening entry is dated before the month)
    by = {r["账户"]: r for r in accounts}
    for number, bill in bills.items():
        assert money(by[number]["收入"]) == bill.income
        assert money(by[number]["支出"]) == bill.expense
        assert money(by[number]["期初"]) == bill.first_balance
        assert by[number]["笔数"] == bill.rows
    # the exact 4-decimal values are kept (shown with two)
    assert money(by["MAIN"]["期初"]) == Decimal("1000.1234")
    assert money(by["MAIN"]["支出"]) == Decimal("0.0001")
    assert by["MAIN"]["类型"] == "main" and by["ALI"]["类型"] == "alipay"
    # the daily sheet: every day, the totals of the report by day
    *days, day_total = table(wb["日报"])
    by_day = ledger.report(*MARCH, ("day",), shop_codes=["S3"])
    assert len(days) == 31 and [d["日期"].date() for d in days] == [r.day for r in by_day.rows]
    for row, expected in zip(days, by_day.rows, strict=True):
        assert [money(row[k]) for k in ("期初", "收入", "支出", "期末")] == [
            expected.opening, expected.income, expected.expense, expected.closing,
        ]  # fmt: skip
        assert row["笔数"] == expected.entries
    assert money(day_total["收入"]) == t.income and money(day_total["期末"]) == t.closing
    # by category and subject: the totals are the bills' (and MAIN's one expense)
    *cats, cat_total = table(wb["类目"])
    by_cat = ledger.report(*MARCH, ("category", "subject"), shop_codes=["S3"])
    assert [(c["类目编号"], c["科目编号"]) for c in cats] == [
        (r.category_id, r.subject_id) for r in by_cat.rows
    ]
    assert (
        sum(money(c["收入"]) for c in cats)
        == money(cat_total["收入"])
        == sum(b.income for b in bills.values())
    )
    assert money(cat_total["支出"]) == sum(b.expense for b in bills.values()) + Decimal("0.0001")
    assert cat_total["类目"] == "合计" and cat_total["笔数"] == t.entries


def test_the_platforms_closing_balance_beside_ours_and_no_difference(shop):
    ledger, bills = shop
    by = {r["账户"]: r for r in table(book_of(ledger, shop="S3")["账户"])}
    for number, bill in bills.items():
        assert money(by[number]["平台期末余额"]) == bill.last_balance == money(by[number]["期末"])
        assert money(by[number]["差额"]) == 0
        assert by[number]["平台余额时间"].date() == date(2024, 3, 31)
    assert by["MAIN"]["平台期末余额"] is None and by["MAIN"]["差额"] is None
    assert by["合计"]["差额"] is None
    # the month before the bills: the platform's balance at no row yet
    by_feb = {r["账户"]: r for r in table(book_of(ledger, "2024-02", shop="S3")["账户"])}
    assert "ALI" in by_feb and by_feb["ALI"]["平台期末余额"] is None
    # a posting by hand after the last row: the difference shows it
    ledger.income("ALI", "5.5", trade_time=datetime(2024, 3, 31, 23, 59, 30, tzinfo=SH))
    by = {r["账户"]: r for r in table(book_of(ledger, shop="S3")["账户"])}
    assert money(by["ALI"]["差额"]) == Decimal("5.5")


def test_without_an_opening_balance_the_difference_is_the_platforms_opening(ledger, tmp_path):
    bills = import_month(ledger, tmp_path, opening=False)
    by = {r["账户"]: r for r in table(book_of(ledger, shop="S3")["账户"])}
    for number, bill in bills.items():
        assert money(by[number]["期初"]) == 0
        assert money(by[number]["平台期末余额"]) == bill.last_balance
        assert money(by[number]["差额"]) == -bill.first_balance  # 25000.00 and 8000.00 short
    assert [money(by[n]["差额"]) for n in ("ALI", "JD")] == [Decimal(-25000), Decimal(-8000)]


def test_the_period_sheet_open_then_closed_with_the_checks(shop):
    ledger, _ = shop
    items = dict(period_items(book_of(ledger, shop="S3")["账期"]))
    assert items["账期"] == "2024-03" and items["范围"] == "店铺 S3"
    assert items["状态"] == "open（未结账）" and items["结账时间"] is None
    assert items["结账检查"] == "无"
    period = Periods(ledger).close("2024-03", shop="S3", actor="user:finance")
    wb = book_of(ledger, shop="S3")
    items = dict(period_items(wb["账期"]))
    assert items["状态"] == "closed（已结账）" and items["结账人"] == "user:finance"
    assert items["快照SHA-256"] == period.snapshot_sha256 and items["强制结账"] == "否"
    assert items["结账时间"] == period.closed_at.astimezone(SH).strftime("%Y-%m-%d %H:%M:%S")
    assert wb["账期"].column_dimensions["B"].width >= 64
    # the closed period's stored figures are the workbook's
    by = {r["账户"]: r for r in table(wb["账户"])}
    for figures in period.figures:
        assert money(by[figures["account"]]["期末"]) == Decimal(figures["closing"])
    Periods(ledger).reopen("2024-03", shop="S3", actor="user:finance", reason="补记")
    assert dict(period_items(book_of(ledger, shop="S3")["账期"]))["状态"] == "reopened（已重开）"


def test_the_checks_findings_are_listed(shop):
    ledger, _ = shop
    ledger.open_account(number="WX", name="微信", type="wechat", shop_code="S3")
    ledger.income("WX", "1", trade_time=datetime(2024, 3, 2, 10, tzinfo=SH))
    items = period_items(book_of(ledger, shop="S3")["账期"])
    assert ("结账检查", "1 项") in items
    assert ("missing_import_days", "account WX: no import for 2024-03-01..2024-03-31 (31 days)")\
        in items  # fmt: skip
    # the whole ledger's workbook, and one without the period or the checks
    items = dict(period_items(book_of(ledger)["账期"]))
    assert items["范围"] == "全账本" and items["状态"] == "open（未结账）"
    hidden = dict(period_items(book_of(ledger, with_period=False, with_checks=False)["账期"]))
    assert "状态" in hidden and "快照SHA-256" not in hidden
    assert hidden["结账检查"].startswith("（未包含")


def test_scope_the_whole_ledger_and_a_callers_reach(shop):
    ledger, _ = shop
    rows = table(book_of(ledger)["账户"])
    assert [r["账户"] for r in rows] == ["ALI", "JD", "MAIN", "OTHER", "合计"]
    rows = table(book_of(ledger, shop="S3", numbers=["JD"])["账户"])
    assert [r["账户"] for r in rows] == ["JD", "合计"]


def test_money_past_15_digits_is_text_and_names_stay_text(ledger):
    ledger.open_account(number="BIG", name="=HYPERLINK(\"x\")", shop_code="S1",
                        allow_overdraft=True)  # fmt: skip
    ledger.income("BIG", "99999999999999.9999", trade_time=datetime(2024, 3, 2, tzinfo=SH))
    ledger.income("BIG", "0.0001", trade_time=datetime(2024, 3, 3, tzinfo=SH))
    wb = book_of(ledger, shop="S1")
    row = next(wb["账户"].iter_rows(min_row=2, max_row=2))
    assert row[1].value == '=HYPERLINK("x")' and row[1].data_type == "s"
    assert row[6].value == "100000000000000.0000" and row[6].data_type == "s"  # 收入
    day = list(wb["日报"].iter_rows(min_row=3, max_row=3))[0]  # 2 March: 收入 as digits
    assert day[3].value == "99999999999999.9999"


@pytest.mark.parametrize(
    ("month", "shop_code", "field"),
    [("2026-13", None, "month"), ("1969-12", None, "month"), ("2026-1", None, "month"),
     ("2024-03", "NOPE", "shop"), ("2024-03", " ", "shop")],
)  # fmt: skip
def test_bad_input_is_refused(shop, month, shop_code, field):
    ledger, _ = shop
    with pytest.raises(ValidationError) as refused:
        Periods(ledger).month_book(month, shop=shop_code)
    assert refused.value.field == field


SOFFICE = shutil.which("soffice")
# comma, double quote, UTF-8, from row 1; "as shown" on (the number formats applied); -1: every
# sheet, each into FILE-SHEET.csv
AS_SHOWN = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_a_spreadsheet_program_opens_it_and_shows_two_decimals(shop, tmp_path, backend):
    if backend != "sqlite":
        pytest.skip("the file is the same on both databases")
    ledger, bills = shop
    Periods(ledger).close("2024-03", shop="S3", actor="test")
    book = Periods(ledger).month_book("2024-03", shop="S3")
    (tmp_path / "m.xlsx").write_bytes(workbook_bytes(book))
    subprocess.run(
        [SOFFICE, "--headless", "--convert-to", AS_SHOWN, "--outdir", "out", "m.xlsx"],
        cwd=tmp_path, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip

    def sheet(name: str) -> list[list[str]]:
        with open(tmp_path / "out" / f"m-{name}.csv", encoding="utf-8", newline="") as f:
            return list(csv.reader(f))

    accounts = {r[0]: r for r in sheet("账户")}
    assert accounts["MAIN"][5] == "1,000.12"  # holds 1000.1234; shows two decimals
    assert accounts["MAIN"][7] == "0.00"  # holds 0.0001
    total = accounts["合计"]
    assert total[6] == f"{sum(b.income for b in bills.values()):,.2f}"
    assert accounts["ALI"][11].startswith("2024-03-31 ") and accounts["ALI"][12] == "0.00"
    days = sheet("日报")
    assert days[1][0] == "2024-03-01" and days[-1][0] == "合计" and len(days) == 33
    assert sheet("类目")[-1][1] == "合计"
    assert ["状态", "closed（已结账）"] in sheet("账期")
