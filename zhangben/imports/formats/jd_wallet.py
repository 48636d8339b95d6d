"""JD wallet flow (京东钱包 流水): income/expense columns and 账户余额(元); no flow number.

Rows are keyed by ``unique_key``'s hash of 账户代码 (``extra["account"]``), 日期, 商户订单号,
收入/支出 amounts and balance. 支出金额(元) may be signed; it is normalised to positive.
"""

from __future__ import annotations

from collections.abc import Mapping

from zhangben.imports.formats.bill_format import (
    BillFormat,
    amount,
    non_negative,
    optional,
    required,
    time_cell,
)
from zhangben.imports.rows import BillRow, parse_amount, parse_date

INCOME = "收入金额(元)"
EXPENSE = "支出金额(元)"
BALANCE = "账户余额(元)"


class JdWalletFlow(BillFormat):
    name = "jd_wallet"
    platform = "jd_wallet"
    has_balance = True
    required_headers = (
        "商户号",
        "账户代码",
        "账户名称",
        "日期",
        "商户订单号",
        BALANCE,
        INCOME,
        EXPENSE,
        "账单日期",
    )
    optional_headers = ("交易备注",)
    key_cells = ("账户代码", "日期", "商户订单号", INCOME, EXPENSE, BALANCE)

    def parse_row(self, line: int, cells: Mapping[str, str]) -> BillRow:
        extra: dict = {
            "account": required(cells, "账户代码", line),
            "merchant_id": cells.get("商户号", ""),
            "account_name": cells.get("账户名称", ""),
        }
        if cells.get("账单日期"):
            extra["bill_date"] = parse_date(cells["账单日期"], line, "账单日期")
        return BillRow(
            line=line,
            raw=dict(cells),
            flow_no=None,
            trade_time=time_cell(cells, "日期", line),
            income=non_negative(amount(cells, INCOME, line), line, INCOME),
            expense=abs(amount(cells, EXPENSE, line)),
            balance=parse_amount(required(cells, BALANCE, line), line, BALANCE),
            order_no=optional(cells, "商户订单号"),
            business_type=None,
            remark=optional(cells, "交易备注"),
            extra=extra,
        )
