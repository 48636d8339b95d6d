"""Sample orders for reconciliation (核销): a WeChat Pay trade bill of March 2024 for shop S001
and the order file that fits it, with one of each case a newcomer should see
(docs/reconciliation.md):

========================  =====================================================  ===========
case                      orders and bill                                        lands in
========================  =====================================================  ===========
exact                     sale + the 0.6 % fee as expected, paid (20 orders)     matched
commission in tolerance   sale only; paid less the fee (≤ 5 %, ≤ ¥50)            matched
partial refund            sale, fee, a partial refund and its fee back, all paid  matched
refund never left         sale, fee, a refund the bill never shows               已退款未退出
paid twice                one order, two payments                                疑似重复
money with no order       a payment whose order is not in the file               到账无订单
never paid                an order with no payment                               已发货未收款
amount difference         paid far less than expected                           金额差异
========================  =====================================================  ===========
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from zhangben.demo.bills import SampleTxn, money, wechat_fee, write_wechat_trade_csv

SHOP = "S001"
START = datetime(2024, 3, 2, 10, 0, 0)
HEADER = ("店铺", "平台", "订单号", "类型", "金额", "发生时间", "来源单号", "备注")


@dataclass(frozen=True)
class Planted:
    """What the samples plant: order numbers by case."""

    exact: tuple[str, ...]
    commission: tuple[str, ...]
    partial_refund: str
    refund_not_out: str
    paid_twice: str
    no_order: str
    never_paid: str
    difference: str


PLANTED = Planted(
    exact=tuple(f"W2403{n:03d}" for n in range(1, 21)),
    commission=("W2403101", "W2403102", "W2403103"),
    partial_refund="W2403201",
    refund_not_out="W2403202",
    paid_twice="W2403301",
    no_order="W2403401",
    never_paid="W2403501",
    difference="W2403601",
)


def _amount(n: int) -> Decimal:
    return Decimal(100 + 37 * n) + Decimal(n % 7) / 10


def build() -> tuple[list[SampleTxn], list[tuple[str, ...]]]:
    """The bill's transactions and the order file's lines."""
    txns: list[SampleTxn] = []
    lines: list[tuple[str, ...]] = []
    seq = 0

    def order(no: str, kind: str, amount: Decimal, at: datetime, memo: str = "") -> None:
        lines.append((SHOP, "wechat", no, kind, money(amount), f"{at:%Y-%m-%d %H:%M:%S}",
                      f"{no}-{kind}-{len(lines) + 1}", memo))  # fmt: skip

    def pay(no: str, amount: Decimal, at: datetime) -> None:
        nonlocal seq
        seq += 1
        txns.append(
            SampleTxn(seq=seq, time=at, amount=amount, balance=Decimal(0),
                      flow_no=f"2024030{seq:05d}", order_no=no, counterparty="",
                      business_type="", remark="")
        )  # fmt: skip

    at = START
    for n, no in enumerate(PLANTED.exact, start=1):
        x = _amount(n)
        order(no, "sale", x, at)
        order(no, "service_fee", wechat_fee(x), at, "微信支付手续费 0.6%")
        pay(no, x, at + timedelta(hours=20))
        at += timedelta(hours=13)
    for n, no in enumerate(PLANTED.commission, start=30):
        x = _amount(n)
        order(no, "sale", x, at, "手续费未在订单中")
        pay(no, x, at + timedelta(hours=20))
        at += timedelta(hours=13)
    no, x, r = PLANTED.partial_refund, Decimal("300.00"), Decimal("100.00")
    order(no, "sale", x, at)
    order(no, "service_fee", wechat_fee(x), at)
    order(no, "refund", r, at + timedelta(days=2), "部分退款")
    order(no, "adjustment", wechat_fee(r), at + timedelta(days=2), "退款退回手续费")
    pay(no, x, at + timedelta(hours=20))
    pay(no, -r, at + timedelta(days=2, hours=3))
    at += timedelta(days=1)
    no, x = PLANTED.refund_not_out, Decimal("200.00")
    order(no, "sale", x, at)
    order(no, "service_fee", wechat_fee(x), at)
    order(no, "refund", Decimal("50.00"), at + timedelta(days=3), "退款未退出")
    pay(no, x, at + timedelta(hours=20))
    at += timedelta(days=1)
    no, x = PLANTED.paid_twice, Decimal("88.00")
    order(no, "sale", x, at)
    order(no, "service_fee", wechat_fee(x), at)
    pay(no, x, at + timedelta(hours=2))
    pay(no, x, at + timedelta(hours=2, minutes=3))
    at += timedelta(days=1)
    pay(PLANTED.no_order, Decimal("66.60"), at)
    no, x = PLANTED.never_paid, Decimal("520.00")
    order(no, "sale", x, at)
    order(no, "service_fee", wechat_fee(x), at)
    at += timedelta(days=1)
    no = PLANTED.difference
    order(no, "sale", Decimal("1000.00"), at)
    order(no, "service_fee", wechat_fee(Decimal("1000.00")), at)
    pay(no, Decimal("700.00"), at + timedelta(hours=20))
    txns.sort(key=lambda t: (t.time, t.seq))
    return txns, lines


def write_orders_csv(path: Path | str, lines) -> Path:
    out = Path(path)
    with out.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(lines)
    return out


def write_order_samples(directory: str | Path) -> dict[str, Path]:
    """Write ``wechat_2024-03.csv`` (the bill) and ``orders_2024-03.csv``; name → path."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    txns, lines = build()
    return {
        "wechat": write_wechat_trade_csv(out / "wechat_2024-03.csv", txns),
        "orders": write_orders_csv(out / "orders_2024-03.csv", lines),
    }
