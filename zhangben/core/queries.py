"""Read side: flows with filters and paging, single entries, balances as of an instant."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zhangben.core.errors import EntryNotFound, ValidationError
from zhangben.core.money import MAX_BALANCE_MINOR, from_minor
from zhangben.core.records import Entry, Page
from zhangben.store.bills_tables import bill_rows
from zhangben.store.engine import read_statement
from zhangben.store.tables import accounts, chart, entries, postings
from zhangben.store.types import UTCDateTime

ENTRY_TYPES = ("income", "expense", "transfer_in", "transfer_out", "reversal")
#: List orders: newest first by entry id (the default), or by trade time then id, oldest first.
ORDERS = ("id_desc", "time_asc")
#: An entry's direction: money into the account (amount > 0) or out of it (amount < 0).
DIRECTIONS = ("in", "out")

_names_cache: weakref.WeakKeyDictionary[Engine, dict[int, str]] = weakref.WeakKeyDictionary()


def chart_names(conn: Connection, *, refresh: bool = False) -> dict[int, str]:
    """id → name of every category and subject, cached per engine (the chart changes rarely;
    a miss reloads it)."""
    names = _names_cache.get(conn.engine)
    if names is None or refresh:
        names = dict(conn.execute(sa.select(chart.c.id, chart.c.name)).all())
        _names_cache[conn.engine] = names
    return names


def names_for(engine: Engine, ids: Sequence[int]) -> dict[int, str]:
    """The chart names, from the cache when it knows every id in ``ids``, else reloaded."""
    names = _names_cache.get(engine)
    if names is None or any(i not in names for i in ids):
        with engine.connect() as conn:
            names = chart_names(conn, refresh=True)
    return names


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """Filters shared by every surface. Times are half-open: ``start <= trade_time < end``."""

    account_ids: Sequence[int] | None = None
    account_numbers: Sequence[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    types: Sequence[str] | None = None
    category_ids: Sequence[int] | None = None
    subject_ids: Sequence[int] | None = None
    shop_codes: Sequence[str] | None = None
    sources: Sequence[str] | None = None
    owner_user_id: int | None = None
    posting_id: int | None = None
    #: only entries with ``id <= max_id``: a page over the ledger as it was (stable paging)
    max_id: int | None = None
    #: ``in`` (amount > 0) or ``out`` (amount < 0)
    direction: str | None = None
    # finding a flow, each an exact match: the trade number (交易号), the platform flow number
    # or a caller's external id (账务流水号), a bill row's merchant order number (商户订单号),
    # the counterparty (对方); ``find`` matches any of the four
    trade_no: str | None = None
    external_id: str | None = None
    order_no: str | None = None
    counterparty: str | None = None
    find: str | None = None


_COLUMNS = (
    entries,
    accounts.c.number.label("account_number"),
    accounts.c.name.label("account_name"),
    accounts.c.currency.label("currency"),
    accounts.c.shop_code.label("shop_code"),
)


#: The fields of a raw row (:func:`entry_pages`), in order: the entries columns, then the
#: account's number, name, currency and shop code. Money is in minor units, instants are aware.
ROW_FIELDS: tuple[str, ...] = (
    *(c.name for c in entries.columns),
    "account_number",
    "account_name",
    "currency",
    "shop_code",
)


def _base_query(columns=_COLUMNS) -> sa.Select:
    return sa.select(*columns).select_from(
        entries.join(accounts, accounts.c.id == entries.c.account_id)
    )


def _direction(direction: str):
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
    zero = sa.literal_column("0")  # inline: list statements run with their own binds only
    return entries.c.amount > zero if direction == "in" else entries.c.amount < zero


def entry_from_row(row, names: dict[int, str]) -> Entry:
    return _entries_from_rows([tuple(row)], names)[0]


def _entries_from_rows(rows: Sequence[tuple], names: dict[int, str]) -> list[Entry]:
    """Tuples in ``_COLUMNS`` order → entries. Plain tuples and positional arguments: on a page
    of 50, per-row attribute lookups cost more than the query itself."""
    out = []
    append = out.append
    for (
        id_, posting, account, type_, amount, after, trade_no, trade_time, recorded_at,
        operator, category, subject, counterparty, description, remark, source, external,
        reverses, platform, number, name, currency, shop,
    ) in rows:  # fmt: skip
        append(
            Entry(
                id_,
                posting,
                account,
                number,
                name,
                type_,
                from_minor(amount),
                from_minor(after),
                trade_no,
                trade_time.astimezone(UTC),
                recorded_at.astimezone(UTC),
                operator,
                category,
                subject,
                names.get(category),
                names.get(subject),
                counterparty,
                description,
                remark,
                source,
                external,
                reverses,
                None if platform is None else from_minor(platform),
                currency,
                shop,
            )  # fmt: skip
        )
    return out


def _materialise(conn: Connection, rows) -> list[Entry]:
    rows = [tuple(r) for r in rows]
    names = chart_names(conn)
    wanted = {r[10] for r in rows} | {r[11] for r in rows}  # category_id, subject_id
    if any(i is not None and i not in names for i in wanted):
        names = chart_names(conn, refresh=True)
    return _entries_from_rows(rows, names)


# (filter shape, keyset?, with total?, order) → the statement with bind parameters for every value:
# building a Select with its subqueries and computing its cache key cost several times the
# query itself, so each shape is built once per process and reused.
_LIST_STATEMENTS: dict[tuple, sa.Select] = {}
_LIST_FILTERS = (
    # (field, column, how the field is tested: None-check or truthiness)
    ("account_ids", entries.c.account_id, "given"),
    ("start", entries.c.trade_time, "given"),
    ("end", entries.c.trade_time, "given"),
    ("types", entries.c.type, "truthy"),
    ("category_ids", entries.c.category_id, "truthy"),
    ("subject_ids", entries.c.subject_id, "truthy"),
    ("shop_codes", accounts.c.shop_code, "given"),
    ("sources", entries.c.source, "truthy"),
    ("owner_user_id", accounts.c.owner_user_id, "given"),
    ("posting_id", entries.c.posting_id, "given"),
    ("max_id", entries.c.id, "given"),
    ("trade_no", postings.c.trade_no, "given"),
    ("external_id", entries.c.external_id, "given"),
    ("order_no", bill_rows.c.order_no, "given"),
    ("counterparty", entries.c.counterparty, "given"),
    ("find", None, "given"),
)


def _found_by(field: str) -> sa.ColumnElement[bool]:
    """The condition of a find filter, each answered by an index: a trade number through its
    postings (``ix_postings_trade_no``, then ``ix_entries_posting_id``), an order number through
    its bill rows (``ix_bill_rows_order_no``), an external id or a counterparty on the entries
    (partial indexes, ``0013_find_flows``). ``find`` is the union of the four."""
    value = sa.bindparam(f"zb_{field}")
    if field in ("external_id", "counterparty"):
        return entries.c[field] == value
    found = entries.alias("found")  # never correlated with the outer query's entries
    by_trade = sa.select(found.c.id).where(
        found.c.posting_id.in_(sa.select(postings.c.id).where(postings.c.trade_no == value))
    )
    by_order = sa.select(bill_rows.c.entry_id).where(bill_rows.c.order_no == value)
    if field == "trade_no":
        return entries.c.id.in_(by_trade)
    if field == "order_no":
        return entries.c.id.in_(by_order)
    return entries.c.id.in_(
        sa.union_all(
            by_trade,
            by_order,
            sa.select(found.c.id).where(found.c.external_id == value),
            sa.select(found.c.id).where(found.c.counterparty == value),
        )
    )


def _present(f: EntryFilter, field: str, test: str) -> bool:
    value = getattr(f, field)
    return value is not None if test == "given" else bool(value)


def _conditions(numbers: str | None, present: tuple[bool, ...], direction: str | None) -> list:
    conditions = []
    if numbers == "one":
        wanted = sa.select(accounts.c.id).where(accounts.c.number == sa.bindparam("zb_number"))
        # as a filter on entries.account_id (one id, looked up first), so that PostgreSQL
        # walks the (account_id, id) index backwards instead of sorting the account's flow
        conditions.append(entries.c.account_id == wanted.scalar_subquery())
    elif numbers == "many":
        conditions.append(accounts.c.number.in_(sa.bindparam("zb_numbers", expanding=True)))
    for (field, column, _), on in zip(_LIST_FILTERS, present, strict=True):
        if not on:
            continue
        if field == "start":
            conditions.append(column >= sa.bindparam("zb_start", type_=column.type))
        elif field == "end":
            conditions.append(column < sa.bindparam("zb_end", type_=column.type))
        elif field == "max_id":
            conditions.append(column <= sa.bindparam("zb_max_id", type_=sa.BigInteger))
        elif field in ("owner_user_id", "posting_id"):
            conditions.append(column == sa.bindparam(f"zb_{field}"))
        elif field in ("trade_no", "external_id", "order_no", "counterparty", "find"):
            conditions.append(_found_by(field))
        else:
            conditions.append(column.in_(sa.bindparam(f"zb_{field}", expanding=True)))
    if direction is not None:
        conditions.append(_direction(direction))
    return conditions


def _list_statement(shape: tuple) -> sa.Select:
    numbers, present, direction, keyset, with_total, order = shape
    conditions = _conditions(numbers, present, direction)
    if with_total == "only":
        return _base_query((sa.func.count(),)).where(*conditions)
    if with_total == "sums":
        # each sum split as high × 10⁹ + low (see _SPLIT): no overflow on SQLite
        zero = sa.literal_column("0")
        into = sa.case((entries.c.amount > zero, entries.c.amount), else_=zero)
        out = sa.case((entries.c.amount < zero, -entries.c.amount), else_=zero)
        split = sa.literal_column(str(_SPLIT), sa.BigInteger)  # inline, as every constant here
        sums = [sa.func.count()]
        for part in (into // split, into % split, out // split, out % split):
            sums.append(sa.func.coalesce(sa.func.sum(part), zero))
        return _base_query(sums).where(*conditions)
    if with_total == "stream":
        # an export's page: one step, walking an index backwards from the cursor (an IN over
        # thousands of ids would be hashed against a scan of the whole table, every page)
        if keyset:
            conditions.append(entries.c.id < sa.bindparam("zb_before"))
        return (
            _base_query()
            .where(*conditions)
            .order_by(entries.c.id.desc())
            .limit(sa.bindparam("zb_limit", type_=sa.BigInteger))
        )

    def ordered(columns):
        if order == "time_asc":
            return (columns.trade_time.asc(), columns.id.asc())
        return (columns.id.desc(),)

    # two steps: the page's ids first — from indexes alone where they cover the filter, e.g.
    # (account_id, trade_time, id) — then only those rows; otherwise every row the offset
    # skips (and every row a time filter rejects) is fetched from the heap
    ids = _base_query((entries.c.id,)).where(*conditions)
    if keyset:
        ids = ids.where(entries.c.id < sa.bindparam("zb_before"))
    ids = (
        ids.order_by(*ordered(entries.c))
        # bigint: an offset past 2³¹ (page 30,000,000 of 100) is an empty page on PostgreSQL
        # as on SQLite, not an integer out of range
        .limit(sa.bindparam("zb_limit", type_=sa.BigInteger))
        .offset(sa.bindparam("zb_offset", type_=sa.BigInteger))
    )
    page = _base_query().where(entries.c.id.in_(ids)).order_by(*ordered(entries.c))
    if not with_total:
        return page
    sub = page.subquery("page")
    totals = [sa.func.count().label("zb_total")]
    if order == "time_asc":  # the snapshot bound of stable paging (Page.max_id)
        totals.append(sa.func.max(entries.c.id).label("zb_max_id"))
    counted = _base_query(totals).where(*conditions).subquery("counted")
    return (
        sa.select(*counted.c, *sub.c)
        .select_from(counted.outerjoin(sub, sa.true()))
        .order_by(*ordered(sub.c))
    )


def list_entries(
    conn: Connection,
    f: EntryFilter = EntryFilter(),  # noqa: B008 - frozen dataclass, safe default
    *,
    limit: int = 50,
    offset: int = 0,
    before_id: int | None = None,
    with_total: bool = True,
    order: str = "id_desc",
) -> Page:
    """Newest first (by entry id), or with ``order="time_asc"`` by trade time then id, oldest
    first. Offset paging, or (newest first only) keyset paging with ``before_id``.

    With the total, the page and the count are ONE statement (the count left-joined to the
    page), so both come from the same snapshot in one round trip even past the last page.
    In time order it also gives ``Page.max_id``, the highest id of every matching entry: the
    bound (``EntryFilter.max_id``) that keeps later pages to the same rows."""
    statement, params = list_statement(f, limit, offset, before_id, with_total, order)
    result = _fetch(conn, statement, params)
    total = max_id = None
    if with_total:
        skip = 2 if order == "time_asc" else 1
        total = int(result[0][0]) if result else 0
        if skip == 2:
            max_id = 0 if not result or result[0][1] is None else int(result[0][1])
        result = [r[skip:] for r in result if r[skip] is not None]
    items = _materialise(conn, result)
    more = len(items) > limit
    items = items[:limit]
    return Page(items, total, items[-1].id if more and items else None, max_id)


def count_entries(conn: Connection, f: EntryFilter) -> int:
    """How many entries match ``f``."""
    statement, params = list_statement(f, 0, 0, None, "only")
    return int(_fetch(conn, statement, params)[0][0])


@dataclass(frozen=True, slots=True)
class Totals:
    """What every entry matching a filter adds up to: their count, the money in and the
    money out (both positive)."""

    count: int
    income: Decimal
    expense: Decimal

    @property
    def net(self) -> Decimal:
        return self.income - self.expense


def sum_entries(conn: Connection, f: EntryFilter) -> Totals:
    """The count and the sums in and out of the entries matching ``f`` (one statement)."""
    statement, params = list_statement(f, 0, 0, None, "sums")
    count, in_high, in_low, out_high, out_low = _fetch(conn, statement, params)[0]
    return Totals(
        int(count),
        from_minor(int(in_high) * _SPLIT + int(in_low)),
        from_minor(int(out_high) * _SPLIT + int(out_low)),
    )


@dataclass(frozen=True, slots=True)
class RowPage:
    """Raw rows (fields :data:`ROW_FIELDS`) and the chart's names for their ids."""

    rows: list[tuple]
    names: dict[int, str]


