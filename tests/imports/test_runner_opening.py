"""The opening balance (期初余额): a bill into an account with no earlier entries starts the
ledger where the platform is; idempotent, atomic with the import, refused when it cannot be
posted; an account with earlier entries gets none and the mismatch is reported."""

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from zhangben.core.errors import IdempotencyConflict, InsufficientFunds
from zhangben.core.queries import EntryFilter
from zhangben.demo import bills as s
from zhangben.imports.bills import BillFilter
from zhangben.imports.runner import import_file
from zhangben.imports.service import Imports
from zhangben.store.bills_tables import bill_rows, import_batches
from zhangben.store.tables import entries

SH = ZoneInfo("Asia/Shanghai")
D = Decimal


def entries_of(ledger, number):
    page = ledger.entries(EntryFilter(account_numbers=[number]), limit=10_000)
    return sorted(page.items, key=lambda e: e.id)


def openings(ledger, number):
    return [e for e in entries_of(ledger, number) if e.category_id == 22]


def count(ledger, table):
    with ledger.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_an_import_opens_the_account_at_the_platforms_balance(ledger, tmp_path):
    """No overdraft needed: the ledger follows the platform's balances from the first row on,
    and ends at the platform's balance at the last row."""
    ledger.open_account(number="ALI001", name="支付宝", type="alipay")
    txns = list(s.chained_txns(50, seed=3))
    report = import_file(ledger, s.write_alipay_zip(tmp_path / "a.zip", txns), account="ALI001")
    assert report.ok and report.rows_new == 50 and report.entries_written == 50
    (opening,) = openings(ledger, "ALI001")
    assert (
        opening.id == report.opening_entry_id and opening.id == entries_of(ledger, "ALI001")[0].id
    )
    assert (opening.type, opening.amount, opening.subject_id) == ("income", D("1000.00"), 23)
    assert opening.description == "期初余额" and opening.source == "alipay"
    assert "a.zip 第6行之前的平台余额" in opening.remark
    # dated the last second of the day before the first row's day (Asia/Shanghai)
    assert opening.trade_time == datetime(2024, 2, 29, 23, 59, 59, tzinfo=SH)
    assert report.opening_time == opening.trade_time and report.opening_amount == D(1000)
    assert report.platform_opening == report.ledger_opening == D(1000)
    assert report.opening_difference == 0 and report.opening_held_back is None
    assert ledger.balance("ALI001") == report.balance == report.last_balance == txns[-1].balance
    # the days of the file hold only the platform's rows; the day before ends at its opening
    assert ledger.balance_as_of("ALI001", datetime(2024, 2, 29, 23, 59, 59, 999999)) == 1000
    assert ledger.balance_as_of("ALI001", datetime(2024, 2, 29, 23, 59, 58)) == 0
    assert ledger.verify().ok and Imports(ledger).verify().ok


def test_reimports_and_later_files_post_no_second_opening(ledger, tmp_path):
    ledger.open_account(number="JD001", name="京东", type="jd_wallet")
    txns = list(s.chained_txns(40, seed=5))
    first = s.write_jd_wallet_csv(tmp_path / "1.csv", txns[:25])
    assert import_file(ledger, first, account="JD001").opening_entry_id is not None
    again = import_file(ledger, first, account="JD001")
    assert (again.rows_new, again.opening_entry_id, again.opening_difference) == (0, None, 0)
    later = import_file(
        ledger, s.write_jd_wallet_csv(tmp_path / "2.csv", txns[20:]), account="JD001"
    )
    assert later.ok and later.opening_entry_id is None
    assert later.ledger_opening == later.platform_opening == txns[19].balance
    assert len(openings(ledger, "JD001")) == 1
    assert ledger.balance("JD001") == txns[-1].balance and Imports(ledger).verify().ok


def test_a_newest_first_file_opens_before_its_oldest_row(ledger, tmp_path):
    ledger.open_account(number="ALI001", name="支付宝", type="alipay")
    txns = list(s.chained_txns(30, seed=4, start_balance=D("321.09")))
    path = s.write_alipay_csv(tmp_path / "desc.csv", list(reversed(txns)))
    report = import_file(ledger, path, account="ALI001")
    assert report.newest_first and report.opening_amount == D("321.09")
    assert ledger.balance("ALI001") == txns[-1].balance and Imports(ledger).verify().ok


