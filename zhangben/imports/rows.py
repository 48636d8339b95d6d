"""What a bill extractor yields: typed rows, a file's own totals, the error naming a line and a
column, and the parsers of amounts and times that every format uses; also a row's key
(:func:`unique_key`) and the platforms bills come from.

Nothing here reads a file (:mod:`zhangben.imports.files`) or knows a format
(:mod:`zhangben.imports.formats`); the header search and the format registry are in
:mod:`zhangben.imports.extract`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from zhangben.core.money import MAX_AMOUNT

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZERO = Decimal("0")
MAX_PLACES = 4

PLATFORMS = ("alipay", "wechat", "wechat_shop", "jd_wallet", "jzt")


@dataclass(slots=True)
class BillRow:
    """One data row of a bill, typed. ``raw`` is keyed by the format's canonical headers.

    (Slots, not frozen: a frozen dataclass costs ≈2 µs more per row to build, on a path that
    builds one per bill row.)"""

    line: int
    raw: dict[str, str]
    flow_no: str | None
    trade_time: datetime
    income: Decimal
    expense: Decimal
    balance: Decimal | None
    counterparty: str | None = None
    order_no: str | None = None
    business_type: str | None = None
    remark: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def net(self) -> Decimal:
        """income - expense."""
        return self.income - self.expense


@dataclass(frozen=True)
class BillSummary:
    """Totals a file states about itself (footer, summary table or a ZIP's 汇总 file).

    Any field may be None when the file does not state it. ``net`` is what the rows'
    ``sum(income - expense)`` should come to: ``income_total - expense_total - fee_total``.
    """

    row_count: int | None = None
    income_count: int | None = None
    income_total: Decimal | None = None
    expense_count: int | None = None
    expense_total: Decimal | None = None
    fee_total: Decimal | None = None
    source: str = ""
    raw: dict[str, str] = field(default_factory=dict)

    @property
    def net(self) -> Decimal | None:
        if self.income_total is None or self.expense_total is None:
            return None
        return self.income_total - self.expense_total - (self.fee_total or ZERO)


class BillFormatError(ValueError):
    """A row or header that cannot be read or posted; names the physical line and the column,
    and, once the row is read, the platform's flow number (or, without one, its order
    number): ``line 12 (flow 2024…), 备注: …``. Never the row's hash key."""

    def __init__(
        self,
        line: int | None,
        column: str | None,
        message: str,
        *,
        flow: str | None = None,
        order: str | None = None,
    ):
        self.line = line
        self.column = column
        self.message = message
        self.flow, self.order = flow, order
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        if self.flow:
            where += f" (flow {self.flow})"
        elif self.order:
            where += f" (order {self.order})"
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"


# --- value parsing -------------------------------------------------------------------------

# Plain decimal, or thousands-grouped with exact groups of three ("1,234.56"); never "12,30".
# The fast path's 14 digits keep it within MAX_AMOUNT; longer numbers take the checked path.
_PLAIN = re.compile(r"[+-]?\d{1,14}(?:\.\d{1,4})?", re.ASCII)
_AMOUNT = re.compile(r"([+-]?)[¥￥]?(\d+|\d{1,3}(?:,\d{3})+)(?:\.(\d+))?", re.ASCII)


def parse_amount(text: str, line: int | None = None, column: str | None = None) -> Decimal:
    """Yuan text -> Decimal. Empty is zero; ``+``/``-`` sign and a ``¥`` are accepted.
    An amount over the ledger's :data:`~zhangben.core.money.MAX_AMOUNT` is an error.

    Thousands separators are accepted only as exact groups of three digits (``1,234.56``);
    anything else with a comma (``12,30``, ``12,3O``) is an error. More than four decimal
    places is an error unless the extra places are zeros (``0.60000`` is 0.6000).
    """
    text = text.strip()
    if not text:
        return ZERO
    if _PLAIN.fullmatch(text):  # fast path: the common plain decimal
        return Decimal(text) + ZERO if text[0] == "-" else Decimal(text)
    m = _AMOUNT.fullmatch(text)
    if m is None:
        raise BillFormatError(line, column, f'"{text}" is not an amount')
    sign, whole, frac = m.groups()
    frac = frac or ""
    if len(frac) > MAX_PLACES:
        if frac[MAX_PLACES:].strip("0"):
            raise BillFormatError(
                line, column, f'"{text}" has more than {MAX_PLACES} decimal places'
            )
        frac = frac[:MAX_PLACES]
    try:
        value = Decimal(f"{sign}{whole.replace(',', '')}.{frac or '0'}")
    except InvalidOperation:  # pragma: no cover - the regex admits only digits
        raise BillFormatError(line, column, f'"{text}" is not an amount') from None
    if abs(value) > MAX_AMOUNT:
        shown = text if len(text) <= 40 else f"{text[:37]}..."
        raise BillFormatError(line, column, f'"{shown}" is larger than {MAX_AMOUNT}')
    return value + ZERO  # turns -0 into 0


