"""A bad row rejects the whole file (line, column, reason) and writes nothing — unless the
operator skips bad rows, which are then listed."""

import pytest
import sqlalchemy as sa

from zhangben.demo import bills as s
from zhangben.imports import BillFormatError
from zhangben.imports.runner import import_file
from zhangben.store.bills_tables import bill_rows, import_batches
from zhangben.store.tables import entries, postings

INCOME, EXPENSE, BALANCE = "收入金额（+元）", "支出金额（-元）", "账户余额（元）"
FIRST_ROW_LINE = 6  # 4 preamble lines, the header on line 5


def counts(ledger):
    with ledger.engine.connect() as conn:
        return [
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (entries, postings, bill_rows, import_batches)
        ]


@pytest.fixture
def alipay(ledger):
    ledger.open_account(number="ALI001", name="支付宝", type="alipay", allow_overdraft=True)
    # something stored already, so "nothing written" is checked against a non-empty ledger
    ledger.income("ALI001", "1.00", trade_no="OPENING")
    return ledger


ALIPAY_BAD = [
    ({INCOME: "12,3O"}, INCOME, '"12,3O" is not an amount'),
    ({INCOME: "12.34567"}, INCOME, "more than 4 decimal places"),
    ({INCOME: "-5.00"}, INCOME, "must not be negative"),
    ({BALANCE: ""}, BALANCE, "required value is empty"),
    ({"账务流水号": ""}, "账务流水号", "required value is empty"),
    ({"发生时间": "2024-13-01 10:00:00"}, "发生时间", "is not a time"),
    ({"发生时间": "2024-03-01"}, "发生时间", "date without a time"),
]


@pytest.mark.parametrize("change,column,reason", ALIPAY_BAD)
def test_bad_alipay_row_rejects_the_file(alipay, tmp_path, change, column, reason):
    rows = [s.alipay_row(t) for t in s.chained_txns(50)]
    rows[36].update(change)
    path = s.write_alipay_csv(tmp_path / "bad.csv", rows)
    before = counts(alipay)
    with pytest.raises(BillFormatError) as caught:
        import_file(alipay, path, account="ALI001")
    assert caught.value.line == FIRST_ROW_LINE + 36
    assert caught.value.column == column and reason in caught.value.message
    assert str(caught.value).startswith(f"line {FIRST_ROW_LINE + 36}, {column}: ")
    assert counts(alipay) == before


def test_the_issue_example_message(alipay, tmp_path):
    rows = [s.alipay_row(t) for t in s.chained_txns(40)]
    rows[31][INCOME] = "12,3O"
    with pytest.raises(BillFormatError) as caught:
        import_file(alipay, s.write_alipay_csv(tmp_path / "bad.csv", rows), account="ALI001")
    assert str(caught.value) == 'line 37, 收入金额（+元）: "12,3O" is not an amount'


def test_cell_beyond_the_last_header(alipay, tmp_path):
    lines = list(s.alipay_lines(s.chained_txns(5)))
    lines[FIRST_ROW_LINE + 1] = [*lines[FIRST_ROW_LINE + 1], "stray"]
    path = s.write_lines(tmp_path / "bad.csv", lines, "gbk")
    before = counts(alipay)
    with pytest.raises(BillFormatError, match="beyond the last header") as caught:
        import_file(alipay, path, account="ALI001")
    assert caught.value.line == FIRST_ROW_LINE + 2
    assert counts(alipay) == before


def test_missing_header_rejects_the_file(alipay, tmp_path):
    headers = tuple(h for h in s._alipay.HEADERS if h != BALANCE)
    path = s.write_alipay_csv(tmp_path / "bad.csv", s.chained_txns(3), headers=headers)
    before = counts(alipay)
    with pytest.raises(BillFormatError, match="账户余额"):
        import_file(alipay, path, account="ALI001")
    assert counts(alipay) == before


def test_bad_jd_wallet_and_wechat_shop_rows(ledger, tmp_path):
    ledger.open_account(number="JD001", name="京东", type="jd_wallet", allow_overdraft=True)
    ledger.open_account(number="WS001", name="小店", type="wechat_shop", allow_overdraft=True)
    jd = [s.jd_wallet_row(t) for t in s.chained_txns(10)]
    jd[4]["支出金额(元)"] = "abc"
    shop = [s.wechat_shop_row(t) for t in s.chained_txns(10)]
    shop[2]["收支类型"] = "冻结"
    jd_path = s.write_lines(tmp_path / "j.csv", s.table_lines(s.JD_WALLET_HEADERS, jd, None))
    shop_path = s.write_lines(tmp_path / "w.csv", s.table_lines(s.WECHAT_SHOP_HEADERS, shop, None))
    before = counts(ledger)
    with pytest.raises(BillFormatError) as caught:
        import_file(ledger, jd_path, account="JD001")
    assert (caught.value.line, caught.value.column) == (6, "支出金额(元)")
    with pytest.raises(BillFormatError) as caught:
        import_file(ledger, shop_path, account="WS001")
    assert (caught.value.line, caught.value.column) == (4, "收支类型")
    assert counts(ledger) == before


def test_skip_bad_rows_lists_them_and_imports_the_rest(alipay, tmp_path):
    rows = [s.alipay_row(t) for t in s.chained_txns(30)]
    rows[3][INCOME] = "12,3O"
    rows[10]["发生时间"] = "yesterday"
    rows[20]["账务流水号"] = ""
    path = s.write_alipay_csv(tmp_path / "bad.csv", rows)
    report = import_file(alipay, path, account="ALI001", skip_bad_rows=True)
    assert (report.rows_total, report.rows_new, report.rows_rejected) == (27, 27, 3)
    assert [e.line for e in report.bad_rows] == [9, 16, 26]
    assert [e.column for e in report.bad_rows] == [INCOME, "发生时间", "账务流水号"]
    assert not report.ok
    # the skipped rows leave holes in the balance chain, and the footer totals disagree
    assert {b.row.line for b in report.breaks} == {10, 17, 27}
    assert report.summary_problems
    assert counts(alipay)[2] == 27