def test_an_account_with_earlier_entries_gets_no_opening_and_the_mismatch_is_reported(
    ledger, tmp_path
):
    ledger.open_account(number="ALI001", name="支付宝", type="alipay", allow_overdraft=True)
    ledger.income("ALI001", "5.00", trade_time=datetime(2024, 1, 1, tzinfo=SH))
    txns = list(s.chained_txns(20, seed=6))
    report = import_file(ledger, s.write_alipay_csv(tmp_path / "a.csv", txns), account="ALI001")
    assert report.opening_entry_id is None and openings(ledger, "ALI001") == []
    assert (report.ledger_opening, report.platform_opening) == (D(5), D(1000))
    assert report.opening_difference == D(-995) and report.opening_mismatch and not report.ok
    assert report.opening_held_back == "the account has entries before the file's first row"
    (record,) = Imports(ledger).records()
    assert record.status == "warnings"
    assert ledger.balance("ALI001") == txns[-1].balance - 995
    drift = Imports(ledger).verify().check("drift")
    (problem,) = drift.problems
    assert f"line 6 of a.csv (import {report.import_id}, flow {txns[0].flow_no}" in problem
    assert "difference -995.00" in problem


def test_later_entries_do_not_hold_the_opening_back(ledger, tmp_path):
    """Only entries dated before the file's first row count: one posted today (after the
    bill's rows) stays after them."""
    ledger.open_account(number="ALI001", name="支付宝", type="alipay")
    ledger.income("ALI001", "7.00")
    txns = list(s.chained_txns(10, seed=7))
    report = import_file(ledger, s.write_alipay_csv(tmp_path / "a.csv", txns), account="ALI001")
    assert report.ok and report.opening_amount == D(1000)
    assert ledger.balance("ALI001") == txns[-1].balance + 7 and Imports(ledger).verify().ok


def test_no_opening_balance_keeps_the_old_behaviour(ledger, tmp_path):
    ledger.open_account(number="ALI001", name="支付宝", type="alipay", allow_overdraft=True)
    txns = list(s.chained_txns(10, seed=8))
    path = s.write_alipay_csv(tmp_path / "a.csv", txns)
    report = import_file(ledger, path, account="ALI001", opening_balance=False)
    assert report.ok and report.opening_entry_id is None and openings(ledger, "ALI001") == []
    assert report.opening_held_back == "--no-opening-balance"
    assert report.opening_difference == D(-1000)  # said, but not a warning: it was asked for
    assert ledger.balance("ALI001") == txns[-1].balance - 1000
    # verify still says where the ledger is not where the platform is: from the first row on
    (problem,) = Imports(ledger).verify().check("drift").problems
    assert "line 6 of a.csv" in problem and "difference -1000.00" in problem
    # a later import without the option opens the account after all (none is dated before)
    again = import_file(ledger, path, account="ALI001")
    assert again.opening_amount == D(1000) and again.rows_new == 0
    assert ledger.balance("ALI001") == txns[-1].balance and Imports(ledger).verify().ok


def test_a_zero_opening_balance_posts_nothing(ledger, tmp_path):
    ledger.open_account(number="JD001", name="京东", type="jd_wallet", allow_overdraft=True)
    txns = list(s.chained_txns(5, seed=9, start_balance=D(0)))
    report = import_file(ledger, s.write_jd_wallet_csv(tmp_path / "j.csv", txns), account="JD001")
    assert report.ok and report.opening_entry_id is None and report.platform_opening == 0
    assert openings(ledger, "JD001") == [] and ledger.balance("JD001") == txns[-1].balance


def test_a_negative_opening_balance_needs_overdraft(ledger, tmp_path):
    """The opening entry obeys R10 like any posting: a platform balance below zero before the
    first row is refused for an account without overdraft, naming the row, writing nothing."""
    ledger.open_account(number="ALI001", name="支付宝", type="alipay")
    ledger.open_account(number="ALI002", name="支付宝", type="alipay", allow_overdraft=True)
    txns = list(s.chained_txns(5, seed=10, start_balance=D("-50.00")))
    path = s.write_alipay_csv(tmp_path / "a.csv", txns)
    with pytest.raises(InsufficientFunds) as refused:
        import_file(ledger, path, account="ALI001")
    assert refused.value.message == (
        f"opening balance before line 6 (flow {txns[0].flow_no}): account ALI001 holds 0.00; "
        "this posting would take it to -50.00 and the account does not allow overdraft"
    )
    assert count(ledger, entries) == count(ledger, bill_rows) == count(ledger, import_batches) == 0
    report = import_file(ledger, path, account="ALI002")
    (opening,) = openings(ledger, "ALI002")
    assert (opening.type, opening.amount) == ("expense", D("-50.00"))
    assert report.ok and ledger.balance("ALI002") == txns[-1].balance


def test_the_opening_is_written_with_the_rows_or_not_at_all(ledger, tmp_path):
    """A file refused after its opening entry was planned (a flow posted to another account)
    leaves nothing behind, the opening entry included."""
    ledger.open_account(number="ALI001", name="支付宝", type="alipay")
    ledger.open_account(number="ALI002", name="支付宝", type="alipay")
    txns = list(s.chained_txns(10, seed=11))
    import_file(ledger, s.write_alipay_csv(tmp_path / "2.csv", txns[8:]), account="ALI002")
    before = count(ledger, entries)
    with pytest.raises(IdempotencyConflict, match=r"^line 14 \(flow"):
        import_file(ledger, s.write_alipay_csv(tmp_path / "1.csv", txns), account="ALI001")
    assert count(ledger, entries) == before and entries_of(ledger, "ALI001") == []
    assert Imports(ledger).bills(BillFilter("alipay", account_numbers=["ALI001"]))[0] == 0