def entry_pages(
    engine: Engine,
    f: EntryFilter,
    *,
    page_size: int = 5000,
    before_id: int | None = None,
) -> Iterator[RowPage]:
    """Every entry matching ``f``, newest first, as pages of raw rows: what an export
    streams. The rows are the pages of :func:`list_entries` (the same statement, keyset
    paging), not turned into :class:`Entry` records, which would cost more than writing them
    out. Each page is a read of its own (one statement), so that a slow reader holds no
    connection and no snapshot between pages: the export holds every entry committed before
    it began, none twice; entries posted meanwhile have larger ids and are not in it (a
    posting still being written when it began may be). One page is read ahead, in a thread:
    at most two pages are in memory."""

    def read(before: int | None) -> RowPage:
        statement, params = list_statement(f, page_size - 1, 0, before, "stream")
        with read_statement(engine) as conn:
            rows = _fetch(conn, statement, params, binary=True)
            names = chart_names(conn)
            wanted = {r[10] for r in rows} | {r[11] for r in rows}  # category_id, subject_id
            if any(i is not None and i not in names for i in wanted):
                names = chart_names(conn, refresh=True)
        return RowPage(rows, names)

    # the next page is read (by the database, on its own core) while this one is written out
    with ThreadPoolExecutor(1, thread_name_prefix="zb-export") as ahead:
        page = read(before_id)
        while page.rows:
            full = len(page.rows) == page_size
            upcoming = ahead.submit(read, page.rows[-1][0]) if full else None
            yield page
            if upcoming is None:
                return
            page = upcoming.result()


