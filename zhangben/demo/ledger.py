"""A small demo ledger: the seeds' accounts and the 壹川 example's four transfers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from zhangben.core.ledger import Ledger
from zhangben.demo.passwords import set_demo_passwords

SEED_TRANSFERS = [  # (Unix time, amount): the 壹川 seed's transfers from account 1 to 2
    (1525746101, "1"),
    (1525746987, "5"),
    (1525747216, "3"),
    (1525747299, "3"),
]


def load_demo(ledger: Ledger) -> bool:
    """Fill an empty ledger; returns False (and writes nothing) when it has accounts already."""
    if ledger.accounts():
        return False
    operator = ledger.add_user(username="finance", display_name="财务", role="admin", id=100)
    ledger.add_user(username="merchant", display_name="商户一号", role="user")
    for username, name in (("viewer", "查账员"), ("clerk", "出纳员"), ("supervisor", "财务主管")):
        ledger.add_user(username=username, display_name=name, role=username)
    merchant = ledger.user("merchant")
    op = {"operator_id": operator.id}
    ledger.open_account(number="0000000000000001", name="帐户系统", type="main", id=1)
    ledger.open_account(
        number="0000000000000002",
        name="账户内建商户",
        type="merchant",
        id=2,
        owner_user_id=merchant.id,
        shop_code="S001",
    )
    ledger.open_account(number="ACC001", name="测试账户", type="main", shop_code="S001")
    ledger.open_account(number="ACC002", name="备用账户", type="backup", shop_code="S002")
    ledger.open_account(
        number="ALIPAY-S001", name="支付宝(店铺一)", type="alipay", shop_code="S001"
    )
    ledger.open_account(
        number="JD-S002", name="京东钱包(店铺二)", type="jd_wallet", shop_code="S002"
    )

    start = datetime.fromtimestamp(SEED_TRANSFERS[0][0], UTC) - timedelta(hours=1)
    ledger.income("0000000000000001", "1000", trade_time=start, description="期初余额", **op)
    for ts, amount in SEED_TRANSFERS:
        ledger.transfer(
            "0000000000000001",
            "0000000000000002",
            amount,
            trade_time=datetime.fromtimestamp(ts, UTC),
            **op,
        )
    day = datetime(2024, 1, 1, 2, tzinfo=UTC)
    ledger.income("ACC001", "10000.00", trade_time=day, remark="期初余额", **op)
    ledger.income(
        "ACC001",
        "1000.00",
        trade_time=day + timedelta(hours=8),
        subject_id=2,
        remark="销售收款",
        **op,
    )
    ledger.expense(
        "ACC001",
        "500.00",
        trade_time=day + timedelta(hours=9),
        subject_id=5,
        remark="采购付款",
        **op,
    )
    ledger.income("ACC002", "5000.00", trade_time=day, remark="期初余额", **op)
    ledger.transfer("ACC001", "ACC002", "200.50", trade_time=day + timedelta(days=1), **op)
    ledger.income(
        "ALIPAY-S001",
        "3280.60",
        trade_time=day + timedelta(days=2),
        source="alipay",
        subject_id=20,
        remark="交易收款",
        **op,
    )
    ledger.expense(
        "ALIPAY-S001",
        "19.68",
        trade_time=day + timedelta(days=2, hours=1),
        category_id=7,
        subject_id=8,
        remark="服务费",
        source="alipay",
        **op,
    )
    ledger.income(
        "JD-S002",
        "1288.00",
        trade_time=day + timedelta(days=3),
        source="jd_wallet",
        subject_id=20,
        remark="货款",
        **op,
    )
    set_demo_passwords(ledger)
    return True
