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
  On PostgreSQL the database writes the CSV itself (:func:`copied_csv`: ``COPY … (FORMAT
  csv)`` of the same pages, the cells computed in SQL), byte for byte the file written here
  from the rows (:func:`python_csv`, SQLite's path), with the formatting off this process.
* **XLSX**: :class:`~zhangben.exports.xlsx.XlsxStream`: money as number cells showing two
  decimals and keeping all four, times as date-time cells, a frozen header row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from enum import StrEnum
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from zhangben.core.errors import ValidationError
from zhangben.core.ledger import Ledger
from zhangben.core.queries import EXPORT_FIELDS, ROW_FIELDS, EntryFilter, RowPage
from zhangben.exports.clock import LocalClock
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


def csv_rows(page: RowPage, clock: LocalClock) -> Iterator[tuple]:
    """A page's rows as CSV cells (``None`` is an empty cell). Written for speed: one
    unpacking per row, inline checks; text cells that can hold anything get the formula
    guard (account numbers, currencies and type labels cannot start with one)."""
    names, labels, unsafe, big, exact = page.names, TYPE_LABELS, _UNSAFE, _FLOAT_EXACT, money_text
    local = clock.text
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
            recorded_text = local(recorded)
        if -big < amount < big:
            income = f"{amount / 10000:.4f}" if amount >= 0 else None
            expense = f"{-amount / 10000:.4f}" if amount < 0 else None
        else:
            income = exact(amount) if amount >= 0 else None
            expense = exact(-amount) if amount < 0 else None
        yield (
            id_,
            local(trade_time),
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
    in_database: bool | None = None,
) -> Iterator[bytes]:
    """The file's bytes, a chunk per page read; the first chunk comes after the first read,
    so that a caller can tell a database that cannot serve before it sends anything.
    ``on_rows(n)`` is told after each page how many rows it held (a progress bar).
    ``in_database``: a CSV rendered by PostgreSQL itself (:func:`copied_csv`, the same bytes);
    by default wherever it can be (PostgreSQL, a named time zone)."""
    if fmt is Format.csv:
        if in_database is None:
            in_database = can_copy(ledger)
        write = copied_csv if in_database else python_csv
        pages = write(ledger, f, before_id, page_size)
        head = header_csv().encode("utf-8")
        for rows, data in pages:
            if not rows and not head:
                continue  # the range after a last full page: empty
            yield head + data if head else data
            head = b""
            if on_rows:
                on_rows(rows)
        if head:
            yield head
        return
    sheet = XlsxStream(FLOW_COLUMNS, ledger.tz, SHEET_NAME)
    for page in ledger.entry_pages(f, page_size=page_size, before_id=before_id):
        yield sheet.add(xlsx_rows(page))
        if on_rows:
            on_rows(len(page.rows))
    yield sheet.close()


def python_csv(
    ledger: Ledger, f: EntryFilter, before_id: int | None, page_size: int
) -> Iterator[tuple[int, bytes]]:
    """The CSV's pages (rows, bytes) written here from the rows read (any database)."""
    clock = LocalClock(ledger.tz)
    for page in ledger.entry_pages(f, page_size=page_size, before_id=before_id):
        out = io.StringIO()
        csv.writer(out).writerows(csv_rows(page, clock))
        yield len(page.rows), out.getvalue().encode("utf-8")


def can_copy(ledger: Ledger) -> bool:
    """Whether PostgreSQL can render the CSV: it knows the business time zone by its name."""
    return (
        ledger.dialect == "postgresql"
        and isinstance(ledger.tz, ZoneInfo)
        and ledger.tz.key is not None
    )


def copied_csv(
    ledger: Ledger, f: EntryFilter, before_id: int | None, page_size: int
) -> Iterator[tuple[int, bytes]]:
    """The CSV's pages (rows, bytes) as PostgreSQL writes them (``COPY … TO STDOUT (FORMAT
    csv)`` of :func:`sql_cells`): byte for byte what :func:`python_csv` writes, with
    the database doing the formatting on its own core."""
    render = sql_cells(ledger.tz.key)
    pages = ledger.copied_entry_pages(f, render, page_size=page_size, before_id=before_id)
    for rows, chunks in pages:
        yield rows, crlf(b"".join(chunks))


def crlf(data: bytes) -> bytes:
    """PostgreSQL's CSV lines end in LF, the csv module's (and so the file's) in CRLF: every
    LF outside quotes (the end of a row) becomes CRLF; a line break inside a quoted cell stays
    as it is. ``data`` is whole rows, so its quotes pair up."""
    if b'"' not in data:
        return data.replace(b"\n", b"\r\n")
    parts = data.split(b'"')
    parts[::2] = [part.replace(b"\n", b"\r\n") for part in parts[::2]]
    return b'"'.join(parts)


#: the columns that get the formula guard in SQL, as in :func:`csv_rows`
_GUARDED = frozenset(
    ("trade_no", "account_name", "shop_code", "category_name", "subject_name", "counterparty",
     "description", "remark", "source", "external_id")
)  # fmt: skip


@cache
def sql_cells(tz_name: str) -> Callable[[sa.Subquery], sa.Select]:
    """The CSV's cells as SQL over the core's export rows (:data:`EXPORT_FIELDS`), exactly
    the text :func:`csv_rows` writes: NULL is an empty cell (and an empty text is NULL:
    PostgreSQL would quote it), times ``to_char`` in the zone, money the exact numeric."""
    zone = sa.literal(tz_name, sa.Text)
    unsafe = [sa.literal_column(str(ord(c))) for c in sorted(_UNSAFE)]

    def render(rows: sa.Subquery) -> sa.Select:
        c = rows.c
        if tuple(c.keys()) != EXPORT_FIELDS:  # pragma: no cover - a change of the core's
            raise ValueError(f"export rows {tuple(c.keys())}, expected {EXPORT_FIELDS}")

        def text(name: str):
            value = sa.func.nullif(c[name], "")
            if name not in _GUARDED:
                return value
            return sa.case(  # ascii(): the first character's code, compared as integers
                (sa.func.ascii(value).in_(unsafe), sa.literal("'", sa.Text).concat(value)),
                else_=value,
            )

        def local(column):
            return sa.func.to_char(sa.func.timezone(zone, column), "YYYY-MM-DD HH24:MI:SS")

        def money(minor):
            return sa.cast(minor, sa.Numeric) * sa.literal_column("0.0001")

        cells = {
            "id": c.id,
            "trade_time": local(c.trade_time),
            "trade_no": text("trade_no"),
            "account": text("account_number"),
            "account_name": text("account_name"),
            "shop": text("shop_code"),
            "type": sa.case(TYPE_LABELS, value=c.type, else_=c.type),
            "income": sa.case((c.amount >= 0, money(c.amount))),
            "expense": sa.case((c.amount < 0, money(-c.amount))),
            "balance_after": money(c.balance_after),
            "currency": text("currency"),
            "category": text("category_name"),
            "subject": text("subject_name"),
            "counterparty": text("counterparty"),
            "description": text("description"),
            "remark": text("remark"),
            "source": text("source"),
            "external_id": text("external_id"),
            "posting_id": c.posting_id,
            "reverses_entry_id": c.reverses_entry_id,
            "recorded_at": local(c.recorded_at),
        }
        return sa.select(*(cells[col.key].label(col.key) for col in FLOW_COLUMNS)).order_by(
            c.id.desc()
        )

    return render
