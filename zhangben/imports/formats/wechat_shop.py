"""WeChat shop funds flow (微信小店 资金流水): 流水单号 key, 收支类型 + 收支金额, 账户余额.

收支类型 is 收入/入账 or 支出/出账; 收支金额 may carry a sign, the type decides the direction.
"""

from __future__ import annotations

from collections.abc import Mapping

from zhangben.imports.formats.bill_format import BillFormat, amount, optional, required, time_cell
from zhangben.imports.rows import ZERO, BillFormatError, BillRow, parse_amount

INCOME_TYPES = {"收入", "入账"}
EXPENSE_TYPES = {"支出", "出账"}
_EXTRA = {
    "关联售后单号": "after_sale_no",
    "关联提现单号": "withdrawal_no",
    "关联保单号": "policy_no",
}


class WechatShopFunds(BillFormat):
    name = "wechat_shop"
    platform = "wechat_shop"
    has_balance = True
    required_headers = ("流水单号", "记账时间", "动帐类型", "收支类型", "收支金额", "账户余额")
    optional_headers = ("关联订单号", "关联售后单号", "关联提现单号", "关联保单号", "详情")
    aliases = {"动账类型": "动帐类型", "收支金额(元)": "收支金额", "账户余额(元)": "账户余额"}

    def parse_row(self, line: int, cells: Mapping[str, str]) -> BillRow:
        kind = required(cells, "收支类型", line)
        if kind not in INCOME_TYPES | EXPENSE_TYPES:
            raise BillFormatError(line, "收支类型", f'"{kind}" is neither income nor expense')
        value = abs(amount(cells, "收支金额", line))
        return BillRow(
            line=line,
            raw=dict(cells),
            flow_no=required(cells, "流水单号", line),
            trade_time=time_cell(cells, "记账时间", line),
            income=value if kind in INCOME_TYPES else ZERO,
            expense=value if kind in EXPENSE_TYPES else ZERO,
            balance=parse_amount(required(cells, "账户余额", line), line, "账户余额"),
            order_no=optional(cells, "关联订单号"),
            business_type=optional(cells, "动帐类型"),
            remark=optional(cells, "详情"),
            extra={key: cells[col] for col, key in _EXTRA.items() if cells.get(col)},
        )