#: The fields of an export statement (:func:`export_statement`): a raw row's, then the names
#: of its category and subject.
EXPORT_FIELDS: tuple[str, ...] = (*ROW_FIELDS, "category_name", "subject_name")


def export_statement(
    f: EntryFilter, *, below: int | None = None, limit: int | None = None
) -> tuple[sa.Select, dict]:
    """The entries matching ``f`` with ``id < below``, newest first, at most ``limit``, fields
    :data:`EXPORT_FIELDS`: an export's page (:func:`entry_pages`'s statement, the list's
    filter: the conditions are built here only), as one statement for the database to turn
    into a file itself (a ``COPY``, :func:`copied_pages`)."""
    stream, params = list_statement(f, (limit or 1) - 1, 0, below, "stream")
    if limit is None:
        params.pop("zb_limit")
    statement = _EXPORT_STATEMENTS.get((stream, limit is not None))
    if statement is None:
        category, subject = chart.alias("category"), chart.alias("subject")
        page = (stream if limit is not None else stream.limit(None)).subquery("page")
        statement = (
            sa.select(
                *page.c,
                category.c.name.label("category_name"),
                subject.c.name.label("subject_name"),
            )
            .select_from(
                page.outerjoin(category, category.c.id == page.c.category_id).outerjoin(
                    subject, subject.c.id == page.c.subject_id
                )
            )
            .order_by(page.c.id.desc())
        )
        statement = _EXPORT_STATEMENTS.setdefault((stream, limit is not None), statement)
    return statement, params


