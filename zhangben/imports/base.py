"""Shared types of the bill extractors: rows, errors, value parsers, the format registry.

A bill format module only *extracts*: it declares its headers and turns one row of cells
(keyed by canonical header) into a :class:`BillRow`. Reading files lives in
:mod:`zhangben.imports.tables`, the header search and row loop in
:mod:`zhangben.imports.extraction`; both are re-exported here and from the package.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

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
    """A row or header that cannot be read; names the physical line and the column."""

    def __init__(self, line: int | None, column: str | None, message: str):
        self.line = line
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"


# --- value parsing -------------------------------------------------------------------------

# Plain decimal, or thousands-grouped with exact groups of three ("1,234.56"); never "12,30".
_PLAIN = re.compile(r"[+-]?\d+(?:\.\d{1,4})?", re.ASCII)
_AMOUNT = re.compile(r"([+-]?)[¥￥]?(\d+|\d{1,3}(?:,\d{3})+)(?:\.(\d+))?", re.ASCII)


def parse_amount(text: str, line: int | None = None, column: str | None = None) -> Decimal:
    """Yuan text -> Decimal. Empty is zero; ``+``/``-`` sign and a ``¥`` are accepted.

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


# --- the format protocol -------------------------------------------------------------------


class BillFormat:
    """Declares a bill layout and turns one row into a BillRow. Subclass and ``register``.

    ``required_headers``/``optional_headers`` are canonical header texts; ``aliases`` maps
    other spellings to them. Headers are compared after :func:`tables.normalize_header`.
    ``summary_markers`` are first cells (normalised) that start the file's summary table.
    """

    name: ClassVar[str]
    platform: ClassVar[str]
    has_balance: ClassVar[bool]
    required_headers: ClassVar[tuple[str, ...]]
    optional_headers: ClassVar[tuple[str, ...]] = ()
    aliases: ClassVar[Mapping[str, str]] = {}
    summary_markers: ClassVar[tuple[str, ...]] = ()
    #: which cells identify a row when it has no flow number (documentation for unique_key)
    key_cells: ClassVar[tuple[str, ...]] = ()

    _map: dict[str, str]

    def __init__(self) -> None:
        from .tables import normalize_header

        self._map = {}
        for h in (*self.required_headers, *self.optional_headers):
            self._map[normalize_header(h)] = h
        for alias, h in self.aliases.items():
            self._map[normalize_header(alias)] = h
        self._required = frozenset(normalize_header(h) for h in self.required_headers)

    def canonical(self, normalized: str) -> str | None:
        """The canonical header for a normalised header text, or None if not in this format."""
        return self._map.get(normalized)

    def missing(self, normalized_headers: Iterable[str]) -> list[str]:
        """Required headers (canonical) absent from a normalised header row."""
        present = {self._map.get(h) for h in normalized_headers}
        return [h for h in self.required_headers if h not in present]

    def matches(self, header_cells: Iterable[str]) -> bool:
        """True when the header row holds all required headers of this format."""
        from .tables import normalize_header

        return not self.missing(normalize_header(c) for c in header_cells)

    def parse_row(self, line: int, cells: Mapping[str, str]) -> BillRow:  # pragma: no cover
        raise NotImplementedError

    def summary(self, fields: Mapping[str, str], line: int | None) -> BillSummary | None:
        """Totals from the file's own footer/summary, given as normalised key -> text."""
        return None

    def summary_file(self, table: Iterable[tuple[int, list[str]]]) -> BillSummary | None:
        """Totals from a separate summary file (Alipay ZIP's 汇总 CSV)."""
        return None

    def __repr__(self) -> str:
        return f"<BillFormat {self.name}>"


# helpers for format modules


def required(cells: Mapping[str, str], column: str, line: int) -> str:
    """A cell that must be non-empty (ids)."""
    value = cells.get(column, "")
    if not value:
        raise BillFormatError(line, column, "required value is empty")
    return value


def optional(cells: Mapping[str, str], column: str) -> str | None:
    return cells.get(column) or None


def amount(cells: Mapping[str, str], column: str, line: int) -> Decimal:
    return parse_amount(cells.get(column, ""), line, column)


def time_cell(cells: Mapping[str, str], column: str, line: int, *, date_only_ok=False):
    value = cells.get(column, "")
    if not value:
        raise BillFormatError(line, column, "required time is empty")
    return parse_time(value, line, column, date_only_ok=date_only_ok)


def non_negative(value: Decimal, line: int, column: str) -> Decimal:
    if value < 0:
        raise BillFormatError(line, column, f'"{value}" must not be negative')
    return value


def count(text: str, line: int | None, column: str) -> int:
    text = text.strip().replace(",", "")
    if not text.isdigit():
        raise BillFormatError(line, column, f'"{text}" is not a count')
    return int(text)


# --- registry ------------------------------------------------------------------------------

_FORMATS: dict[str, BillFormat] = {}
_BUILTIN = ("alipay", "wechat", "wechat_shop", "jd_wallet", "jzt")


def register(fmt: BillFormat) -> BillFormat:
    if fmt.platform not in PLATFORMS:
        raise ValueError(f"unknown platform {fmt.platform!r}")
    _FORMATS[fmt.name] = fmt
    return fmt


def formats() -> list[BillFormat]:
    """All registered formats (built-ins are imported on first use)."""
    if not all(m in _loaded for m in _BUILTIN):
        import importlib

        for m in _BUILTIN:
            importlib.import_module(f"zhangben.imports.{m}")
            _loaded.add(m)
    return list(_FORMATS.values())


_loaded: set[str] = set()


def get_format(name: str) -> BillFormat:
    for fmt in formats():
        if fmt.name == name:
            return fmt
    raise KeyError(f"unknown bill format {name!r}; known: {sorted(_FORMATS)}")


def detect_format(header_cells: Iterable[str]) -> BillFormat:
    """The one format whose required headers are all in this header row.

    Raises BillFormatError when none or more than one matches.
    """
    cells = list(header_cells)
    found = [f for f in formats() if f.matches(cells)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise BillFormatError(None, None, "header row matches no known bill format")
    names = ", ".join(f.name for f in found)
    raise BillFormatError(None, None, f"header row is ambiguous between {names}")


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


def __getattr__(name: str):  # lazy re-exports, avoiding an import cycle
    if name in {"open_table", "normalize_header", "clean_cell"}:
        from . import tables

        return getattr(tables, name)
    if name in {"extract", "Extraction"}:
        from . import extraction as _extract

        return getattr(_extract, name)
    raise AttributeError(name)
