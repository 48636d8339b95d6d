"""The close checks and the Periods facade over imported bills, on SQLite and PostgreSQL:
missing import days, continuity breaks and verify problems are listed and refuse the close
unless forced; an import dated into a closed period is refused naming the line and period."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from zhangben.core import errors
from zhangben.demo import bills as s
from zhangben.imports.runner import import_file
from zhangben.periods import Periods
from zhangben.store.tables import accounts


def days_of_txns(first_day: int, last_day: int, seed: int = 3) -> list[s.SampleTxn]:
    """Two chained rows a day (local time, March 2024) from ``first_day`` to ``last_day``."""
    txns = list(s.chained_txns(2 * (last_day - first_day + 1), seed=seed))
    out = []
    for n, t in enumerate(txns):
        day = datetime(2024, 3, first_day + n // 2, 10 + 5 * (n % 2))
        out.append(replace(t, time=day))
    return out


@pytest.fixture
def shop(ledger):
    ledger.open_account(number="ALI", name="支付宝", type="alipay", shop_code="S3",
                        allow_overdraft=True)  # fmt: skip
    ledger.open_account(number="JD", name="京东钱包", type="jd_wallet", shop_code="S3",
                        allow_overdraft=True)  # fmt: skip
    ledger.open_account(number="MAIN", name="主账户", shop_code="S3")
    return ledger


def test_a_month_fully_imported_closes_and_its_figures_are_the_bills(shop, tmp_path):
    alipay = days_of_txns(1, 31)
    import_file(shop, s.write_alipay_csv(tmp_path / "a.csv", alipay), account="ALI")
    periods = Periods(shop)
    assert periods.checks("2024-03", shop="S3") == []
    period = periods.close("2024-03", shop="S3", actor="test")
    [ali] = period.figures
    income = sum(t.amount for t in alipay if t.amount > 0)
    expense = -sum(t.amount for t in alipay if t.amount < 0)
    assert Decimal(ali["income"]) == income and Decimal(ali["expense"]) == expense
    assert ali["entries"] == len(alipay)
    assert not period.forced and period.acknowledged == []


def test_missing_days_and_a_continuity_break_are_listed_and_refuse_the_close(shop, tmp_path):
    import_file(shop, s.write_alipay_csv(tmp_path / "a.csv", days_of_txns(1, 10)), account="ALI")
    jd = days_of_txns(1, 31, seed=5)
    tampered = jd[:20] + jd[21:]  # a row of March 11 left out
    import_file(shop, s.write_jd_wallet_csv(tmp_path / "j.csv", tampered), account="JD")
    periods = Periods(shop)
    found = periods.checks("2024-03", shop="S3")
    assert [(f.check, f.account) for f in found] == [
        ("missing_import_days", "ALI"), ("continuity", "JD"), ("verify", None),
    ]  # fmt: skip
    assert found[0].text == "account ALI: no import for 2024-03-11..2024-03-31 (21 days)"
    assert found[1].text.startswith("account JD: line ")
    assert "does not follow" in found[1].text
    assert found[2].text.startswith("jd_wallet account JD:")  # the drift from the gap on
    with pytest.raises(errors.PeriodNotReady) as refused:
        periods.close("2024-03", shop="S3", actor="test")
    assert refused.value.findings == found
    assert periods.list_periods() == []
    # the missing JD row arrives: the break is gone; the Alipay days are acknowledged
    import_file(shop, s.write_jd_wallet_csv(tmp_path / "j2.csv", jd), account="JD")
    assert [f.check for f in periods.checks("2024-03", shop="S3")] == ["missing_import_days"]
    period = periods.close("2024-03", shop="S3", actor="test", force=True)
    assert period.forced and [a["check"] for a in period.acknowledged] == ["missing_import_days"]


def test_verify_problems_are_findings(shop, tmp_path):
    shop.income("MAIN", "10", trade_time=datetime(2024, 3, 2, 9, tzinfo=shop.tz))
    with shop.engine.begin() as c:  # a balance drifted from its entries
        c.execute(accounts.update().where(accounts.c.number == "MAIN").values(balance=1))
    found = Periods(shop).checks("2024-03", shop="S3")
    assert [(f.check, f.text) for f in found] == [
        ("verify", "account MAIN: balance 0.00 but its entries sum to 10.00")
    ]


def test_a_hand_posting_that_parts_the_ledger_from_the_platform_is_a_finding(shop, tmp_path):
    """The bill's chain holds, but the ledger's balance at its rows no longer is the
    platform's: the drift check of ``zhangben verify`` stands in the way of the close."""
    import_file(shop, s.write_alipay_csv(tmp_path / "a.csv", days_of_txns(1, 31)), account="ALI")
    assert Periods(shop).checks("2024-03", shop="S3") == []
    shop.expense("ALI", "1.00", trade_time=datetime(2024, 3, 5, 12, tzinfo=shop.tz))
    found = Periods(shop).checks("2024-03", shop="S3")
    assert [f.check for f in found] == ["verify"]
    assert found[0].text.startswith("alipay account ALI:") and "difference" in found[0].text
    with pytest.raises(errors.PeriodNotReady):
        Periods(shop).close("2024-03", shop="S3", actor="test")


