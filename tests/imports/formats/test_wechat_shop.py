"""WeChat shop funds flow (微信小店 资金流水): rows, signed amounts, the header's other spelling."""

from decimal import Decimal

import pytest

from tests.imports.formats.support import ENCODINGS, check_chain
from zhangben.demo import bills as s
from zhangben.imports import extract, unique_key

D = Decimal


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