_EXPORT_STATEMENTS: dict[tuple, sa.Select] = {}


def copied_pages(
    engine: Engine,
    f: EntryFilter,
    render: Callable[[sa.Subquery], sa.Select],
    *,
    page_size: int = 5000,
    before_id: int | None = None,
) -> Iterator[tuple[int, list[bytes]]]:
    """PostgreSQL only: the pages of :func:`entry_pages`, turned into a file by the database.
    ``render(rows)`` turns the subquery of :func:`export_statement` into the file's cells, the
    entry id first; each page is ``COPY (that) TO STDOUT (FORMAT csv)``, yielded as (rows, the
    rows' bytes). The same keyset pages as :func:`entry_pages` (the cursor is the first cell
    of a page's last row: PostgreSQL sends a COPY's rows one message each), each a read of
    its own, read whole before it is handed on (a slow reader holds no connection), the next
    one read ahead in a thread."""

    def read(below: int | None) -> tuple[int, list[bytes]]:
        statement, params = export_statement(f, below=below, limit=page_size)
        with read_statement(engine) as conn:
            copy, text, bound = _COPIES.get((statement, render), (None, None, {}))
            lists = any(isinstance(v, list) for v in params.values())
            if text is None or lists:
                copy = copy if copy is not None else render(statement.subquery("entry"))
                compiled = copy.params(params).compile(
                    dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
                )
                text, bound = compiled.string, compiled.params
                if not lists:  # an expanded list is one bind per item: compiled each time
                    _COPIES[(statement, render)] = (copy, text, bound)
            else:
                bound = {**bound, **params}
            bound = {
                k: _INSTANT.process_bind_param(v, conn.dialect) if isinstance(v, datetime) else v
                for k, v in bound.items()
            }
            with (
                conn.connection.driver_connection.cursor() as cursor,
                cursor.copy(f"COPY ({text}) TO STDOUT (FORMAT csv)", bound) as out,
            ):
                rows = [bytes(data) for data in out]
        return len(rows), rows

    with ThreadPoolExecutor(1, thread_name_prefix="zb-export") as ahead:
        count, rows = read(before_id)
        while True:
            upcoming = None
            if count == page_size:
                last_id = int(rows[-1].split(b",", 1)[0])
                upcoming = ahead.submit(read, last_id)
            yield count, rows
            if upcoming is None:
                return
            count, rows = upcoming.result()


