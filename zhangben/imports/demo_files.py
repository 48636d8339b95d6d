"""A month of sample bills for the README walkthrough (and ``zhangben import-samples``).

Writes, for March 2024: the Alipay download (ZIP with the GBK 账务明细 CSV and its 汇总), the
JD wallet flow (GBK CSV), and a tampered copy of the JD wallet file with one row removed,
which the continuity check and ``zhangben verify`` point at.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from zhangben.imports.samples import (
    SampleTxn,
    chained_txns,
    write_alipay_zip,
    write_jd_wallet_csv,
)

MONTH_START = datetime(2024, 3, 1, 0, 0, 0)
MONTH = timedelta(days=31)


def month_of_txns(rows: int, *, seed: int, start_balance: Decimal) -> list[SampleTxn]:
    """``rows`` chained transactions spread evenly over March 2024."""
    txns = list(chained_txns(rows, start=MONTH_START, seed=seed, start_balance=start_balance))
    span = (txns[-1].time - MONTH_START) if txns else MONTH
    scale = (MONTH - timedelta(minutes=1)) / span
    return [replace(t, time=MONTH_START + (t.time - MONTH_START) * scale) for t in txns]


def removed_index(rows: int) -> int:
    """Which row (0-based) the tampered copy leaves out: one in the middle of the month."""
    return rows // 2


def write_demo_files(directory: str | Path, *, rows: int = 3000) -> dict[str, Path]:
    """Write the sample files into ``directory``; returns name → path."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    alipay = month_of_txns(rows, seed=11, start_balance=Decimal("25000.00"))
    jd = month_of_txns(rows, seed=23, start_balance=Decimal("8000.00"))
    tampered = jd[: removed_index(rows)] + jd[removed_index(rows) + 1 :]
    return {
        "alipay": write_alipay_zip(out / "alipay_2024-03.zip", alipay),
        "jd_wallet": write_jd_wallet_csv(out / "jd_wallet_2024-03.csv", jd),
        "tampered": write_jd_wallet_csv(out / "jd_wallet_2024-03_tampered.csv", tampered),
    }
