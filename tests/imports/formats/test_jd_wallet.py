"""JD wallet flow (京东钱包 流水): CSV and XLSX, rows keyed by a hash of their cells, bad cells
and a missing header."""

import hashlib
from datetime import date
from decimal import Decimal

import pytest

from tests.imports.formats.support import ENCODINGS, check_chain
from zhangben.demo import bills as s
from zhangben.imports import BillFormatError, extract, unique_key

D = Decimal


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