#: (export statement, render) → the COPY's select and its SQL, built once
_COPIES: dict[tuple, tuple] = {}


_SQL_TEXT: weakref.WeakKeyDictionary[sa.Select, str] = weakref.WeakKeyDictionary()


def _fetch(
    conn: Connection, statement: sa.Select, params: dict, *, binary: bool = False
) -> list[tuple]:
    """Rows of a list statement as plain tuples. On PostgreSQL, when every parameter is a
    scalar, the statement's SQL (compiled once) runs straight on the driver: SQLAlchemy's
    per-execution set-up and per-row result processing cost more than the query on a page of
    50. Instants are bound as UTCDateTime binds them; rows convert instants themselves.
    ``binary``: rows in PostgreSQL's binary format (cheaper to read for thousands of rows)."""
    if conn.dialect.name != "postgresql" or any(isinstance(v, list) for v in params.values()):
        return [tuple(r) for r in conn.execute(statement, params)]
    text = _SQL_TEXT.get(statement)
    if text is None:
        text = _SQL_TEXT.setdefault(statement, str(statement.compile(dialect=conn.dialect)))
    bound = {
        k: _INSTANT.process_bind_param(v, conn.dialect) if isinstance(v, datetime) else v
        for k, v in params.items()
    }
    return conn.connection.driver_connection.execute(text, bound, binary=binary).fetchall()