def test_an_unused_bill_account_and_another_shop_are_not_checked(shop, tmp_path):
    shop.open_account(number="WX", name="微信", type="wechat", shop_code="S4")
    shop.income("WX", "1", trade_time=datetime(2024, 3, 2, 9, tzinfo=shop.tz))
    assert Periods(shop).checks("2024-03", shop="S3") == []  # ALI and JD have no entries
    assert [f.account for f in Periods(shop).checks("2024-03", shop="S4")] == ["WX"]
    assert [f.account for f in Periods(shop).checks("2024-03")] == ["WX"]


def test_an_import_dated_into_a_closed_period_is_refused_whole(shop, tmp_path):
    march = days_of_txns(1, 31)
    import_file(shop, s.write_alipay_csv(tmp_path / "a.csv", march), account="ALI")
    Periods(shop).close("2024-03", shop="S3", actor="test")
    before = shop.entries(limit=1).total
    # the same file again writes nothing new, so nothing is refused
    assert (
        import_file(shop, s.write_alipay_csv(tmp_path / "b.csv", march), account="ALI").rows_new
        == 0
    )
    late = replace(
        march[-1],
        seq=99,
        flow_no="LATE-1",
        business_type="在线支付",
        time=datetime(2024, 3, 31, 22),
        amount=Decimal("5"),
    )
    april = replace(
        march[-1],
        seq=98,
        flow_no="APRIL-1",
        business_type="在线支付",
        time=datetime(2024, 4, 1, 9),
        amount=Decimal("7"),
    )
    path = s.write_alipay_csv(tmp_path / "c.csv", [april, late])
    with pytest.raises(errors.PeriodClosed) as refused:
        import_file(shop, path, account="ALI")
    assert refused.value.message.startswith("line ")
    assert (
        "(flow LATE-1): period 2024-03 is closed (shop S3 is closed through 2024-03): "
        "account ALI takes no entry dated 2024-03-31 22:00:00" in refused.value.message
    )
    assert shop.entries(limit=1).total == before
    path = s.write_alipay_csv(tmp_path / "d.csv", [april])
    assert import_file(shop, path, account="ALI").entries_written == 1


def test_closing_the_ledger_checks_every_shop(shop, tmp_path):
    import_file(shop, s.write_alipay_csv(tmp_path / "a.csv", days_of_txns(1, 30)), account="ALI")
    found = Periods(shop).checks("2024-03")
    assert [f.text for f in found] == ["account ALI: no import for 2024-03-31 (1 day)"]
    with shop.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one() == 3
    assert Periods(shop).close("2024-03", actor="test", force=True).shop is None


def test_checks_of_a_bad_month_or_shop_are_refused(shop):
    with pytest.raises(errors.ValidationError, match="month"):
        Periods(shop).checks("2024-3")
    with pytest.raises(errors.ValidationError, match="shop"):
        Periods(shop).close("2024-03", shop="S404", actor="test")


def test_the_period_a_close_follows_is_verified(shop):
    from zhangben.store.period_tables import periods as periods_table

    shop.income("MAIN", "10", trade_time=datetime(2024, 2, 2, 9, tzinfo=shop.tz))
    Periods(shop).close("2024-02", shop="S3", actor="test")
    with shop.engine.begin() as c:
        text = c.execute(sa.select(periods_table.c.snapshot)).scalar_one()
        c.execute(periods_table.update().values(snapshot=text.replace("10.0000", "11.0000")))
    found = Periods(shop).checks("2024-03", shop="S3")
    assert [f.check for f in found] == ["verify", "verify"]
    assert found[0].text == (
        "period 2024-02 of shop S3: its snapshot does not hash to its stored SHA-256"
    )
    with pytest.raises(errors.PeriodNotReady):
        Periods(shop).close("2024-03", shop="S3", actor="test")
