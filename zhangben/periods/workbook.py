"""The 月结 workbook: one month of a shop (or of the whole ledger) as an XLSX file for the
accountant. Four sheets, Chinese headers, in the layout every sheet of zhangben shares
(:mod:`zhangben.exports.layout`: the columns, their headers, kinds and least widths):

* **账户** — per account: number, name, shop, type, currency, 期初, 收入, 支出, 期末, entries;
  for an account with imported bills, the platform's own balance column at its last imported
  row of the month (or before it), that row's time, and 差额 = 期末 − the platform's balance;
  a totals row per currency;
* **日报** — every business day of the month: 期初, 收入, 支出, 期末, entries; totals;
* **类目** — per category and subject (类目/科目): 收入, 支出, entries; totals;
* **账期** — the period of the scope (status, closed at and by, forced, the snapshot's
  SHA-256) and what the close checks find now (or 无).

This module computes no figure: :meth:`MonthBook.gather` takes them from ``Ledger.reports``
(three reports of the month, read in one snapshot), the imports (the platforms' balances) and
the periods facade (the period, its checks); :func:`write` only lays them out.

Written with openpyxl in write-only mode: each row goes into the sheet's XML as it is
appended, so memory holds the reports (which are in memory anyway) and not a cell object per
value. The column widths are set before the rows (write-only mode wants them first); they
are measured from the reports' values, a CJK character counting two, and are at least the
layout's.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, BinaryIO
from zoneinfo import ZoneInfo

from zhangben.core import reports
from zhangben.core.errors import ValidationError
from zhangben.core.money import to_minor
from zhangben.core.periods import Finding, Month, Period, check_shop
from zhangben.core.reports import Report, ReportRow
from zhangben.exports.layout import (
    DATE_FORMAT,
    FORMATS,
    MONTH_ACCOUNT_COLUMNS,
    MONTH_CATEGORY_COLUMNS,
    MONTH_DAY_COLUMNS,
    MONTH_PERIOD_COLUMNS,
    Column,
)
from zhangben.exports.xlsx import MAX_EXACT_MINOR, MAX_TEXT, money_text
from zhangben.imports.bills import PlatformBalance
from zhangben.imports.service import Imports

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell

    from zhangben.periods.service import Periods

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEETS = ("账户", "日报", "类目", "账期")
TOTAL = "合计"
NONE = "无"
#: the widest a column is made, in Excel's character widths
MAX_WIDTH = 80

STATUS = {"open": "open（未结账）", "closed": "closed（已结账）", "reopened": "reopened（已重开）"}


@dataclass(frozen=True, slots=True)
class MonthBook:
    """Everything the workbook shows, gathered; ``period`` is None where the caller may not
    read the period, ``findings`` None where the checks were not run for it."""

    month: str
    shop: str | None
    tz: ZoneInfo
    accounts: Report
    days: Report
    categories: Report
    platform: Mapping[str, PlatformBalance]
    period: Period | None
    findings: Sequence[Finding] | None
    made_at: datetime

    @classmethod
    def gather(
        cls,
        service: Periods,
        month: str,
        *,
        shop: str | None = None,
        shop_codes: Sequence[str] | None = None,
        numbers: Sequence[str] | None = None,
        owner_user_id: int | None = None,
        with_period: bool = True,
        with_checks: bool = True,
    ) -> MonthBook:
        """The month's figures of ``shop`` (None: every account), narrowed further by the
        other scope keywords (a caller's reach), with the period of the shop (or of the
        ledger) unless ``with_period`` is false, and its checks unless ``with_checks`` is."""
        first = reports.parse_month(month)
        end = Month.parse(month).end(service.ledger.tz)  # the periods' own bounds on a month
        if shop is not None:
            check_shop(shop)
            if not service.ledger.accounts(shop_codes=[shop]):
                raise ValidationError("shop", f"no account has the shop code {shop!r}")
        if shop_codes is None and shop is not None:
            shop_codes = [shop]
        ledger, last = service.ledger, reports.month_end(first)
        scope = {"shop_codes": shop_codes, "numbers": numbers, "owner_user_id": owner_user_id}
        by_account, by_day, by_category = ledger.reports(
            first, last, (("account", "shop", "type"), ("day",), ("category", "subject")), **scope
        )
        platform = Imports(ledger).platform_balances(end)
        return cls(
            month=month,
            shop=shop,
            tz=ledger.tz,
            accounts=by_account,
            days=by_day,
            categories=by_category,
            platform={
                r.account: platform[r.account] for r in by_account.rows if r.account in platform
            },  # fmt: skip
            period=service.get(month, shop=shop) if with_period else None,
            findings=service.checks(month, shop=shop) if with_checks else None,
            made_at=datetime.now(UTC),
        )

    @property
    def filename(self) -> str:
        """``月结-2026-10.xlsx``, ``月结-2026-10-S001.xlsx``."""
        return f"月结-{self.month}{'-' + _safe(self.shop) if self.shop else ''}.xlsx"


def _safe(text: str) -> str:
    """A shop code fit for a file name: no path separators, no control characters."""
    return re.sub(r"[^\w.-]", "_", text)[:64]


# -- the sheets ---------------------------------------------------------------------------------

Rows = list[tuple]


def _figures(r: ReportRow, balances: bool = True) -> tuple:
    if balances:
        return (r.currency, r.opening, r.income, r.expense, r.closing, r.entries)
    return (r.currency, r.income, r.expense, r.entries)


def account_rows(book: MonthBook) -> tuple[Rows, Rows]:
    rows = []
    for r in book.accounts.rows:
        found = book.platform.get(r.account)
        platform = (
            (found.balance, found.trade_time, r.closing - found.balance)
            if found is not None
            else (None, None, None)
        )
        rows.append((r.account, r.account_name, r.shop, r.type, *_figures(r), *platform))
    totals = [(TOTAL, None, None, None, *_figures(t), None, None, None)
              for t in book.accounts.totals]  # fmt: skip
    return rows, totals


def day_rows(book: MonthBook) -> tuple[Rows, Rows]:
    rows = [(r.day, *_figures(r)) for r in book.days.rows]
    return rows, [(TOTAL, *_figures(t)) for t in book.days.totals]


def category_rows(book: MonthBook) -> tuple[Rows, Rows]:
    rows = [
        (r.category_id, r.category_name, r.subject_id, r.subject_name, *_figures(r, False))
        for r in book.categories.rows
    ]
    totals = [(None, TOTAL, None, None, *_figures(t, False)) for t in book.categories.totals]
    return rows, totals


def period_rows(book: MonthBook) -> tuple[Rows, Rows]:
    scope = f"店铺 {book.shop}" if book.shop else "全账本"
    rows: Rows = [("账期", book.month), ("范围", scope), ("时区", book.days.time_zone)]
    p = book.period
    if p is None:
        rows.append(("状态", "（这些凭据无权查看此账期）"))
    else:
        closed_at = p.closed_at.astimezone(book.tz).strftime("%Y-%m-%d %H:%M:%S") if (
            p.closed_at) else None  # fmt: skip
        rows += [
            ("状态", STATUS.get(p.status, p.status)),
            ("结账时间", closed_at),
            ("结账人", p.closed_by),
            ("强制结账", "是" if p.forced else "否"),
            ("快照SHA-256", p.snapshot_sha256),
        ]
    if book.findings is None:
        rows.append(("结账检查", "（未包含：仅管理员可运行结账检查）"))
    elif not book.findings:
        rows.append(("结账检查", NONE))
    else:
        rows.append(("结账检查", f"{len(book.findings)} 项"))
        rows += [(f.check, f.text) for f in book.findings]
    made = book.made_at.astimezone(book.tz).strftime("%Y-%m-%d %H:%M:%S")
    rows.append(("生成时间", made))
    return rows, []


#: each sheet: its name, its columns, and its rows and totals rows from the book
LAYOUT: tuple[tuple[str, tuple[Column, ...], Callable[[MonthBook], tuple[Rows, Rows]]], ...] = (
    ("账户", MONTH_ACCOUNT_COLUMNS, account_rows),
    ("日报", MONTH_DAY_COLUMNS, day_rows),
    ("类目", MONTH_CATEGORY_COLUMNS, category_rows),
    ("账期", MONTH_PERIOD_COLUMNS, period_rows),
)


# -- writing ------------------------------------------------------------------------------------

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def write(book: MonthBook, out: BinaryIO) -> None:
    """The workbook of ``book`` into ``out`` (a binary file object)."""
    from openpyxl import Workbook  # here: openpyxl costs every CLI start ~0.1 s

    wb = Workbook(write_only=True)
    for name, columns, rows_of in LAYOUT:
        rows, totals = rows_of(book)
        _sheet(wb, name, columns, rows, totals, book.tz)
    wb.save(out)


def workbook_bytes(book: MonthBook) -> bytes:
    buffer = io.BytesIO()
    write(book, buffer)
    return buffer.getvalue()


def _sheet(wb, name, columns, rows: Rows, totals: Rows, tz: ZoneInfo) -> None:
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(name)
    ws.freeze_panes = "A2"
    for i, column in enumerate(columns):
        fit = max((_width(_shown(column, row[i], tz)) for row in (*rows, *totals)), default=0)
        width = min(MAX_WIDTH, max(column.width, max(_width(column.header), fit) + 2))
        ws.column_dimensions[get_column_letter(i + 1)].width = width
    ws.append([_cell(ws, Column(c.key, c.header, "text", c.width), c.header, tz, bold=True)
               for c in columns])  # fmt: skip
    for row in rows:
        ws.append([_cell(ws, c, v, tz) for c, v in zip(columns, row, strict=True)])
    for row in totals:
        ws.append([_cell(ws, c, v, tz, bold=True) for c, v in zip(columns, row, strict=True)])


def _cell(ws, column: Column, value, tz: ZoneInfo, *, bold: bool = False) -> WriteOnlyCell:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    kind = column.kind if not isinstance(value, str) else "text"
    if value is None:
        cell = WriteOnlyCell(ws, None)
    elif kind == "money":
        minor = to_minor(value)
        if -MAX_EXACT_MINOR < minor < MAX_EXACT_MINOR:
            cell = WriteOnlyCell(ws, value)
            cell.number_format = FORMATS["money"]
        else:  # past 15 significant digits a spreadsheet number is not exact: digit for digit
            cell = _text(ws, money_text(minor))
    elif kind == "datetime":
        cell = WriteOnlyCell(ws, value.astimezone(tz).replace(tzinfo=None))
        cell.number_format = FORMATS["datetime"]
    elif kind == "date":
        cell = WriteOnlyCell(ws, value)
        cell.number_format = DATE_FORMAT
    elif kind == "integer":
        cell = WriteOnlyCell(ws, value)
        cell.number_format = FORMATS["integer"]
    else:
        cell = _text(ws, str(value))
    if bold:
        cell.font = Font(bold=True)
    return cell


def _text(ws, text: str) -> WriteOnlyCell:
    """A text cell that stays text: never a formula (a name may start with ``=``), control
    characters as Excel's ``_x0001_`` escapes, cut at Excel's longest cell."""
    from openpyxl.cell import WriteOnlyCell

    text = _ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)[:MAX_TEXT]
    cell = WriteOnlyCell(ws, text)
    cell.data_type = "s"
    return cell


def _shown(column: Column, value, tz: ZoneInfo) -> str:
    """The text a spreadsheet shows for ``value``, to measure the column by."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if column.kind == "money":
        return f"{value:,.2f}"
    if column.kind == "datetime":
        return "2026-10-31 23:59:59"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _width(text: str) -> int:
    """Display width: a wide (CJK) character counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


__all__ = ["MEDIA_TYPE", "SHEETS", "MonthBook", "workbook_bytes", "write"]
