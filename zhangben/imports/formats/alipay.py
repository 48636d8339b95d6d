"""Alipay account statement (支付宝 账务明细), CSV / XLSX / the platform's ZIP.

Income from 收入金额（+元）; expense from 支出金额（-元） given either positive or with a
minus sign, normalised to a positive expense. flow_no = 账务流水号. The footer lines
``#收入合计：N笔，共X元`` and a ZIP's 汇总 CSV give the summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from zhangben.imports.files import normalize_header
from zhangben.imports.formats.bill_format import BillFormat, amount, optional, required, time_cell
from zhangben.imports.rows import ZERO, BillFormatError, BillRow, BillSummary, parse_amount

FLOW = "账务流水号"
TIME = "发生时间"
INCOME = "收入金额（+元）"
EXPENSE = "支出金额（-元）"
BALANCE = "账户余额（元）"

HEADERS = (
    FLOW,
    "业务流水号",
    "商户订单号",
    "商品名称",
    TIME,
    "对方账号",
    INCOME,
    EXPENSE,
    BALANCE,
    "交易渠道",
    "业务类型",
    "备注",
)
OPTIONAL = ("业务描述", "业务账单来源", "业务基础订单号", "业务订单号")
_EXTRA = {
    "业务流水号": "business_flow_no",
    "商品名称": "product",
    "交易渠道": "channel",
    "业务描述": "business_desc",
    "业务账单来源": "bill_source",
    "业务基础订单号": "base_order_no",
    "业务订单号": "business_order_no",
}
_TOTAL = re.compile(r"(\d[\d,]*)\s*笔.*?共\s*,?\s*([+-]?[\d,]+(?:\.\d+)?)\s*元")


def _footer_total(text: str | None, line: int | None, column: str):
    if not text:
        return None, None
    m = _TOTAL.search(text)
    if m is None:
        raise BillFormatError(line, column, f'"{text}" is not a "N笔，共X元" total')
    return int(m.group(1).replace(",", "")), abs(parse_amount(m.group(2), line, column))


class AlipayStatement(BillFormat):
    name = "alipay"
    platform = "alipay"
    has_balance = True
    required_headers = HEADERS
    optional_headers = OPTIONAL

    def parse_row(self, line: int, cells: Mapping[str, str]) -> BillRow:
        income = amount(cells, INCOME, line)
        if income < 0:
            raise BillFormatError(line, INCOME, f'"{cells[INCOME]}" must not be negative')
        extra = {key: cells[col] for col, key in _EXTRA.items() if cells.get(col)}
        return BillRow(
            line=line,
            raw=dict(cells),
            flow_no=required(cells, FLOW, line),
            trade_time=time_cell(cells, TIME, line),
            income=income,
            expense=abs(amount(cells, EXPENSE, line)),
            balance=parse_amount(required(cells, BALANCE, line), line, BALANCE),
            counterparty=optional(cells, "对方账号"),
            order_no=optional(cells, "商户订单号"),
            business_type=optional(cells, "业务类型"),
            remark=optional(cells, "备注"),
            extra=extra,
        )

    def summary(self, fields: Mapping[str, str], line: int | None) -> BillSummary | None:
        inc_n, inc = _footer_total(fields.get("收入合计"), line, "收入合计")
        exp_n, exp = _footer_total(fields.get("支出合计"), line, "支出合计")
        if inc_n is None and exp_n is None:
            return None
        return BillSummary(
            row_count=None,
            income_count=inc_n,
            income_total=inc,
            expense_count=exp_n,
            expense_total=exp,
            source="footer",
            raw=dict(fields),
        )

    def summary_file(self, table: Iterable[tuple[int, list[str]]]) -> BillSummary | None:
        """The 汇总 CSV: a 业务类型 table with 收入笔数/收入金额/支出笔数/支出金额 per type and an
        optional 合计 row (used when present, else the per-type rows are added up)."""
        cols: dict[str, int] | None = None
        sums = [0, ZERO, 0, ZERO]
        total = None
        raw: dict[str, str] = {}
        names = ("收入笔数", "收入金额", "支出笔数", "支出金额")
        for line, cells in table:
            if not any(cells) or cells[0].startswith("#"):
                continue
            if cols is None:
                norm = [normalize_header(c) for c in cells]
                found = {n: i for n in names for i, h in enumerate(norm) if h.startswith(n)}
                if len(found) == len(names):
                    cols = found
                continue
            vals = _summary_values(line, cells, cols, names)
            raw[cells[0]] = ",".join(cells)
            if cells[0] in ("合计", "总计"):
                total = vals
            else:
                sums = [a + b for a, b in zip(sums, vals, strict=True)]
        if cols is None:
            raise BillFormatError(
                None, None, "汇总 file has no 收入笔数/收入金额/支出笔数/支出金额 header"
            )
        inc_n, inc, exp_n, exp = total or sums
        return BillSummary(
            income_count=inc_n,
            income_total=inc,
            expense_count=exp_n,
            expense_total=exp,
            source="zip-summary",
            raw=raw,
        )


def _summary_values(line, cells, cols, names) -> list:
    out: list = []
    for n in names:
        text = cells[cols[n]] if cols[n] < len(cells) else ""
        if n.endswith("笔数"):
            if not text.replace(",", "").isdigit() and text:
                raise BillFormatError(line, n, f'"{text}" is not a count')
            out.append(int(text.replace(",", "") or 0))
        else:
            out.append(abs(parse_amount(text, line, n)))
    return out
