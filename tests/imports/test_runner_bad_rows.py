"""A bad row rejects the whole file (line, column, reason) and writes nothing — unless the
operator skips bad rows, which are then listed."""

import re

import pytest
import sqlalchemy as sa

from zhangben.core.errors import IdempotencyConflict, InsufficientFunds
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


# -- a row refused when posted is named by its line and platform flow number (issue 14, 16) -----

HASH = re.compile(r"[0-9a-f]{64}")


def test_an_overdraft_names_the_line_and_the_flow_number(ledger, tmp_path):
    ledger.open_account(number="ALI009", name="no overdraft", type="alipay")
    rows = [s.alipay_row(t) for t in s.chained_txns(3)]
    rows[1].update({INCOME: "0.00", EXPENSE: "-5000.00", BALANCE: "-1000.00"})
    flow = rows[1]["账务流水号"]
    before = counts(ledger)
    with pytest.raises(InsufficientFunds) as caught:
        import_file(
            ledger,
            s.write_alipay_csv(tmp_path / "a.csv", rows),
            account="ALI009",
            opening_balance=False,  # from zero, as the refusal's wording is what is tested
        )
    assert str(caught.value).startswith(
        f"line {FIRST_ROW_LINE + 1} (flow {flow}): account ALI009 holds "
    )
    assert counts(ledger) == before


def test_a_jd_wallet_row_is_named_by_its_order_number_never_its_hash_key(ledger, tmp_path):
    """A JD wallet row has no flow number; its key is a SHA-256 of its cells, never shown:
    the line and the merchant order number (商户订单号) name it instead."""
    ledger.open_account(number="JD001", name="京东", type="jd_wallet", allow_overdraft=True)
    ledger.open_account(number="JD009", name="京东 no overdraft", type="jd_wallet")
    ledger.open_account(number="JD010", name="京东 2", type="jd_wallet", allow_overdraft=True)
    txns = list(s.chained_txns(4))
    jd = [s.jd_wallet_row(t) for t in txns]
    jd[1].update({"收入金额(元)": "0.00", "支出金额(元)": "99999.00"})
    path = s.write_lines(tmp_path / "j.csv", s.table_lines(s.JD_WALLET_HEADERS, jd, None))
    first_line = 2  # the header on line 1
    with pytest.raises(InsufficientFunds) as caught:
        import_file(ledger, path, account="JD009")
    message = str(caught.value)
    assert message.startswith(
        f"line {first_line + 1} (order {txns[1].order_no}): account JD009 holds"
    )
    assert not HASH.search(message)
    assert import_file(ledger, path, account="JD001").rows_new == 4
    with pytest.raises(IdempotencyConflict) as caught:  # the same rows into another account
        import_file(ledger, path, account="JD010")
    message = str(caught.value)
    assert message.startswith(f"line {first_line} (order {txns[0].order_no}): the flow was posted")
    assert "(posting " in message and not HASH.search(message) and "jd_wallet:" not in message


def test_a_text_the_ledger_refuses_names_the_line_and_the_flow(alipay, tmp_path):
    rows = [s.alipay_row(t) for t in s.chained_txns(3)]
    rows[2]["备注"] = "备" * 2001
    path = s.write_alipay_csv(tmp_path / "a.csv", rows)
    with pytest.raises(BillFormatError) as caught:
        import_file(alipay, path, account="ALI001")
    flow = rows[2]["账务流水号"]
    assert str(caught.value) == (
        f"line {FIRST_ROW_LINE + 2} (flow {flow}): remark: must be 1-2000 characters"
    )
    report = import_file(alipay, path, account="ALI001", skip_bad_rows=True)
    assert [str(e) for e in report.bad_rows] == [str(caught.value)]
    rows[2]["备注"] = "短"
    rows[1]["对方账号"] = "x" * 129
    with pytest.raises(BillFormatError) as caught:
        import_file(alipay, s.write_alipay_csv(tmp_path / "b.csv", rows), account="ALI001")
    assert str(caught.value).startswith(
        f"line {FIRST_ROW_LINE + 1} (flow {rows[1]['账务流水号']}): "
    )
