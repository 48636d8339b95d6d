"""Helpers of the voucher tests: a shop with March 2024's sample bills imported, and the sums of
a batch's vouchers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

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


def month_entries(ledger, month: str = MONTH) -> list:
    """The entries dated in ``month`` (the opening balances are dated in the month before)."""
    page = ledger.flows(start=f"{month}-01 00:00:00", end="2024-04-01 00:00:00", limit=10_000)
    return page.items
