"""Helpers of the voucher tests: a shop with March 2024's sample bills imported, and the sums of
a batch's vouchers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from zhangben.demo import bills as s
from zhangben.imports.runner import import_file

ROWS = 120
MONTH = "2024-03"


def import_month(ledger, tmp_path: Path, *, shop: str = "S3") -> None:
    """ALI (alipay) and JD (jd_wallet) of ``shop``, March 2024's sample bills imported."""
    ali = s.month_of_txns(ROWS, seed=11, start_balance=Decimal("25000.00"))
    jd = s.month_of_txns(ROWS, seed=23, start_balance=Decimal("8000.00"))
    for number, name, kind in (("ALI", "支付宝", "alipay"), ("JD", "京东钱包", "jd_wallet")):
        ledger.open_account(number=number, name=name, type=kind, shop_code=shop,
                            allow_overdraft=True)  # fmt: skip
    import_file(ledger, s.write_alipay_zip(tmp_path / "a.zip", ali), account="ALI")
    import_file(ledger, s.write_jd_wallet_csv(tmp_path / "j.csv", jd), account="JD")


def month_entry_ids(ledger) -> list[int]:
    """The entries dated in March 2024 (Asia/Shanghai): the opening balances are in February."""
    with ledger.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id FROM entries WHERE trade_time >= :a AND trade_time < :b ORDER BY id"
            ),
            {
                "a": datetime(2024, 2, 29, 16, tzinfo=UTC),
                "b": datetime(2024, 3, 31, 16, tzinfo=UTC),
            },
        )
        return [r.id for r in rows]
