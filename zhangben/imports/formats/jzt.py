"""JD 精准通 (advertising) bill: every row is an expense of 支出 on 投放日期; no balance.

flow_no = 流水单号; the plan id and ad account go to ``extra``. 投放日期 may be a bare date
(midnight Asia/Shanghai); 支出 may be signed, it is normalised to positive.
"""

from __future__ import annotations

from collections.abc import Mapping

from zhangben.imports.formats.bill_format import BillFormat, amount, optional, required, time_cell
from zhangben.imports.rows import ZERO, BillRow


class JztBill(BillFormat):
    name = "jzt"
    platform = "jzt"
    has_balance = False
    required_headers = ("流水单号", "账号", "投放日期", "交易类型", "计划ID", "支出")

    def parse_row(self, line: int, cells: Mapping[str, str]) -> BillRow:
        when = time_cell(cells, "投放日期", line, date_only_ok=True)
        return BillRow(
            line=line,
            raw=dict(cells),
            flow_no=required(cells, "流水单号", line),
            trade_time=when,
            income=ZERO,
            expense=abs(amount(cells, "支出", line)),
            balance=None,
            counterparty=None,
            business_type=optional(cells, "交易类型"),
            extra={
                "account": required(cells, "账号", line),
                "plan_id": optional(cells, "计划ID"),
                "launch_date": when.date(),
            },
        )
