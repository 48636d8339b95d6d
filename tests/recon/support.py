"""What the reconciliation tests share: a ledger with the sample WeChat bill of shop S001
imported, and its order file written (not imported)."""

from __future__ import annotations

from pathlib import Path

from zhangben.core.ledger import Ledger
from zhangben.demo.orders import write_order_samples
from zhangben.imports.runner import import_file
from zhangben.recon.service import Recon

ACTOR = "user:finance"


def with_samples(ledger: Ledger, tmp_path: Path) -> tuple[Recon, dict[str, Path]]:
    files = write_order_samples(tmp_path)
    ledger.open_account(number="WX-S001", name="微信支付-旗舰店", type="wechat", shop_code="S001")
    import_file(ledger, files["wechat"], account="WX-S001")
    return Recon(ledger), files


def yuan(minor: int) -> str:
    return f"{minor / 10_000:.2f}"