def test_a_file_older_than_the_opening_gets_none_and_the_remedy_is_documented(ledger, tmp_path):
    """Back-filling: February after March. The account's opening entry (dated before March)
    is not moved and no second one is posted: the mismatch is reported. The remedy
    (docs/imports.md): reverse the opening entry at its own date, post February's by hand."""
    ledger.open_account(number="ALI001", name="支付宝", type="alipay")
    txns = list(s.chained_txns(20, seed=12, start=datetime(2024, 2, 28, 8)))
    later = [replace(t, time=t.time + timedelta(days=1)) for t in txns[10:]]
    march = import_file(ledger, s.write_alipay_csv(tmp_path / "2.csv", later), account="ALI001")
    assert march.opening_amount == txns[9].balance
    feb = import_file(ledger, s.write_alipay_csv(tmp_path / "1.csv", txns[:10]), account="ALI001")
    assert feb.opening_entry_id is None and feb.opening_mismatch
    assert feb.opening_held_back.startswith("the account has an opening entry already (posting")
    assert feb.opening_difference == D(-1000)
    assert not Imports(ledger).verify().ok
    (opening,) = openings(ledger, "ALI001")
    ledger.reverse_entry(opening.id, trade_time=opening.trade_time)
    ledger.income("ALI001", "1000.00", category_id=22, subject_id=23, description="期初余额",
                  trade_time=datetime(2024, 2, 27, 23, 59, 59, tzinfo=SH))  # fmt: skip
    assert ledger.balance("ALI001") == txns[-1].balance
    assert Imports(ledger).verify().ok and ledger.verify().ok


def test_formats_without_a_balance_column_have_no_opening(ledger, tmp_path):
    ledger.open_account(number="WX001", name="微信", type="wechat", allow_overdraft=True)
    path = s.write_wechat_trade_csv(tmp_path / "t.csv", s.chained_txns(10, seed=13))
    report = import_file(ledger, path, account="WX001")
    assert report.ok and report.platform_opening is None and report.opening_entry_id is None
    assert openings(ledger, "WX001") == []


def test_two_imports_of_one_file_at_once_open_the_account_once(ledger, tmp_path):
    ledger.open_account(number="JD001", name="京东", type="jd_wallet")
    txns = list(s.chained_txns(300, seed=14))
    path = s.write_jd_wallet_csv(tmp_path / "j.csv", txns)
    reports, failures = [], []

    def run():
        try:
            reports.append(import_file(ledger, path, account="JD001"))
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and sorted(r.rows_new for r in reports) == [0, 300]
    assert sorted(r.opening_amount for r in reports) == [0, 1000]
    assert len(openings(ledger, "JD001")) == 1 and ledger.balance("JD001") == txns[-1].balance


def test_an_opening_balance_beyond_the_largest_amount_is_refused(ledger, tmp_path):
    """R1 on the opening entry: the platform's balance before the first row (its balance plus
    its expense) may pass the largest amount the ledger holds."""
    from zhangben.core.errors import InvalidAmount

    ledger.open_account(number="ALI001", name="支付宝", type="alipay", allow_overdraft=True)
    big = D("99999999999999.00")
    row = s.SampleTxn(1, datetime(2024, 3, 1, 9), -big, big, "F-1", "T1", "", "转账", "")
    with pytest.raises(InvalidAmount) as refused:
        import_file(ledger, s.write_alipay_csv(tmp_path / "a.csv", [row]), account="ALI001")
    assert refused.value.message == (
        "opening balance before line 6 (flow F-1): amount: '199999999999998.0000' is larger "
        "than 99999999999999.9999"
    )
    assert count(ledger, entries) == count(ledger, bill_rows) == count(ledger, import_batches) == 0


def test_a_flow_of_the_file_posted_by_hand_earlier_does_not_hold_the_opening_back(ledger, tmp_path):
    """The clerk posted the first flow by hand, dated the start of the day (before the
    platform's time): it is the file's own row, linked to it, not an earlier entry."""
    ledger.open_account(number="ALI001", name="支付宝", type="alipay")
    txns = list(s.chained_txns(10, seed=15))
    ledger.income("ALI001", txns[0].amount, source="alipay", external_id=txns[0].flow_no,
                  trade_time=datetime(2024, 3, 1, tzinfo=SH))  # fmt: skip
    report = import_file(ledger, s.write_alipay_csv(tmp_path / "a.csv", txns), account="ALI001")
    assert report.rows_linked == 1 and report.ok
    assert report.opening_amount == D(1000) and report.ledger_opening == D(1000)
    assert ledger.balance("ALI001") == txns[-1].balance and Imports(ledger).verify().ok
