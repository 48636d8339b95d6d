import zipfile
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from zhangben.demo import bills as s
from zhangben.imports import BillFormatError, extract, open_table, unique_key

SH = ZoneInfo("Asia/Shanghai")
D = Decimal


def rows3():
    """Three hand-made rows: an income, a signed expense, a positive expense."""
    base = {"交易渠道": "支付宝", "商品名称": "T恤", "备注": ""}
    return [
        {
            **base,
            "账务流水号": "54632446537371",
            "业务流水号": "2024030122001",
            "商户订单号": "SO-1",
            "发生时间": "2024-03-01 10:00:00",
            "对方账号": "buyer@example.com",
            "收入金额（+元）": "1,234.56",
            "支出金额（-元）": "0.00",
            "账户余额（元）": "11234.56",
            "业务类型": "在线支付",
            "备注": "首单",
        },
        {
            **base,
            "账务流水号": "54632446537372",
            "业务流水号": "2024030122002",
            "商户订单号": "SO-2",
            "发生时间": "2024/03/01 11:30:05",
            "对方账号": "",
            "收入金额（+元）": "",
            "支出金额（-元）": "-34.5",
            "账户余额（元）": "11200.06",
            "业务类型": "服务费",
        },
        {
            **base,
            "账务流水号": "54632446537373",
            "业务流水号": "2024030122003",
            "商户订单号": "",
            "发生时间": "2024-03-01 23:59",
            "对方账号": "bank",
            "收入金额（+元）": "0.00",
            "支出金额（-元）": "200.0000",
            "账户余额（元）": "11000.06",
            "业务类型": "提现",
        },
    ]


def check_rows(rows, first_line=6):
    assert [r.line for r in rows] == [first_line, first_line + 1, first_line + 2]
    a, b, c = rows
    assert a.flow_no == "54632446537371"  # the tab after the id is gone
    assert a.trade_time == datetime(2024, 3, 1, 10, 0, 0, tzinfo=SH)
    assert a.trade_time.utcoffset().total_seconds() == 8 * 3600
    assert (a.income, a.expense, a.balance) == (D("1234.56"), 0, D("11234.56"))
    assert a.counterparty == "buyer@example.com" and a.order_no == "SO-1"
    assert a.business_type == "在线支付" and a.remark == "首单"
    assert a.extra["business_flow_no"] == "2024030122001"
    assert a.raw["账务流水号"] == "54632446537371"
    assert (b.income, b.expense, b.balance) == (0, D("34.5"), D("11200.06"))
    assert b.trade_time == datetime(2024, 3, 1, 11, 30, 5, tzinfo=SH)
    assert b.counterparty is None and b.remark is None
    assert (c.income, c.expense) == (0, D("200"))
    assert c.trade_time == datetime(2024, 3, 1, 23, 59, tzinfo=SH)
    assert c.order_no is None
    for r in rows:
        assert isinstance(r.income, Decimal) and isinstance(r.expense, Decimal)
        assert r.income >= 0 and r.expense >= 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
@pytest.mark.parametrize("parens", ["full", "ascii"])
def test_alipay_csv_encodings_and_parentheses(tmp_path, encoding, parens):
    path = s.write_alipay_csv(tmp_path / "a.csv", rows3(), encoding=encoding, parens=parens)
    ex = extract(path)
    assert ex.format.name == "alipay" and ex.format.platform == "alipay"
    assert ex.format.has_balance
    assert ex.header_line == 5
    assert ex.preamble["账号"] == "20881234567890120156"
    assert ex.preamble["起始日期"] == "2024年03月01日 00:00:00"
    assert ex.preamble["终止日期"] == "2024年03月02日 00:00:00"
    check_rows(list(ex.rows()))
    summ = ex.summary
    assert (summ.income_count, summ.income_total) == (1, D("1234.56"))
    assert (summ.expense_count, summ.expense_total) == (2, D("234.50"))
    assert summ.net == D("1000.06")
    assert unique_key(next(ex.rows()), "alipay") == "54632446537371"


