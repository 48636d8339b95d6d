"""``zhangben report …`` (``report month --xlsx``: the 月结 workbook), ``zhangben summaries …``
and ``balance --as-of`` through Typer's runner, on SQLite: the tables, the
errors (one line, exit 1, nothing written)."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.periods.support import money, read_book, table
from zhangben.core.ledger import Ledger

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def books(cli, db_url):
    cli("db", "upgrade")
    ledger = Ledger.from_url(db_url)
    ledger.open_account(number="ACC001", name="主账户", shop_code="S001")
    ledger.open_account(number="ALI", name="支付宝", type="alipay", shop_code="S001")
    ledger.open_account(number="JD", name="京东", type="jd_wallet", shop_code="S002")
    ledger.income("ACC001", "1000.00", trade_time=datetime(2026, 9, 30, 10, tzinfo=SH))
    ledger.income("ALI", "300.00", trade_time=datetime(2026, 10, 1, 23, 59, tzinfo=SH),
                  subject_id=20)  # fmt: skip
    ledger.expense("ACC001", "120.50", trade_time=datetime(2026, 10, 2, 9, tzinfo=SH),
                   subject_id=5)  # fmt: skip
    ledger.transfer("ACC001", "JD", "200.00", trade_time=datetime(2026, 10, 31, 23, tzinfo=SH))
    yield ledger
    ledger.engine.dispose()


def lines(out: str) -> list[list[str]]:
    """The cells of a Rich table's rows."""
    return [[c.strip() for c in line.strip("│").split("│")] for line in out.splitlines()
            if line.startswith("│")]  # fmt: skip


def test_daily_report_of_a_shop(cli, books):
    out = cli("report", "daily", "--month", "2026-10", "--shop", "S001").output
    assert "daily report 2026-10 (Asia/Shanghai)" in out
    rows = lines(out)
    assert rows[0] == ["2026-10-01", "1000.00", "300.00", "0.00", "1300.00", "1"]
    assert rows[1] == ["2026-10-02", "1300.00", "0.00", "120.50", "1179.50", "1"]
    assert len(rows) == 32 and rows[-1] == ["total", "1000.00", "300.00", "320.50", "979.50", "3"]


