"""Exports of the flow (流水): every entry of a filtered list, as CSV or XLSX, streamed.

The rows are the JSON list's for the same :class:`EntryFilter`, newest first, read in keyset
pages (:meth:`Ledger.entry_pages`), each page turned into bytes and handed on before the next
is read: memory stays flat however many rows there are. The columns are
:data:`~zhangben.exports.layout.FLOW_COLUMNS`.

* **CSV**: UTF-8 with a BOM (so that Excel takes it for UTF-8), one header row, money as the
  exact decimal (``1234.5000``), times in the business time zone (``2026-10-01 08:00:00``).
  A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
  leading ``'``, so that a spreadsheet shows it as text instead of running it as a formula
  (CSV injection); that is the one way a CSV cell may differ from the JSON field.
* **XLSX**: :class:`~zhangben.exports.xlsx.XlsxStream`: money as number cells showing two
  decimals and keeping all four, times as date-time cells, a frozen header row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from enum import StrEnum
from pathlib import Path

from zhangben.core.errors import ValidationError
from zhangben.core.ledger import Ledger
from zhangben.core.queries import ROW_FIELDS, EntryFilter, RowPage
from zhangben.exports.layout import FLOW_COLUMNS, TYPE_LABELS
from zhangben.exports.xlsx import XlsxStream, money_text

#: rows per read: large enough that a page's round trip is noise, small enough to stay flat
PAGE_SIZE = 5000
SHEET_NAME = "流水"
BOM = "\ufeff"


class Format(StrEnum):
    csv = "csv"
    xlsx = "xlsx"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self]


MEDIA_TYPES = {
    Format.csv: "text/csv; charset=utf-8",
    Format.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def format_of(path: str | Path) -> Format:
    """The format a file name asks for by its suffix (``.csv``, ``.xlsx``, any case)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in Format.__members__:
        raise ValidationError("export", f"{str(path)!r}: the file name must end in .csv or .xlsx")
    return Format(suffix)


def filename(fmt: Format, now: datetime, tz: tzinfo) -> str:
    """The name a download suggests: ``流水-20261203-153000.csv`` (local time)."""
    return f"{SHEET_NAME}-{now.astimezone(tz):%Y%m%d-%H%M%S}.{fmt}"


# The rows are unpacked by position (faster than by name, on every row): the order is checked
# here, once, against the core's list of fields.
_ROW = (
    "id", "posting_id", "account_id", "type", "amount", "balance_after", "trade_no",
    "trade_time", "recorded_at", "operator_id", "category_id", "subject_id", "counterparty",
    "description", "remark", "source", "external_id", "reverses_entry_id", "platform_balance",
    "account_number", "account_name", "currency", "shop_code",
)  # fmt: skip
if ROW_FIELDS != _ROW:  # pragma: no cover - a change of the entries table
    raise ImportError(f"zhangben.exports.flows reads rows of {_ROW}, the core gives {ROW_FIELDS}")

#: what a spreadsheet takes for the start of a formula (CSV injection)
_UNSAFE = frozenset("=+-@\t\r")
#: money up to this many minor units is formatted as a float to 4 places, exactly (15
#: significant digits); beyond, digit by digit
_FLOAT_EXACT = 10**15


def csv_rows(page: RowPage, tz: tzinfo) -> Iterator[tuple]:
    """A page's rows as CSV cells (``None`` is an empty cell). Written for speed: one
    unpacking per row, inline checks; text cells that can hold anything get the formula
    guard (account numbers, currencies and type labels cannot start with one)."""
    names, labels, unsafe, big, exact = page.names, TYPE_LABELS, _UNSAFE, _FLOAT_EXACT, money_text
    last_recorded, recorded_text = None, ""  # the rows of one import share it
    for (
        id_, posting, _account, type_, amount, after, trade_no, trade_time, recorded, _operator,
        category, subject, counterparty, description, remark, source, external, reverses,
        _platform, number, name, currency, shop,
    ) in page.rows:  # fmt: skip
        category = names.get(category)
        subject = names.get(subject)
        if recorded != last_recorded:
            last_recorded = recorded
            recorded_text = recorded.astimezone(tz).isoformat(" ", "seconds")[:19]
        if -big < amount < big:
            income = f"{amount / 10000:.4f}" if amount >= 0 else None
            expense = f"{-amount / 10000:.4f}" if amount < 0 else None
        else:
            income = exact(amount) if amount >= 0 else None
            expense = exact(-amount) if amount < 0 else None
        yield (
            id_,
            trade_time.astimezone(tz).isoformat(" ", "seconds")[:19],
            "'" + trade_no if trade_no and trade_no[0] in unsafe else trade_no,
            number,
            "'" + name if name and name[0] in unsafe else name,
            "'" + shop if shop and shop[0] in unsafe else shop,
            labels.get(type_, type_),
            income,
            expense,
            f"{after / 10000:.4f}" if -big < after < big else exact(after),
            currency,
            "'" + category if category and category[0] in unsafe else category,
            "'" + subject if subject and subject[0] in unsafe else subject,
            "'" + counterparty if counterparty and counterparty[0] in unsafe else counterparty,
            "'" + description if description and description[0] in unsafe else description,
            "'" + remark if remark and remark[0] in unsafe else remark,
            "'" + source if source and source[0] in unsafe else source,
            "'" + external if external and external[0] in unsafe else external,
            posting,
            reverses,
            recorded_text,
        )


def xlsx_rows(page: RowPage) -> Iterator[tuple]:
    """A page's rows as typed XLSX cells (money in minor units, instants aware)."""
    names, labels = page.names, TYPE_LABELS
    for (
        id_, posting, _account, type_, amount, after, trade_no, trade_time, recorded, _operator,
        category, subject, counterparty, description, remark, source, external, reverses,
        _platform, number, name, currency, shop,
    ) in page.rows:  # fmt: skip
        yield (
            id_, trade_time, trade_no, number, name, shop, labels.get(type_, type_),
            amount if amount >= 0 else None, -amount if amount < 0 else None, after, currency,
            names.get(category), names.get(subject), counterparty, description or None,
            remark or None, source, external, posting, reverses, recorded,
        )  # fmt: skip


def header_csv() -> str:
    out = io.StringIO()
    csv.writer(out).writerow([c.header for c in FLOW_COLUMNS])
    return BOM + out.getvalue()


def export_flows(
    ledger: Ledger,
    f: EntryFilter,
    fmt: Format,
    *,
    before_id: int | None = None,
    page_size: int = PAGE_SIZE,
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """The file's bytes, a chunk per page read; the first chunk comes after the first read,
    so that a caller can tell a database that cannot serve before it sends anything.
    ``on_rows(n)`` is told after each page how many rows it held (a progress bar)."""
    pages = ledger.entry_pages(f, page_size=page_size, before_id=before_id)
    tz = ledger.tz
    if fmt is Format.csv:
        head = header_csv()
        for page in pages:
            out = io.StringIO()
            out.write(head)
            csv.writer(out).writerows(csv_rows(page, tz))
            yield out.getvalue().encode("utf-8")
            head = ""
            if on_rows:
                on_rows(len(page.rows))
        if head:
            yield head.encode("utf-8")
        return
    sheet = XlsxStream(FLOW_COLUMNS, tz, SHEET_NAME)
    for page in pages:
        yield sheet.add(xlsx_rows(page))
        if on_rows:
            on_rows(len(page.rows))
    yield sheet.close()
