"""JD 精准通 bills: every row an expense on its launch date; amounts to four places."""

from datetime import date, datetime

import pytest

from tests.imports.formats.support import ENCODINGS, SH
from zhangben.demo import bills as s
from zhangben.imports import BillFormatError, extract


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
