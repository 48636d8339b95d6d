"""The newcomer's month end (docs/month-end.md, the "Done when" of issue 15) through the CLI,
on SQLite and PostgreSQL: the sample bills imported, each account's balance the platform's
closing balance, the month's daily report, the month closed, a posting dated into it refused,
and the 月结 workbook whose totals are the bills' own totals.

The bills' figures are read from the files themselves, with the csv module: the Alipay
download's own 汇总 (its 合计 line) and the sums of the JD wallet file's columns."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.periods.support import money, period_items, read_book, table
from zhangben.cli import app

runner = CliRunner()
ROWS = "600"


@pytest.fixture
def zb(db_url):
    def run(*args: str, ok: bool = True):
        result = runner.invoke(app, ["--db", db_url, *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


@dataclass(frozen=True)
class BillTotals:
    income: Decimal
    expense: Decimal
    closing: Decimal  # the balance column at the last row


def _rows(text: str, header_starts: str) -> list[dict]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_starts))
    body = [line for line in lines[start:] if line and not line.startswith("#")]
    return [{k.strip(): (v or "").strip() for k, v in row.items() if k}
            for row in csv.DictReader(io.StringIO("\n".join(body)))]  # fmt: skip


def alipay_totals(path: Path) -> BillTotals:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        detail = zf.read(next(n for n in names if n.endswith("账务明细.csv"))).decode("gbk")
        summary = zf.read(next(n for n in names if "汇总" in n)).decode("gbk")
    (total,) = [r for r in _rows(summary, "业务类型") if r["业务类型"] == "合计"]
    rows = _rows(detail, "账务流水号")
    last = max(rows, key=lambda r: r["发生时间"])
    return BillTotals(
        Decimal(total["收入金额（+元）"]),
        -Decimal(total["支出金额（-元）"]),
        Decimal(last["账户余额（元）"]),
    )


def jd_totals(path: Path) -> BillTotals:
    rows = _rows(path.read_text(encoding="gbk"), "商户号")
    last = max(rows, key=lambda r: r["日期"])
    return BillTotals(
        sum(Decimal(r["收入金额(元)"]) for r in rows),
        sum(Decimal(r["支出金额(元)"]) for r in rows),
        Decimal(last["账户余额(元)"]),
    )


def cells(out: str, first: str) -> list[str]:
    """The cells of the Rich table row that starts with ``first``."""
    for line in out.splitlines():
        parts = [c.strip() for c in line.strip("│").split("│")]
        if line.startswith("│") and parts[0] == first:
            return parts
    raise AssertionError(f"no row {first!r} in:\n{out}")


def test_a_newcomers_month_end(zb, tmp_path):
    bills = tmp_path / "bills"
    zb("demo")
    zb("import-samples", str(bills), "--rows", ROWS)
    ali = alipay_totals(bills / "alipay_2024-03.zip")
    jd = jd_totals(bills / "jd_wallet_2024-03.csv")
    zb("account", "add", "ALI-M", "支付宝-月结店", "--type", "alipay", "--shop", "S010")
    zb("account", "add", "JD-M", "京东钱包-月结店", "--type", "jd_wallet", "--shop", "S010")
    out = zb("import", str(bills / "alipay_2024-03.zip"), "--account", "ALI-M").output
    assert f"the platform's balance at the last row {ali.closing:.2f}" in out
    zb("import", str(bills / "jd_wallet_2024-03.csv"), "--account", "JD-M")

    # each account's balance is the platform's closing balance, and verify says so
    listed = zb("account", "list").output
    assert Decimal(cells(listed, "7")[6]) == ali.closing  # id 7: ALI-M after the demo's six
    assert Decimal(cells(listed, "8")[6]) == jd.closing
    assert re.search(r"drift OK: \d+ accounts", zb("verify").output)

    # the month's daily report: its totals are the bills'
    daily = zb("report", "daily", "--month", "2024-03", "--shop", "S010").output
    total = cells(daily, "total")
    assert [Decimal(c) for c in total[2:4]] == [ali.income + jd.income, ali.expense + jd.expense]
    assert Decimal(total[4]) == ali.closing + jd.closing

    # close the month; a posting dated into it is refused, naming the period
    assert "closed period 2024-03 of shop S010" in zb("period", "close", "2024-03", "--shop",
                                                       "S010").output  # fmt: skip
    refused = zb("post", "income", "ALI-M", "1", "--time", "2024-03-20 10:00:00", ok=False)
    assert refused.exit_code == 1 and "period 2024-03 is closed" in refused.output

    # the 月结 workbook: its totals are the bills' own totals
    target = tmp_path / "月结-2024-03.xlsx"
    zb("report", "month", "2024-03", "--shop", "S010", "--xlsx", str(target))
    wb = read_book(target)
    rows = {r["账户"]: r for r in table(wb["账户"])}
    for number, bill in (("ALI-M", ali), ("JD-M", jd)):
        assert (money(rows[number]["收入"]), money(rows[number]["支出"])) == (
            bill.income, bill.expense,
        )  # fmt: skip
        assert money(rows[number]["期末"]) == money(rows[number]["平台期末余额"]) == bill.closing
        assert money(rows[number]["差额"]) == 0
    assert money(rows["合计"]["收入"]) == ali.income + jd.income
    assert money(rows["合计"]["支出"]) == ali.expense + jd.expense
    day_total = table(wb["日报"])[-1]
    assert money(day_total["收入"]) == ali.income + jd.income
    category_total = table(wb["类目"])[-1]
    assert money(category_total["支出"]) == ali.expense + jd.expense
    items = dict(period_items(wb["账期"]))
    assert items["状态"] == "closed（已结账）" and items["结账检查"] == "无"
