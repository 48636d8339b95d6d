"""The columns of the exported sheets: Chinese headers, what a cell holds, its display format
and its width. One place for every sheet zhangben writes (the flow exports, the 月结 workbook),
so that they read alike: money is a number cell showing two decimals while keeping the exact
4-decimal value, times are date-time cells in the business time zone.

The formats are Excel number formats, understood alike by openpyxl and the streaming writer
(:mod:`zhangben.exports.xlsx`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: money: thousands separators and two decimals shown; the cell keeps all four
MONEY_FORMAT = "#,##0.00"
#: an instant, shown in the business time zone to the second
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
#: a business day (the 月结 workbook's 日报)
DATE_FORMAT = "yyyy-mm-dd"
#: a whole number shown in full (ids: no 1.2E+10)
INTEGER_FORMAT = "0"

#: What a column's cells hold, and how each format writes them:
#: ``money``: integer minor units (1/10000); CSV the exact decimal ``-12.3400``, XLSX a number
#: with :data:`MONEY_FORMAT`. ``datetime``: an aware instant; CSV ``2026-10-01 08:00:00``,
#: XLSX a date-time number with :data:`DATETIME_FORMAT`. ``date``: a business day, XLSX a date
#: number with :data:`DATE_FORMAT` (the workbook's sheets only). ``integer``: an int.
#: ``text``: a str. ``None`` is an empty cell in every kind.
Kind = Literal["money", "datetime", "date", "integer", "text"]

FORMATS: dict[str, str | None] = {
    "money": MONEY_FORMAT,
    "datetime": DATETIME_FORMAT,
    "date": DATE_FORMAT,
    "integer": INTEGER_FORMAT,
    "text": None,
}


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    kind: Kind
    #: in Excel's character widths (a Chinese character counts about 2)
    width: float

    @property
    def number_format(self) -> str | None:
        return FORMATS[self.kind]


#: The entry types as a finance team names them.
TYPE_LABELS = {
    "income": "收入",
    "expense": "支出",
    "transfer_in": "转入",
    "transfer_out": "转出",
    "reversal": "冲正",
}

#: One row per entry, in this order. 收入 and 支出 are the entry's amount split by its sign
#: (both positive, the other empty), as the platforms' bills write them; 余额 is the balance
#: after the entry.
FLOW_COLUMNS: tuple[Column, ...] = (
    Column("id", "流水ID", "integer", 10),
    Column("trade_time", "交易时间", "datetime", 20),
    Column("trade_no", "交易号", "text", 24),
    Column("account", "账户", "text", 18),
    Column("account_name", "账户名称", "text", 18),
    Column("shop", "店铺", "text", 10),
    Column("type", "类型", "text", 7),
    Column("income", "收入", "money", 14),
    Column("expense", "支出", "money", 14),
    Column("balance_after", "余额", "money", 16),
    Column("currency", "币种", "text", 6),
    Column("category", "分类", "text", 12),
    Column("subject", "科目", "text", 14),
    Column("counterparty", "对方", "text", 22),
    Column("description", "摘要", "text", 24),
    Column("remark", "备注", "text", 24),
    Column("source", "来源", "text", 9),
    Column("external_id", "外部流水号", "text", 30),
    Column("posting_id", "过账ID", "integer", 10),
    Column("reverses_entry_id", "冲正的流水ID", "integer", 13),
    Column("recorded_at", "记账时间", "datetime", 20),
)

# The 月结 workbook (zhangben.periods.workbook): a sheet per tuple. Money is a Decimal there (the
# reports' figures), written as in the flow exports; a width is the least the column gets (the
# workbook widens a column to fit its values).

#: 账户: per account; 平台期末余额 and 平台余额时间 are the platform's balance column at the
#: account's last imported row of the month, 差额 = 期末 − 平台期末余额
MONTH_ACCOUNT_COLUMNS: tuple[Column, ...] = (
    Column("account", "账户", "text", 12),
    Column("account_name", "账户名称", "text", 12),
    Column("shop", "店铺", "text", 6),
    Column("type", "类型", "text", 8),
    Column("currency", "币种", "text", 6),
    Column("opening", "期初", "money", 12),
    Column("income", "收入", "money", 12),
    Column("expense", "支出", "money", 12),
    Column("closing", "期末", "money", 12),
    Column("entries", "笔数", "integer", 6),
    Column("platform_closing", "平台期末余额", "money", 14),
    Column("platform_time", "平台余额时间", "datetime", 20),
    Column("difference", "差额", "money", 12),
)
#: 日报: per business day
MONTH_DAY_COLUMNS: tuple[Column, ...] = (
    Column("day", "日期", "date", 12),
    Column("currency", "币种", "text", 6),
    Column("opening", "期初", "money", 12),
    Column("income", "收入", "money", 12),
    Column("expense", "支出", "money", 12),
    Column("closing", "期末", "money", 12),
    Column("entries", "笔数", "integer", 6),
)
#: 类目: per category and subject
MONTH_CATEGORY_COLUMNS: tuple[Column, ...] = (
    Column("category_id", "类目编号", "integer", 8),
    Column("category", "类目", "text", 10),
    Column("subject_id", "科目编号", "integer", 8),
    Column("subject", "科目", "text", 10),
    Column("currency", "币种", "text", 6),
    Column("income", "收入", "money", 12),
    Column("expense", "支出", "money", 12),
    Column("entries", "笔数", "integer", 6),
)
#: 账期: the period and the close checks, an item a row
MONTH_PERIOD_COLUMNS: tuple[Column, ...] = (
    Column("item", "项目", "text", 12),
    Column("value", "内容", "text", 40),
)