_INSTANT = UTCDateTime()


def list_statement(
    f: EntryFilter,
    limit: int,
    offset: int,
    before_id: int | None,
    with_total: bool | str,
    order: str = "id_desc",
) -> tuple[sa.Select, dict]:
    """The statement of :func:`list_entries` and its parameters (also used by the benchmarks
    to run the very same SQL directly). ``with_total="only"``: the count alone; ``"sums"``:
    the count and the sums in and out (:func:`sum_entries`); ``"stream"``: a keyset page in
    one step, without offset, newest first (:func:`entry_pages`)."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, not {order!r}")
    if before_id is not None and order != "id_desc":
        raise ValueError("keyset paging (before_id) is newest first only")
    if f.direction is not None and f.direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {f.direction!r}")
    numbers = None
    params: dict = {"zb_limit": limit + 1, "zb_offset": offset}
    if f.account_numbers is not None:
        wanted = list(f.account_numbers)
        numbers = "one" if len(wanted) == 1 else "many"
        params["zb_number" if numbers == "one" else "zb_numbers"] = (
            wanted[0] if numbers == "one" else wanted
        )
    present = tuple(_present(f, field, test) for field, _, test in _LIST_FILTERS)
    for (field, _, _), on in zip(_LIST_FILTERS, present, strict=True):
        if on:
            value = getattr(f, field)
            params[f"zb_{field}"] = list(value) if isinstance(value, list | tuple) else value
    if before_id is not None:
        params["zb_before"] = before_id
    shape = (numbers, present, f.direction, before_id is not None, with_total, order)
    statement = _LIST_STATEMENTS.get(shape)
    if statement is None:
        statement = _LIST_STATEMENTS.setdefault(shape, _list_statement(shape))
    return statement, params


def get_entry(conn: Connection, entry_id: int) -> Entry:
    rows = _materialise(conn, conn.execute(_base_query().where(entries.c.id == entry_id)))
    if not rows:
        raise EntryNotFound(f"entry {entry_id} does not exist")
    return rows[0]


def entries_of_posting(conn: Connection, posting_id: int) -> list[Entry]:
    query = _base_query().where(entries.c.posting_id == posting_id).order_by(entries.c.id)
    return _materialise(conn, conn.execute(query))


#: Each amount split as ``high × 10⁹ + low`` (both truncated towards zero, as ``/`` and ``%``
#: are on integers in SQLite and PostgreSQL): the two sums stay far inside int64 however many
#: entries there are, where a plain SUM overflows on SQLite (even when the result would fit)
#: and is exact but unbounded on PostgreSQL.
_SPLIT = 10**9


def balance_as_of(conn: Connection, account_id: int, instant: datetime) -> Decimal:
    """The balance from every entry whose trade time is at or before ``instant``.

    Back-dated entries can make that sum larger than any balance the account ever held. Past
    the ledger's limit (R11: ±:data:`~zhangben.core.money.MAX_BALANCE_MINOR`) it is refused
    the same way on both databases."""
    high, low = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(entries.c.amount // _SPLIT), 0),
            sa.func.coalesce(sa.func.sum(entries.c.amount % _SPLIT), 0),
        ).where(entries.c.account_id == account_id, entries.c.trade_time <= instant)
    ).one()
    total = int(high) * _SPLIT + int(low)
    if abs(total) > MAX_BALANCE_MINOR:
        limit = from_minor(MAX_BALANCE_MINOR)
        raise ValidationError(
            "as_of",
            f"the balance as of this instant is beyond the ledger's limit of ±{limit}",
        )
    return from_minor(total)