def test_month_report_by_account_category_and_the_monthly_report(cli, books):
    rows = lines(cli("report", "month", "2026-10").output)
    assert rows[0] == ["ACC001 主账户", "1000.00", "0.00", "320.50", "679.50", "2"]
    assert rows[-1] == ["total", "1000.00", "500.00", "320.50", "1179.50", "4"]
    out = cli("report", "month", "2026-10", "--by", "category", "--by", "subject").output
    assert ["19 平台账单", "20 平台收入", "300.00", "0.00", "1"] in lines(out)
    assert "balances: CNY 1000.00 → 1179.50" in out
    out = cli("report", "monthly", "--from", "2026-09", "--to", "2026-10", "--by", "platform")
    assert ["2026-10", "alipay", "0.00", "300.00", "0.00", "300.00", "1"] in lines(out.output)
    out = cli("report", "summary", "--from", "2026-10-02", "--to", "2026-10-31", "--by", "shop")
    assert ["S002", "0.00", "200.00", "0.00", "200.00", "1"] in lines(out.output)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("report", "daily", "--month", "2026-13"), "--month: '2026-13' is not a month like"),
        (("report", "month", "2026-13"), "MONTH: '2026-13' is not a month like 2026-10"),
        (("report", "daily", "--from", "2026-10-31", "--to", "2026-10-01"),
         "--to: the range ends (2026-10-01) before it starts (2026-10-31)"),
        (("report", "month", "2026-10", "--by", "colour"), "--by: unknown grouping 'colour'"),
        (("report", "daily", "--month", "2026-10", "--by", "month"), "report's own"),
        (("report", "daily"), "give --month 2026-10, or --from and --to"),
        (("balance", "--as-of", "2026-02-30"), "as_of: '2026-02-30' is not a day"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_writes_nothing(cli, books, args, message):
    before = books.summaries_status()
    result = cli(*args, ok=False)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert books.summaries_status() == before


def test_summaries_status_refresh_rebuild(cli, books):
    assert "summaries hold entries up to 0 of 5 (5 waiting; days of none yet)" in (
        cli("summaries", "status").output
    )
    out = cli("summaries", "refresh").output
    assert "up to 5 of 5 (0 waiting; days of Asia/Shanghai); 5 folded now" in out
    assert "5 folded now" in cli("summaries", "rebuild").output
    assert "ledger OK" in cli("verify").output


def test_balances_as_of_a_day_for_every_account(cli, books):
    out = cli("balance", "--as-of", "2026-10-01").output
    assert "balances as of 2026-10-01 (end of day)" in out
    rows = lines(out)
    assert ["ALI", "支付宝", "alipay", "S001", "CNY", "300.00"] in rows
    assert rows[-1] == ["total", "", "", "", "CNY", "1300.00"]
    out = cli("balance", "ALI", "--as-of", "2026-10-01").output
    assert "ALI balance as of 2026-10-01 (end of day): 300.00" in out
    out = cli("balance", "--as-of", "2026-10-01 12:00", "--shop", "S001").output
    assert ["ALI", "支付宝", "alipay", "S001", "CNY", "0.00"] in lines(out)


# -- the 月结 workbook: report month --xlsx ------------------------------------------------------


@pytest.fixture
def out_dir(tmp_path):
    """A directory of its own for the files written (the SQLite database is in tmp_path)."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def test_month_xlsx_writes_the_workbook(cli, books, out_dir):
    target = out_dir / "月结-2026-10.xlsx"
    out = cli("report", "month", "2026-10", "--shop", "S001", "--xlsx", str(target)).output
    assert ["ALI 支付宝", "S001", "alipay", "0.00", "300.00", "0.00", "300.00", "1"] in lines(out)
    assert f"wrote {target}: 账户 2 rows, 日报 31 days, 类目 3 rows" in out
    assert "账期 2026-10 of shop S001: open; checks: 1 finding(s)" in out  # ALI: no import
    wb = read_book(target)
    assert wb.sheetnames == ["账户", "日报", "类目", "账期"]
    rows = {r["账户"]: r for r in table(wb["账户"])}
    assert set(rows) == {"ACC001", "ALI", "合计"}
    assert [money(rows["合计"][k]) for k in ("期初", "收入", "支出", "期末")] == [
        1000, 300, Decimal("320.5"), Decimal("979.5"),
    ]  # fmt: skip
    assert [p.name for p in out_dir.iterdir()] == [target.name]  # no temporary file left
    # an existing file is kept unless --force
    result = cli("report", "month", "2026-10", "--xlsx", str(target), ok=False)
    assert result.exit_code == 1 and "exists: give --force to overwrite it" in result.output
    assert [r["账户"] for r in table(read_book(target)["账户"])] == ["ACC001", "ALI", "合计"]
    cli("report", "month", "2026-10", "--xlsx", str(target), "--force")
    assert [r["账户"] for r in table(read_book(target)["账户"])] == ["ACC001", "ALI", "JD", "合计"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("2026-13",), "MONTH: '2026-13' is not a month like 2026-10"),
        (("1969-12",), "MONTH: '1969-12' is not a month like 2026-10"),
        (("2026-10", "--shop", "NOPE"), "--shop: no account has the shop code 'NOPE'"),
        (("2026-10", "--shop", "S001", "--shop", "S002"), "--xlsx: the workbook is of one shop"),
        (("2026-10", "--by", "category"), "--xlsx: the workbook is of the whole ledger or of"),
        (("2026-10", "--account", "ALI"), "(no --by, --account or --type)"),
    ],
)  # fmt: skip
def test_month_xlsx_bad_input_writes_no_file(cli, books, out_dir, args, message):
    target = out_dir / "book.xlsx"
    result = cli("report", "month", *args, "--xlsx", str(target), ok=False)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert list(out_dir.iterdir()) == []


def test_month_xlsx_needs_an_xlsx_name_in_a_directory(cli, books, out_dir):
    result = cli("report", "month", "2026-10", "--xlsx", str(out_dir / "a.csv"), ok=False)
    assert "--xlsx: " in result.output and "the file name must end in .xlsx" in result.output
    result = cli("report", "month", "2026-10", "--xlsx", str(out_dir / "no/a.xlsx"), ok=False)
    assert result.exit_code == 1 and "is not a directory" in result.output
    assert list(out_dir.iterdir()) == []
