"""Keying a run's bill rows: the plain order-column case goes through one ``INSERT … SELECT``
(:func:`zhangben.recon.store.key_column_rows`) and must write exactly what
:func:`~zhangben.recon.keys.extract_key` gives, on both databases, for order numbers that are
plain and for every kind that needs Python (spaces, quotes, lower case, full width, a T…P
prefix, too long, an internal transfer, Alipay)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from zhangben.recon import store as st
from zhangben.recon.keys import extract_key
from zhangben.store.bills_tables import bill_rows, import_batches
from zhangben.store.recon_tables import bill_recon

ORDER_NOS = [
    "B000000001", "4200001234202403011234567890", "ORD-2024_03/1.A", " B1", "B1 ", "b1",
    "Ｂ１２３", "'B1", "B1'", '"B1"', "=B1", "B1=", "T200P12345", "TX1", "t200p9", "", None,
    "A" * 64, "A" * 65, "B1\t", "订单1", "B\u00a01", "%_B1",
]  # fmt: skip
ROWS = [
    *(("wechat", "SUCCESS", o) for o in ORDER_NOS),
    *(("wechat_shop", "交易", o) for o in ORDER_NOS[:4]),
    ("jd_wallet", None, "JD1"), ("wechat", "提现", "B2"), ("wechat", " 充值 ", "B3"),
    ("wechat", "自动提现\t", "B4"), ("wechat", "提现退回", "B5"), ("alipay", "交易付款", "B6"),
    ("jzt", "广告", "B7"), ("unknown", "x", "B8"),
]  # fmt: skip


def _load(ledger) -> list[int]:
    account = ledger.open_account(number="WX", name="wx", type="wechat", shop_code="S001")
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with ledger.engine.begin() as conn:
        batch = conn.execute(
            import_batches.insert().values(account_id=account.id, filename="k", platform="wechat",
                                           file_sha256="0" * 64, format="wechat_trade",
                                           created_at=now)
            .returning(import_batches.c.id)
        ).scalar_one()  # fmt: skip
        conn.execute(
            bill_rows.insert(),
            [{"platform": p, "account_id": account.id, "import_id": batch, "unique_key": f"u{i}",
              "line": i, "flow_no": f"f{i}", "trade_time": now, "income": 100, "expense": 0,
              "order_no": o, "business_type": t, "raw": {}, "imported_at": now,
              "updated_at": now}
             for i, (p, t, o) in enumerate(ROWS)],
        )  # fmt: skip
        return list(conn.execute(sa.select(bill_rows.c.id).order_by(bill_rows.c.id)).scalars())


def _expected(row_id: int, platform: str, btype, order_no) -> tuple:
    facts = {"business_type": btype, "merchant_order_no": order_no, "flow_no": None,
             "counterparty": None, "remark": None, "amount": 100}  # fmt: skip
    k = extract_key(platform, facts)
    return (row_id, "S001", k.key, k.source or "none", k.scope)


def test_the_sql_pass_keys_exactly_as_python_would(ledger):
    ids = _load(ledger)
    now = datetime(2026, 3, 2, tzinfo=UTC)
    with ledger.engine.begin() as conn:
        in_sql = st.key_column_rows(conn, upto=ids[-1], now=now)
        sql_done = set(conn.execute(sa.select(bill_recon.c.bill_row_id)).scalars())
        assert st.key_rows(conn, upto=ids[-1], now=now) == len(ROWS) - in_sql
        r = bill_recon.c
        got = conn.execute(
            sa.select(r.bill_row_id, r.shop_code, r.match_key, r.key_source, r.scope, r.updated_at)
            .order_by(r.bill_row_id)
        ).all()  # fmt: skip
    assert [tuple(g[:5]) for g in got] == [
        _expected(i, *row) for i, row in zip(ids, ROWS, strict=True)
    ]
    assert {g[5] for g in got} == {now}
    plain = {i for i, (p, t, o) in zip(ids, ROWS, strict=True)
             if p != "alipay" and o in ("B000000001", "4200001234202403011234567890",
                                        "ORD-2024_03/1.A", "A" * 64, "%_B1", "JD1")
             and t != "提现"}  # fmt: skip
    assert sql_done == plain  # the rest went through Python
    assert in_sql == len(plain)


@pytest.mark.parametrize("upto", [0, 3])
def test_the_sql_pass_stops_at_the_cut(ledger, upto):
    ids = _load(ledger)
    with ledger.engine.begin() as conn:
        st.key_column_rows(conn, upto=ids[0] + upto - 1, now=datetime.now(UTC))
        done = set(conn.execute(sa.select(bill_recon.c.bill_row_id)).scalars())
    assert done <= set(ids[:upto]) and (upto == 0) == (not done)
