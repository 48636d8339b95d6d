"""The import runner, per format: amounts, directions, times, balances, categories;
idempotent re-imports and overlapping files. On SQLite and PostgreSQL."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from zhangben.core.errors import IdempotencyConflict
from zhangben.core.queries import EntryFilter
from zhangben.demo import bills as s
from zhangben.imports.runner import ImportRefused, import_file
from zhangben.store.bills_tables import bill_rows, import_batches

SH = ZoneInfo("Asia/Shanghai")
D = Decimal


def open_platform(ledger, number, kind, shop="S001"):
    return ledger.open_account(
        number=number, name=f"{kind}-旗舰店", type=kind, shop_code=shop, allow_overdraft=True
    )


def entries_of(ledger, number):
    page = ledger.entries(EntryFilter(account_numbers=[number]), limit=10_000)
    return sorted(page.items, key=lambda e: e.id)


def stored(ledger, table=bill_rows):
    with ledger.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def check_ledger(ledger, number, txns, *, chained=True):
    """The opening entry, then one entry per transaction, in time order, with the right
    direction and amounts; the account ends at the platform's balance."""
    got = entries_of(ledger, number)
    opening = txns[0].balance - txns[0].amount
    first = got.pop(0)  # the platform's balance before the first row (期初余额)
    assert (first.amount, first.category_id, first.subject_id) == (opening, 22, 23)
    day = txns[0].time.replace(tzinfo=SH).replace(hour=0, minute=0, second=0)
    assert first.trade_time == day - timedelta(seconds=1) and first.description == "期初余额"
    assert len(got) == len(txns)
    for e, t in zip(got, txns, strict=True):
        assert e.amount == t.amount
        assert e.type == ("income" if t.amount > 0 else "expense")
        assert e.trade_time == t.time.replace(tzinfo=SH)
        assert e.source == ledger.account(number).type or e.source == "wechat"
        if chained:
            assert e.platform_balance == t.balance
    if chained:
        assert ledger.balance(number) == txns[-1].balance
    assert ledger.verify().ok


@pytest.mark.parametrize(
    "writer",
    [
        lambda p, t: s.write_alipay_csv(p / "a.csv", t, encoding="gbk"),
        lambda p, t: s.write_alipay_csv(p / "a.csv", t, encoding="utf-8-sig", parens="ascii"),
        lambda p, t: s.write_alipay_xlsx(p / "a.xlsx", t),
        lambda p, t: s.write_alipay_zip(p / "a.zip", t),
    ],
    ids=["csv-gbk", "csv-utf8-bom", "xlsx", "zip"],
)
def test_alipay_imports(ledger, tmp_path, writer):
    open_platform(ledger, "ALI001", "alipay")
    txns = list(s.chained_txns(40, seed=3))
    report = import_file(ledger, writer(tmp_path, txns), account="ALI001")
    assert (report.rows_total, report.rows_new, report.rows_duplicate) == (40, 40, 0)
    assert report.ok and report.breaks == [] and report.summary_problems == []
    assert report.format == "alipay" and report.first_balance == txns[0].balance
    check_ledger(ledger, "ALI001", txns)
    e = entries_of(ledger, "ALI001")[1]
    assert e.external_id == txns[0].flow_no and e.counterparty == txns[0].counterparty
    assert txns[0].remark in e.remark and txns[0].order_no in e.remark
    assert stored(ledger) == 40 and stored(ledger, import_batches) == 1


def test_alipay_categories_follow_rules(ledger, tmp_path):
    open_platform(ledger, "ALI001", "alipay")
    txns = list(s.chained_txns(60, seed=5))
    import_file(ledger, s.write_alipay_csv(tmp_path / "a.csv", txns), account="ALI001")
    expected = {"在线支付": (19, 20), "服务费": (7, 8), "提现": (13, 14), "转账": (19, 21)}
    for e, t in zip(entries_of(ledger, "ALI001")[1:], txns, strict=True):
        assert (e.category_id, e.subject_id) == expected[t.business_type]


def test_reimport_and_overlap_add_nothing_twice(ledger, tmp_path):
    open_platform(ledger, "ALI001", "alipay")
    txns = list(s.chained_txns(30, seed=9))
    first = s.write_alipay_csv(tmp_path / "first.csv", txns[:20])
    import_file(ledger, first, account="ALI001")
    again = import_file(ledger, first, account="ALI001")
    assert (again.rows_new, again.rows_duplicate) == (0, 20) and again.entries_written == 0
    overlap = s.write_alipay_csv(tmp_path / "overlap.csv", txns[15:])
    report = import_file(ledger, overlap, account="ALI001")
    assert (report.rows_total, report.rows_new, report.rows_duplicate) == (15, 10, 5)
    assert report.breaks == []  # the overlapping file joins the stored rows
    check_ledger(ledger, "ALI001", txns)
    assert stored(ledger) == 30 and stored(ledger, import_batches) == 3


def test_newest_first_file_is_posted_oldest_first(ledger, tmp_path):
    open_platform(ledger, "ALI001", "alipay")
    txns = list(s.chained_txns(25, seed=4))
    path = s.write_alipay_csv(tmp_path / "desc.csv", list(reversed(txns)))
    report = import_file(ledger, path, account="ALI001", batch_size=7)
    assert report.newest_first and report.breaks == []
    assert report.first_trade_time < report.last_trade_time
    check_ledger(ledger, "ALI001", txns)


