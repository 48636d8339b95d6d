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
from operator import itemgetter
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


# the raw row's fields, in the order the cells use them
_PICK = itemgetter(
    *(
        ROW_FIELDS.index(name)
        for name in (
            "id", "trade_time", "trade_no", "account_number", "account_name", "shop_code",
            "type", "amount", "balance_after", "currency", "category_id", "subject_id",
            "counterparty", "description", "remark", "source", "external_id", "posting_id",
            "reverses_entry_id", "recorded_at",
        )
    )
)  # fmt: skip

_UNSAFE_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str | None) -> str | None:
    """A CSV text cell that a spreadsheet will not run as a formula."""
    return "'" + text if text and text.startswith(_UNSAFE_START) else text


def csv_rows(page: RowPage, tz: tzinfo) -> Iterator[tuple]:
    """A page's rows as CSV cells (``None`` is an empty cell)."""
    names, labels = page.names, TYPE_LABELS
    for row in page.rows:
        (
            id_, trade_time, trade_no, number, name, shop, type_, amount, after, currency,
            category, subject, counterparty, description, remark, source, external,
            posting, reverses, recorded,
        ) = _PICK(row)  # fmt: skip
        yield (
            id_,
            trade_time.astimezone(tz).isoformat(" ", "seconds")[:19],
            _safe(trade_no),
            _safe(number),
            _safe(name),
            _safe(shop),
            labels.get(type_, type_),
            money_text(amount) if amount >= 0 else None,
            money_text(-amount) if amount < 0 else None,
            money_text(after),
            currency,
            _safe(names.get(category)),
            _safe(names.get(subject)),
            _safe(counterparty),
            _safe(description),
            _safe(remark),
            _safe(source),
            _safe(external),
            posting,
            reverses,
            recorded.astimezone(tz).isoformat(" ", "seconds")[:19],
        )


def xlsx_rows(page: RowPage) -> Iterator[tuple]:
    """A page's rows as typed XLSX cells (money in minor units, instants aware)."""
    names, labels = page.names, TYPE_LABELS
    for row in page.rows:
        (
            id_, trade_time, trade_no, number, name, shop, type_, amount, after, currency,
            category, subject, counterparty, description, remark, source, external,
            posting, reverses, recorded,
        ) = _PICK(row)  # fmt: skip
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
