import hashlib
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from zhangben.demo import bills as s
from zhangben.imports import BillFormatError, extract, unique_key

SH = ZoneInfo("Asia/Shanghai")
D = Decimal
ENCODINGS = ["utf-8", "utf-8-sig", "gbk"]


def check_chain(rows, txns):
    for r, t in zip(rows, txns, strict=True):
        assert r.trade_time == t.time.replace(tzinfo=SH)
        assert r.net == t.amount and r.balance == t.balance
        assert r.income >= 0 and r.expense >= 0


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_wechat_shop_funds(tmp_path, encoding):
    txns = list(s.chained_txns(5, seed=11))
    ex = extract(s.write_wechat_shop_csv(tmp_path / "w.csv", txns, encoding=encoding))
    assert ex.format.name == "wechat_shop" and ex.format.platform == "wechat_shop"
    rows = list(ex.rows())
    assert [r.line for r in rows] == [2, 3, 4, 5, 6]
    check_chain(rows, txns)
    assert rows[0].flow_no == f"S{txns[0].flow_no}" == unique_key(rows[0], "wechat_shop")
    assert rows[0].business_type in ("订单收入", "售后退款")
    assert ex.summary is None


def test_wechat_shop_signed_amount_and_alias_header(tmp_path):
    rows = [s.wechat_shop_row(t) for t in s.chained_txns(2)]
    rows[0].update({"收支类型": "支出", "收支金额": "-12.30", "账户余额": "987.70"})
    lines = list(s.table_lines(s.WECHAT_SHOP_HEADERS, rows, None))
    lines[0] = ["动账类型" if h == "动帐类型" else h for h in lines[0]]
    got = list(extract(s.write_lines(tmp_path / "w.csv", lines)).rows())
    assert (got[0].income, got[0].expense, got[0].balance) == (0, D("12.30"), D("987.70"))
    assert got[0].raw["动帐类型"] == "订单收入"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_jd_wallet_csv(tmp_path, encoding):
    txns = list(s.chained_txns(6, seed=2))
    ex = extract(s.write_jd_wallet_csv(tmp_path / "j.csv", txns, encoding=encoding))
    assert ex.format.name == "jd_wallet" and ex.format.has_balance
    rows = list(ex.rows())
    check_chain(rows, txns)
    r = rows[0]
    assert r.flow_no is None and r.order_no == txns[0].order_no
    assert r.extra["account"] == "ACC10001"
    assert r.extra["bill_date"] == date(2024, 3, 1)
    key = unique_key(r, "jd_wallet")
    assert len(key) == 64 and key == unique_key(r, "jd_wallet")
    parts = ["jd_wallet", "ACC10001", r.trade_time.isoformat(), r.order_no]
    parts += [format(x.normalize(), "f") for x in (r.income, r.expense, r.balance)]
    assert key == hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    assert len({unique_key(x, "jd_wallet") for x in rows}) == len(rows)


def test_jd_wallet_key_ignores_amount_spelling(tmp_path):
    """The same row written as 12.5 / 12.50 / 12.500 gets the same key."""
    row = s.jd_wallet_row(next(s.chained_txns(1)))
    keys = set()
    for spelled in ("4969.55", "4969.550", "4,969.55"):
        row["收入金额(元)"] = spelled
        got = next(extract(s.write_jd_wallet_csv(tmp_path / "j.csv", [row])).rows())
        keys.add(unique_key(got, "jd_wallet"))
    assert len(keys) == 1


def test_jd_wallet_xlsx(tmp_path):
    txns = list(s.chained_txns(4, seed=9))
    ex = extract(s.write_jd_wallet_xlsx(tmp_path / "j.xlsx", txns))
    rows = list(ex.rows())
    assert [r.line for r in rows] == [2, 3, 4, 5]
    check_chain(rows, txns)
    csv_rows = list(extract(s.write_jd_wallet_csv(tmp_path / "j.csv", txns)).rows())
    assert [unique_key(r, "jd_wallet") for r in rows] == [
        unique_key(r, "jd_wallet") for r in csv_rows
    ]


def test_jd_wallet_errors(tmp_path):
    rows = [s.jd_wallet_row(t) for t in s.chained_txns(3)]
    rows[2]["日期"] = "yesterday"
    ex = extract(s.write_jd_wallet_csv(tmp_path / "j.csv", rows))
    with pytest.raises(BillFormatError) as info:
        list(ex.rows())
    assert str(info.value) == 'line 4, 日期: "yesterday" is not a time'
    rows[2] = s.jd_wallet_row(next(s.chained_txns(1)))
    rows[1]["账户代码"] = ""
    ex = extract(s.write_jd_wallet_csv(tmp_path / "j.csv", rows))
    with pytest.raises(BillFormatError, match="line 3, 账户代码: required value is empty"):
        list(ex.rows())


def test_jd_wallet_missing_header(tmp_path):
    headers = [h for h in s.JD_WALLET_HEADERS if h != "收入金额(元)"]
    txns = s.chained_txns(2)
    path = s.write_lines(tmp_path / "j.csv", s.table_lines(headers, txns, s.jd_wallet_row))
    with pytest.raises(BillFormatError) as info:
        extract(path)
    assert (info.value.line, info.value.column) == (1, "收入金额(元)")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_jzt(tmp_path, encoding):
    txns = list(s.chained_txns(5, seed=4))
    ex = extract(s.write_jzt_csv(tmp_path / "z.csv", txns, encoding=encoding))
    assert ex.format.name == "jzt" and not ex.format.has_balance
    rows = list(ex.rows())
    for r, t in zip(rows, txns, strict=True):
        assert r.flow_no == f"J{t.flow_no}"
        assert (r.income, r.expense, r.balance) == (0, abs(t.amount), None)
        assert r.trade_time == datetime(2024, 3, 1, tzinfo=SH)
        assert r.extra["plan_id"] == str(880000 + t.seq % 7)
        assert r.extra["launch_date"] == date(2024, 3, 1)
        assert r.business_type == "广告扣费"


def test_jzt_five_decimals(tmp_path):
    rows = [s.jzt_row(t) for t in s.chained_txns(2)]
    rows[1]["支出"] = "1.23456"
    ex = extract(s.write_jzt_csv(tmp_path / "z.csv", rows))
    with pytest.raises(BillFormatError) as info:
        list(ex.rows())
    assert (info.value.line, info.value.column) == (3, "支出")


def test_xlsx_line_numbers_count_empty_sheet_rows(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.cell(row=3, column=1, value="#京东精准通账单")
    for j, h in enumerate(s.JZT_HEADERS, 1):
        ws.cell(row=5, column=j, value=h)
    for j, v in enumerate(["J1", "acc", datetime(2024, 3, 2), "扣费", 881, 12.5], 1):
        ws.cell(row=8, column=j, value=v)
    wb.save(tmp_path / "z.xlsx")
    ex = extract(tmp_path / "z.xlsx")
    assert ex.header_line == 5
    (row,) = ex.rows()
    assert (row.line, row.expense, row.extra["plan_id"]) == (8, D("12.5"), "881")
    assert row.trade_time == datetime(2024, 3, 2, tzinfo=SH)
