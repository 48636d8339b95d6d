"""Helpers of the 月结 workbook tests: a shop with a month of sample bills imported, the bills'
own totals, and a workbook read back with openpyxl."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl

from zhangben.demo import bills as s
from zhangben.imports.runner import import_file

ROWS = 120
MONEY = "#,##0.00"


@dataclass(frozen=True)
class Bill:
    """A sample bill's own figures: the sums of its income and expense columns, the platform's
    balance before its first row and after its last."""

    income: Decimal
    expense: Decimal
    first_balance: Decimal
    last_balance: Decimal
    rows: int


def bill_of(txns: list[s.SampleTxn]) -> Bill:
    return Bill(
        income=sum((t.amount for t in txns if t.amount > 0), Decimal(0)),
        expense=-sum((t.amount for t in txns if t.amount < 0), Decimal(0)),
        first_balance=txns[0].balance - txns[0].amount,
        last_balance=txns[-1].balance,
        rows=len(txns),
    )


def import_month(ledger, tmp_path: Path, *, shop: str = "S3", opening: bool = True) -> dict:
    """ALI (alipay) and JD (jd_wallet) of ``shop`` with March 2024's sample bills imported
    (opened at the platform's balance unless ``opening`` is false); returns their bills."""
    ali = s.month_of_txns(ROWS, seed=11, start_balance=Decimal("25000.00"))
    jd = s.month_of_txns(ROWS, seed=23, start_balance=Decimal("8000.00"))
    ledger.open_account(number="ALI", name="支付宝-月结", type="alipay", shop_code=shop,
                        allow_overdraft=True)  # fmt: skip
    ledger.open_account(number="JD", name="京东钱包-月结", type="jd_wallet", shop_code=shop,
                        allow_overdraft=True)  # fmt: skip
    import_file(ledger, s.write_alipay_zip(tmp_path / "a.zip", ali), account="ALI",
                opening_balance=opening)  # fmt: skip
    import_file(ledger, s.write_jd_wallet_csv(tmp_path / "j.csv", jd), account="JD",
                opening_balance=opening)  # fmt: skip
    return {"ALI": bill_of(ali), "JD": bill_of(jd)}


def read_book(data: bytes | Path) -> openpyxl.Workbook:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    return openpyxl.load_workbook(source)


def table(sheet) -> list[dict]:
    """A sheet's rows under its header row, as dicts by header."""
    header, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


def period_items(sheet) -> list[tuple]:
    """The 账期 sheet's (项目, 内容) rows."""
    return [tuple(r) for r in sheet.iter_rows(min_row=2, values_only=True)]


def money(value) -> Decimal:
    """A money cell's number as the exact 4-decimal value it stands for."""
    return Decimal(repr(value)).quantize(Decimal("0.0001"))