def test_alipay_positive_expense_and_summary_before_rows(tmp_path):
    path = s.write_alipay_csv(tmp_path / "a.csv", s.chained_txns(50), expense_sign="")
    ex = extract(path)
    summary = ex.summary  # read before rows(): costs a pass, same answer
    rows = list(ex.rows())
    assert summary.income_count == sum(1 for r in rows if r.income)
    assert summary.expense_count == sum(1 for r in rows if r.expense)
    assert summary.net == sum(r.net for r in rows)
    prev = D("1000.00")
    for r in rows:  # the sample balances chain
        assert r.balance == prev + r.income - r.expense
        prev = r.balance


def test_alipay_preamble_without_hash_and_ascii_colons(tmp_path):
    lines = list(s.alipay_lines(rows3()))
    lines[0:4] = ["支付宝账务明细查询", "账号:[2088000000000001]"]
    path = s.write_lines(tmp_path / "a.csv", lines, "gbk")
    ex = extract(path)
    assert ex.header_line == 3 and ex.preamble["账号"] == "2088000000000001"
    check_rows(list(ex.rows()), first_line=4)


def test_alipay_optional_trailing_headers_in_any_order(tmp_path):
    headers = (*s._alipay.HEADERS, "业务订单号", "业务描述")
    rows = [{**r, "业务订单号": f"BO{i}", "业务描述": "描述"} for i, r in enumerate(rows3())]
    path = s.write_alipay_csv(tmp_path / "a.csv", rows, headers=headers)
    got = list(extract(path).rows())
    assert got[1].extra["business_order_no"] == "BO1"
    assert got[1].extra["business_desc"] == "描述"
    assert "业务订单号" in got[0].raw


def test_alipay_xlsx_with_datetime_and_number_cells(tmp_path):
    path = s.write_alipay_xlsx(tmp_path / "a.xlsx", s.chained_txns(3))
    ex = extract(path)
    rows = list(ex.rows())
    expected = list(s.chained_txns(3))
    assert [r.line for r in rows] == [6, 7, 8]
    for r, t in zip(rows, expected, strict=True):
        assert r.flow_no == t.flow_no
        assert r.trade_time == t.time.replace(tzinfo=SH)
        assert r.net == t.amount and r.balance == t.balance
    assert ex.summary.net == sum(t.amount for t in expected)


def test_alipay_xlsx_text_cells(tmp_path):
    path = s.write_alipay_xlsx(tmp_path / "a.xlsx", rows3())  # dict rows stay text
    check_rows(list(extract(path).rows()))


def test_alipay_zip_imports_detail_and_exposes_summary(tmp_path):
    path = s.write_alipay_zip(tmp_path / "bill.zip", s.chained_txns(40))
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    assert any("汇总" in n for n in names) and len(names) == 2
    ex = extract(path)
    assert ex.format.name == "alipay"
    summ = ex.summary
    assert summ.source == "zip-summary"
    rows = list(ex.rows())
    assert len(rows) == 40
    assert summ.income_count + summ.expense_count == 40
    assert summ.income_total == sum(r.income for r in rows)
    assert summ.expense_total == sum(r.expense for r in rows)
    # bytes work as well as paths
    assert len(list(extract(path.read_bytes()).rows())) == 40


def test_open_table_streams_cleaned_cells_with_physical_lines(tmp_path):
    rows = rows3()
    rows[0]["备注"] = "two\nlines"  # a quoted newline: the next record starts 2 lines later
    path = s.write_alipay_csv(tmp_path / "a.csv", rows)
    got = list(open_table(path))
    assert got[0] == (1, ["#支付宝账务明细查询"])
    assert got[5][0] == 6 and got[5][1][0] == "54632446537371"
    assert got[6][0] == 8
    assert [r.line for r in extract(path).rows()] == [6, 8, 9]


