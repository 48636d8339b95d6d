from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from zhangben.demo import bills as s
from zhangben.imports import BillFormatError, extract, unique_key

SH = ZoneInfo("Asia/Shanghai")
D = Decimal
ENCODINGS = ["utf-8", "utf-8-sig", "gbk"]


def trade_rows():
    t = list(s.chained_txns(4, seed=3))
    rows = [s.wechat_trade_row(x) for x in t]
    # pin two rows down exactly: a payment and a refund
    rows[0].update({"交易时间": "2024-03-01 09:15:00", "应结订单金额": "100.00", "手续费": "0.60"})
    rows[0].update({"微信订单号": "4200001234567890", "交易状态": "SUCCESS"})
    rows[1].update({"交易时间": "2024-03-01 09:20:00", "交易状态": "REFUND", "手续费": "-0.18"})
    rows[1].update({"微信订单号": "4200001234567890", "微信退款单号": "50300012345"})
    rows[1].update({"退款金额": "30.00", "应结订单金额": "0.00"})
    return rows


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_wechat_trade_bill(tmp_path, encoding):
    path = s.write_wechat_trade_csv(tmp_path / "t.csv", trade_rows(), encoding=encoding)
    ex = extract(path)
    assert ex.format.name == "wechat_trade" and ex.format.platform == "wechat"
    assert not ex.format.has_balance and ex.header_line == 1
    rows = list(ex.rows())
    assert [r.line for r in rows] == [2, 3, 4, 5]
    pay, ref = rows[0], rows[1]
    assert pay.flow_no == "4200001234567890"  # back-quote stripped
    assert pay.trade_time == datetime(2024, 3, 1, 9, 15, tzinfo=SH)
    assert (pay.income, pay.expense, pay.balance) == (D("99.40"), 0, None)
    assert pay.extra["gross"] == D("100.00") and pay.extra["fee"] == D("0.60")
    assert pay.business_type == "SUCCESS" and pay.extra["trade_type"] == "JSAPI"
    assert "refund_no" not in pay.extra
    assert ref.flow_no == "4200001234567890/50300012345"
    assert (ref.income, ref.expense) == (0, D("29.82"))
    assert ref.extra["refund"] == D("30.00") and ref.extra["fee"] == D("-0.18")
    assert ref.extra["refund_no"] == "50300012345"
    assert unique_key(pay, "wechat") != unique_key(ref, "wechat")
    summ = ex.summary
    assert summ.row_count == 4
    assert summ.net == sum(r.net for r in rows)
    assert summ.fee_total == sum(r.extra["fee"] for r in rows)


def test_wechat_trade_bill_without_backquotes(tmp_path):
    path = s.write_wechat_trade_csv(tmp_path / "t.csv", trade_rows(), backquote=False)
    assert list(extract(path).rows())[0].income == D("99.40")


def test_wechat_trade_unknown_status(tmp_path):
    rows = trade_rows()
    rows[2]["交易状态"] = "WHATEVER"
    ex = extract(s.write_wechat_trade_csv(tmp_path / "t.csv", rows))
    with pytest.raises(BillFormatError) as info:
        list(ex.rows())
    assert (info.value.line, info.value.column) == (4, "交易状态")


def test_wechat_trade_refund_needs_refund_number(tmp_path):
    rows = trade_rows()
    rows[1]["微信退款单号"] = "0"
    ex = extract(s.write_wechat_trade_csv(tmp_path / "t.csv", rows))
    with pytest.raises(BillFormatError, match="line 3, 微信退款单号"):
        list(ex.rows())


def test_wechat_trade_missing_order_number(tmp_path):
    rows = trade_rows()
    rows[3]["微信订单号"] = ""
    ex = extract(s.write_wechat_trade_csv(tmp_path / "t.csv", rows))
    with pytest.raises(BillFormatError, match="line 5, 微信订单号"):
        list(ex.rows())


def test_wechat_trade_older_header_names(tmp_path):
    lines = list(s.wechat_trade_lines(trade_rows()))
    lines[0] = ["子商户号" if h == "特约商户号" else h for h in lines[0]]
    ex = extract(s.write_lines(tmp_path / "t.csv", lines))
    assert ex.format.name == "wechat_trade"
    assert list(ex.rows())[0].raw["特约商户号"] == "0"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_wechat_fund_bill(tmp_path, encoding):
    txns = list(s.chained_txns(6, seed=5))
    path = s.write_wechat_fund_csv(tmp_path / "f.csv", txns, encoding=encoding)
    ex = extract(path)
    assert ex.format.name == "wechat_fund" and ex.format.has_balance
    rows = list(ex.rows())
    assert [r.line for r in rows] == list(range(2, 8))
    for r, t in zip(rows, txns, strict=True):
        assert r.flow_no == f"F{t.flow_no}"
        assert r.trade_time == t.time.replace(tzinfo=SH)
        assert r.net == t.amount and r.balance == t.balance
        assert r.order_no == f"42000{t.flow_no}"
        assert r.income >= 0 and r.expense >= 0
    summ = ex.summary
    assert summ.row_count == 6
    assert summ.income_count == sum(1 for t in txns if t.amount > 0)
    assert summ.income_total == sum(t.amount for t in txns if t.amount > 0)
    assert summ.expense_total == -sum(t.amount for t in txns if t.amount < 0)
    assert unique_key(rows[0], "wechat") == rows[0].flow_no


def test_wechat_fund_bad_direction_and_balance(tmp_path):
    rows = [s.wechat_fund_row(t) for t in s.chained_txns(3)]
    rows[1]["收支类型"] = "转账"
    ex = extract(s.write_wechat_fund_csv(tmp_path / "f.csv", rows))
    with pytest.raises(BillFormatError, match="line 3, 收支类型"):
        list(ex.rows())
    rows[1]["收支类型"] = "支出"
    rows[2]["账户结余(元)"] = "12,3O"
    ex = extract(s.write_wechat_fund_csv(tmp_path / "f.csv", rows))
    with pytest.raises(BillFormatError) as info:
        list(ex.rows())
    assert str(info.value) == 'line 4, 账户结余(元): "12,3O" is not an amount'
