"""The drift check of ``zhangben verify``: the ledger's balance at each imported row against
the platform's balance column, reported at the first row where they part — also where the
bill rows themselves chain and only the ledger moved (a posting by hand, a reversal)."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from zhangben.demo import bills as s
from zhangben.imports.runner import import_file
from zhangben.imports.service import Imports

SH = ZoneInfo("Asia/Shanghai")
D = Decimal


def drift(ledger):
    return Imports(ledger).verify().check("drift")


def at(t) -> str:
    return t.time.strftime("%Y-%m-%d %H:%M:%S")


def test_a_missing_row_is_found_where_it_is_missing_and_the_filled_gap_is_clean(ledger, tmp_path):
    ledger.open_account(number="ALI001", name="支付宝", type="alipay", allow_overdraft=True)
    txns = list(s.chained_txns(40, seed=21))
    income = next(i for i in range(10, 30) if txns[i].amount > 0)
    gap = import_file(
        ledger, s.write_alipay_csv(tmp_path / "a.csv", txns[:income]), account="ALI001"
    )
    rest = s.write_alipay_csv(tmp_path / "b.csv", txns[income + 1 :])
    later = import_file(ledger, rest, account="ALI001")
    assert later.opening_mismatch  # the import says it: the ledger is short before its row 1
    check = drift(ledger)
    assert (check.accounts_checked, check.rows_checked) == (1, 39)
    after = txns[income + 1]
    ledger_balance = after.balance - txns[income].amount
    assert check.problems == [
        f"alipay account ALI001: the ledger parts from the platform at line 6 of b.csv "
        f"(import {later.import_id}, flow {after.flow_no}, {at(after)}): ledger balance "
        f"{ledger_balance:.2f}, platform balance {after.balance:.2f}, difference "
        f"-{txns[income].amount:.2f}"
    ]
    assert gap.import_id != later.import_id
    # the missing row arrives: it is posted last, but counts at its time
    fill = s.write_alipay_csv(tmp_path / "c.csv", txns[income - 1 : income + 2])
    assert import_file(ledger, fill, account="ALI001").rows_new == 1
    assert drift(ledger).ok and Imports(ledger).verify().ok
    assert ledger.balance("ALI001") == txns[-1].balance


def test_a_posting_by_hand_inside_the_bills_period_is_drift_the_chain_cannot_see(ledger, tmp_path):
    ledger.open_account(number="JD001", name="京东", type="jd_wallet", allow_overdraft=True)
    txns = list(s.chained_txns(30, seed=22))
    report = import_file(ledger, s.write_jd_wallet_csv(tmp_path / "j.csv", txns), account="JD001")
    assert Imports(ledger).verify().ok
    between = txns[11].time + (txns[12].time - txns[11].time) / 2
    ledger.expense("JD001", "12.34", trade_time=between.replace(tzinfo=SH))
    ledger.income("JD001", "99.00")  # dated today: after every row, no drift
    verified = Imports(ledger).verify()
    assert verified.check("bills").ok and verified.check("ledger").ok
    (problem,) = verified.check("drift").problems
    assert problem.startswith(
        f"jd_wallet account JD001: the ledger parts from the platform at line 14 of j.csv "
        f"(import {report.import_id}, {at(txns[12])}): "  # a JD row has no flow number
    )
    assert problem.endswith(
        f"ledger balance {txns[12].balance - D('12.34'):.2f}, platform balance "
        f"{txns[12].balance:.2f}, difference -12.34"
    )


def test_a_reversal_dated_into_the_period_is_drift(ledger, tmp_path):
    ledger.open_account(number="ALI001", name="支付宝", type="alipay", allow_overdraft=True)
    txns = list(s.chained_txns(10, seed=23))
    import_file(ledger, s.write_alipay_csv(tmp_path / "a.csv", txns), account="ALI001")
    fifth = ledger.entries(limit=100).items[-6]  # newest first: the opening is last
    assert fifth.external_id == txns[4].flow_no
    ledger.reverse_entry(fifth.id, trade_time=fifth.trade_time + timedelta(seconds=1))
    (problem,) = drift(ledger).problems
    assert f"line 11 of a.csv (import 1, flow {txns[5].flow_no}" in problem
    assert f"difference {-txns[4].amount:.2f}" in problem


def test_each_account_is_reported_once_at_its_first_parting(ledger, tmp_path):
    ledger.open_account(number="ALI001", name="支付宝", type="alipay", allow_overdraft=True)
    ledger.open_account(number="JD001", name="京东", type="jd_wallet", allow_overdraft=True)
    ali, jd = list(s.chained_txns(20, seed=24)), list(s.chained_txns(20, seed=25))
    a = s.write_alipay_csv(tmp_path / "a.csv", ali)
    import_file(ledger, a, account="ALI001", opening_balance=False)
    import_file(ledger, s.write_jd_wallet_csv(tmp_path / "j.csv", jd), account="JD001")
    first = drift(ledger).problems
    assert len(first) == 1 and first[0].startswith("alipay account ALI001:")
    assert "line 6 of a.csv" in first[0] and "difference -1000.00" in first[0]
    ledger.expense("JD001", "1.00", trade_time=datetime(2024, 3, 1, 0, 0, tzinfo=SH))
    second = drift(ledger).problems
    assert len(second) == 2 and second[1].startswith("jd_wallet account JD001:")
    assert "line 2 of j.csv" in second[1]


def test_running_sums_past_64_bits_do_not_break_the_check(ledger, tmp_path):
    """Back-dated entries can make a running sum in time order larger than any balance the
    account held (and than a 64-bit integer): the check still answers (SQLite's sum() would
    raise), and says where the ledger parts."""
    ledger.open_account(number="ALI001", name="支付宝", type="alipay", allow_overdraft=True)
    txns = list(s.chained_txns(3, seed=26))
    import_file(ledger, s.write_alipay_csv(tmp_path / "a.csv", txns), account="ALI001")
    big = "99999999999999.0000"
    day = datetime(2024, 6, 1, tzinfo=SH)
    for n in range(8):
        ledger.income("ALI001", big, trade_time=day + timedelta(days=2, seconds=n))
    for n in range(8):
        ledger.expense("ALI001", big, trade_time=day + timedelta(days=3, seconds=n))
    for n in range(8):
        ledger.income("ALI001", big, trade_time=day + timedelta(days=1, seconds=n))
    late = s.SampleTxn(4, datetime(2024, 6, 30), D(1), txns[-1].balance + 1, "LATE-1", "T4",
                       "", "在线支付", "")  # fmt: skip
    import_file(ledger, s.write_alipay_csv(tmp_path / "b.csv", [late]), account="ALI001")
    (problem,) = drift(ledger).problems
    assert "line 6 of b.csv" in problem
    assert f"ledger balance {8 * D(big) + late.balance:.2f}, platform balance" in problem


def test_an_entry_dated_before_the_opening_is_drift_from_the_first_row(ledger, tmp_path):
    ledger.open_account(number="ALI001", name="支付宝", type="alipay")
    txns = list(s.chained_txns(5))
    import_file(ledger, s.write_alipay_csv(tmp_path / "a.csv", txns), account="ALI001")
    ledger.income("ALI001", "1.00", trade_time=datetime(2023, 12, 31, tzinfo=SH))
    (problem,) = drift(ledger).problems
    assert "line 6 of a.csv" in problem and "difference 1.00" in problem