_TIME = re.compile(
    r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?",
    re.ASCII,
)


def parse_time(
    text: str,
    line: int | None = None,
    column: str | None = None,
    *,
    date_only_ok: bool = False,
) -> datetime:
    """Local platform time -> aware datetime (Asia/Shanghai unless the text carries an offset).

    Accepts ``yyyy-MM-dd HH:mm:ss``, ``yyyy/MM/dd HH:mm:ss``, ``yyyy-MM-dd HH:mm`` and ISO 8601
    with an offset; ``yyyy-MM-dd`` (midnight) only when ``date_only_ok``.
    """
    text = text.strip()
    if len(text) == 19 and text[10] == " ":  # fast path: yyyy-MM-dd HH:mm:ss
        digits = text[0:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19]
        if (
            digits.isdigit()
            and digits.isascii()
            and text[4] == text[7]
            and text[4] in "-/"
            and text[13] == text[16] == ":"
        ):
            try:
                return datetime(
                    int(digits[0:4]),
                    int(digits[4:6]),
                    int(digits[6:8]),
                    int(digits[8:10]),
                    int(digits[10:12]),
                    int(digits[12:14]),
                    tzinfo=SHANGHAI,
                )
            except ValueError:
                raise BillFormatError(line, column, f'"{text}" is not a time') from None
    m = _TIME.fullmatch(text)
    try:
        if m is None:
            value = datetime.fromisoformat(text)  # e.g. 2024-01-02T03:04:05+08:00
            if value.tzinfo is None:
                raise ValueError(text)
            return value
        y, mo, d, h, mi, s, us = m.groups()
        if h is None and not date_only_ok:
            raise LookupError
        return datetime(
            int(y),
            int(mo),
            int(d),
            int(h or 0),
            int(mi or 0),
            int(s or 0),
            int((us or "0").ljust(6, "0")),
            tzinfo=SHANGHAI,
        )
    except LookupError:
        raise BillFormatError(line, column, f'"{text}" is a date without a time') from None
    except ValueError:
        raise BillFormatError(line, column, f'"{text}" is not a time') from None


def parse_date(text: str, line: int | None = None, column: str | None = None) -> date:
    """``yyyy-MM-dd`` (or with ``/``, or a date-time whose date is taken) -> date."""
    value = _cached_date(text)
    if value is None:
        return parse_time(text, line, column, date_only_ok=True).date()  # raises
    return value


@lru_cache(maxsize=1024)
def _cached_date(text: str) -> date | None:
    try:
        return parse_time(text, date_only_ok=True).date()
    except BillFormatError:
        return None


# --- keys ----------------------------------------------------------------------------------


def _dec(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def unique_key(row: BillRow, platform: str) -> str:
    """The row's idempotency key within ``platform``.

    The platform's flow number where the row has one (Alipay 账务流水号, WeChat 资金流水单号
    or 微信订单号[/微信退款单号], WeChat shop and 精准通 流水单号). Otherwise (JD wallet) the
    SHA-256 hex of: platform, ``extra["account"]`` (JD: 账户代码), trade time (ISO),
    order no. (JD: 商户订单号), income, expense and balance (normalised decimals) - the
    cells each format lists in ``key_cells``.
    """
    if row.flow_no:
        return row.flow_no
    parts = (
        platform,
        str(row.extra.get("account") or ""),
        row.trade_time.isoformat(),
        row.order_no or "",
        _dec(row.income),
        _dec(row.expense),
        _dec(row.balance),
    )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def round_seconds(value: datetime) -> datetime:
    """Round a spreadsheet datetime to the nearest second (Excel stores days as floats)."""
    value = value + timedelta(microseconds=500_000)
    return value.replace(microsecond=0)