# --- errors ----------------------------------------------------------------------------------


def bad(tmp_path, column, value, **kw):
    rows = rows3()
    rows[1][column] = value
    path = s.write_alipay_csv(tmp_path / "a.csv", rows, **kw)
    with pytest.raises(BillFormatError) as info:
        list(extract(path).rows())
    return info.value


def test_bad_amount_names_line_and_column(tmp_path):
    err = bad(tmp_path, "收入金额（+元）", "12,3O")
    assert (err.line, err.column) == (7, "收入金额（+元）")
    assert str(err) == 'line 7, 收入金额（+元）: "12,3O" is not an amount'


def test_bad_amount_column_is_shown_as_the_file_spells_it(tmp_path):
    err = bad(tmp_path, "收入金额（+元）", "12,3O", parens="ascii")
    assert str(err) == 'line 7, 收入金额(+元): "12,3O" is not an amount'


def test_five_decimals_is_an_error(tmp_path):
    err = bad(tmp_path, "账户余额（元）", "11200.06001")
    assert (err.line, err.column) == (7, "账户余额（元）")
    assert "decimal places" in err.message


def test_unparsable_time(tmp_path):
    err = bad(tmp_path, "发生时间", "2024-13-01 10:00:00")
    assert (err.line, err.column) == (7, "发生时间")
    assert str(err) == 'line 7, 发生时间: "2024-13-01 10:00:00" is not a time'


def test_missing_flow_number(tmp_path):
    err = bad(tmp_path, "账务流水号", "")
    assert (err.line, err.column) == (7, "账务流水号")


def test_negative_income(tmp_path):
    err = bad(tmp_path, "收入金额（+元）", "-5.00")
    assert err.column == "收入金额（+元）"


def test_good_rows_before_a_bad_one_are_yielded(tmp_path):
    rows = rows3()
    rows[2]["支出金额（-元）"] = "abc"
    ex = extract(s.write_alipay_csv(tmp_path / "a.csv", rows))
    it = ex.rows()
    assert next(it).line == 6 and next(it).line == 7
    with pytest.raises(BillFormatError, match="line 8"):
        next(it)


def test_missing_required_header_is_named(tmp_path):
    headers = tuple(h for h in s._alipay.HEADERS if h != "账户余额（元）")
    path = s.write_alipay_csv(tmp_path / "a.csv", rows3(), headers=headers)
    with pytest.raises(BillFormatError) as info:
        extract(path)
    assert (info.value.line, info.value.column) == (5, "账户余额（元）")
    assert "missing" in str(info.value)


def test_missing_required_header_with_explicit_format(tmp_path):
    headers = tuple(h for h in s._alipay.HEADERS if h not in ("发生时间", "备注"))
    path = s.write_alipay_csv(tmp_path / "a.csv", rows3(), headers=headers)
    with pytest.raises(BillFormatError, match="发生时间.*also missing: 备注"):
        extract(path, "alipay")


def test_unknown_header_is_an_error(tmp_path):
    headers = (*s._alipay.HEADERS, "神秘列")
    path = s.write_alipay_csv(tmp_path / "a.csv", rows3(), headers=headers)
    with pytest.raises(BillFormatError) as info:
        extract(path)
    assert (info.value.line, info.value.column) == (5, "神秘列")


def test_cell_beyond_the_header_is_an_error(tmp_path):
    lines = list(s.alipay_lines(rows3()))
    lines[6] = [*lines[6], "surplus"]
    path = s.write_lines(tmp_path / "a.csv", lines, "gbk")
    with pytest.raises(BillFormatError, match="line 7, column 14"):
        list(extract(path).rows())


def test_data_after_the_end_marker_is_an_error(tmp_path):
    lines = list(s.alipay_lines(rows3()))
    lines.append(lines[5])
    path = s.write_lines(tmp_path / "a.csv", lines, "gbk")
    with pytest.raises(BillFormatError, match="after the table's end"):
        list(extract(path).rows())