def test_one_platform_flow_goes_into_one_account(ledger, tmp_path):
    """I6: a platform flow is posted once. The same Alipay file imported into a second
    Alipay account would count its money twice: it is refused, naming the first row."""
    open_platform(ledger, "ALI001", "alipay")
    open_platform(ledger, "ALI002", "alipay", shop="S002")
    txns = list(s.chained_txns(10))
    path = s.write_alipay_csv(tmp_path / "a.csv", txns)
    assert import_file(ledger, path, account="ALI001").rows_new == 10
    with pytest.raises(IdempotencyConflict, match=r"^line \d+ \(flow .*posted already"):
        import_file(ledger, path, account="ALI002")
    assert stored(ledger) == 10 and ledger.balance("ALI002") == 0


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_wechat_fund_bill(ledger, tmp_path, encoding):
    open_platform(ledger, "WX001", "wechat")
    txns = list(s.chained_txns(30, seed=12))
    path = s.write_wechat_fund_csv(tmp_path / "f.csv", txns, encoding=encoding)
    report = import_file(ledger, path, account="WX001")
    assert report.format == "wechat_fund" and report.ok and report.rows_new == 30
    check_ledger(ledger, "WX001", txns)


def test_wechat_trade_bill_posts_net_of_fees(ledger, tmp_path):
    open_platform(ledger, "WX001", "wechat")
    txns = list(s.chained_txns(30, seed=13))
    report = import_file(
        ledger, s.write_wechat_trade_csv(tmp_path / "t.csv", txns), account="WX001"
    )
    assert report.format == "wechat_trade" and report.ok and report.rows_new == 30
    got = entries_of(ledger, "WX001")
    for e, t in zip(got, txns, strict=True):
        fee = s.wechat_fee(t.amount)
        assert e.amount == (t.amount - fee if t.amount > 0 else t.amount + fee)
        assert e.platform_balance is None
    assert ledger.balance("WX001") == sum(e.amount for e in got)
    assert ledger.verify().ok


def test_wechat_shop_funds(ledger, tmp_path):
    open_platform(ledger, "WS001", "wechat_shop")
    txns = list(s.chained_txns(25, seed=14))
    path = s.write_wechat_shop_csv(tmp_path / "w.csv", txns, encoding="gbk")
    report = import_file(ledger, path, account="WS001")
    assert report.ok and report.rows_new == 25
    check_ledger(ledger, "WS001", txns)
    kinds = {(e.category_id, e.subject_id) for e in entries_of(ledger, "WS001")[1:]}
    assert kinds == {(19, 20), (10, 11)}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_jd_wallet(ledger, tmp_path, kind):
    open_platform(ledger, "JD001", "jd_wallet")
    txns = list(s.chained_txns(30, seed=15))
    if kind == "csv":
        path = s.write_jd_wallet_csv(tmp_path / "j.csv", txns)
    else:
        path = s.write_jd_wallet_xlsx(tmp_path / "j.xlsx", txns)
    report = import_file(ledger, path, account="JD001")
    assert report.ok and report.rows_new == 30
    check_ledger(ledger, "JD001", txns)
    assert len(entries_of(ledger, "JD001")[1].external_id) == 64  # the row hash: no flow no
    assert import_file(ledger, path, account="JD001").rows_duplicate == 30


def test_jzt_rows_are_expenses(ledger, tmp_path):
    open_platform(ledger, "JZT001", "jzt")
    txns = list(s.chained_txns(12, seed=16))
    report = import_file(ledger, s.write_jzt_csv(tmp_path / "z.csv", txns), account="JZT001")
    assert report.ok and report.rows_new == 12 and report.breaks == []
    got = entries_of(ledger, "JZT001")
    assert [e.amount for e in got] == [-abs(t.amount) for t in txns]
    assert {(e.category_id, e.subject_id, e.type) for e in got} == {(4, 6, "expense")}


def test_file_of_another_platform_is_refused(ledger, tmp_path):
    open_platform(ledger, "JD001", "jd_wallet")
    path = s.write_alipay_csv(tmp_path / "a.csv", s.chained_txns(3))
    with pytest.raises(ImportRefused, match="alipay"):
        import_file(ledger, path, account="JD001")
    assert stored(ledger, import_batches) == 0


def test_overdraft_policy_is_respected(ledger, tmp_path):
    """Without overdraft, a row taking the ledger balance below zero refuses the file. With
    the opening balance the ledger is where the platform is, so a bill that never goes below
    zero on the platform needs no overdraft."""
    from zhangben.core.errors import InsufficientFunds

    ledger.open_account(number="ALI009", name="no overdraft", type="alipay")
    txns = list(s.chained_txns(3))
    rows = [s.alipay_row(t) for t in txns]
    rows[0].update(
        {"收入金额（+元）": "0.00", "支出金额（-元）": "-5.00", "账户余额（元）": "995.00"}
    )
    rows[1]["账户余额（元）"] = s.money(D("995.00") + txns[1].amount)
    rows[2]["账户余额（元）"] = s.money(D("995.00") + txns[1].amount + txns[2].amount)
    path = s.write_alipay_csv(tmp_path / "a.csv", rows)
    with pytest.raises(InsufficientFunds, match=r"^line 6 .*holds 0.00; .* to -5.00 and"):
        import_file(ledger, path, account="ALI009", opening_balance=False)
    assert stored(ledger) == 0 and entries_of(ledger, "ALI009") == []
    report = import_file(ledger, path, account="ALI009")
    assert report.ok and report.opening_amount == D("1000.00")
    assert ledger.balance("ALI009") == report.last_balance == D(rows[2]["账户余额（元）"])


def test_progress_is_reported(ledger, tmp_path):
    open_platform(ledger, "ALI001", "alipay")
    path = s.write_alipay_csv(tmp_path / "a.csv", s.chained_txns(2500))
    calls = []
    import_file(ledger, path, account="ALI001", progress=lambda *a: calls.append(a))
    assert ("read", 2500, 2500) in calls and calls[-1] == ("write", 2500, 2500)
    assert ledger.balance("ALI001") != D(0)
