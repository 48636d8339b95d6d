"""Read side: flows with filters and paging, single entries, balances as of an instant."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zhangben.core.errors import EntryNotFound
from zhangben.core.money import from_minor
from zhangben.core.records import Entry, Page
from zhangben.store.tables import accounts, chart, entries

ENTRY_TYPES = ("income", "expense", "transfer_in", "transfer_out", "reversal")

_names_cache: weakref.WeakKeyDictionary[Engine, dict[int, str]] = weakref.WeakKeyDictionary()


def chart_names(conn: Connection, *, refresh: bool = False) -> dict[int, str]:
    """id → name of every category and subject, cached per engine (the chart changes rarely;
    a miss reloads it)."""
    names = _names_cache.get(conn.engine)
    if names is None or refresh:
        names = dict(conn.execute(sa.select(chart.c.id, chart.c.name)).all())
        _names_cache[conn.engine] = names
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


_COLUMNS = (
    entries,
    accounts.c.number.label("account_number"),
    accounts.c.name.label("account_name"),
    accounts.c.currency.label("currency"),
    accounts.c.shop_code.label("shop_code"),
)


def _base_query(columns=_COLUMNS) -> sa.Select:
    return sa.select(*columns).select_from(
        entries.join(accounts, accounts.c.id == entries.c.account_id)
    )


def _where(query: sa.Select, f: EntryFilter) -> sa.Select:
    if f.account_ids is not None:
        query = query.where(entries.c.account_id.in_(list(f.account_ids)))
    if f.account_numbers is not None:
        query = query.where(accounts.c.number.in_(list(f.account_numbers)))
    if f.start is not None:
        query = query.where(entries.c.trade_time >= f.start)
    if f.end is not None:
        query = query.where(entries.c.trade_time < f.end)
    if f.types:
        query = query.where(entries.c.type.in_(list(f.types)))
    if f.category_ids:
        query = query.where(entries.c.category_id.in_(list(f.category_ids)))
    if f.subject_ids:
        query = query.where(entries.c.subject_id.in_(list(f.subject_ids)))
    if f.shop_codes is not None:
        query = query.where(accounts.c.shop_code.in_(list(f.shop_codes)))
    if f.sources:
        query = query.where(entries.c.source.in_(list(f.sources)))
    if f.owner_user_id is not None:
        query = query.where(accounts.c.owner_user_id == f.owner_user_id)
    if f.posting_id is not None:
        query = query.where(entries.c.posting_id == f.posting_id)
    return query


def entry_from_row(row, names: dict[int, str]) -> Entry:
    return Entry(
        id=row.id,
        posting_id=row.posting_id,
        account_id=row.account_id,
        account_number=row.account_number,
        account_name=row.account_name,
        type=row.type,
        amount=from_minor(row.amount),
        balance_after=from_minor(row.balance_after),
        trade_no=row.trade_no,
        trade_time=row.trade_time,
        recorded_at=row.recorded_at,
        operator_id=row.operator_id,
        category_id=row.category_id,
        subject_id=row.subject_id,
        category_name=names.get(row.category_id),
        subject_name=names.get(row.subject_id),
        counterparty=row.counterparty,
        description=row.description,
        remark=row.remark,
        source=row.source,
        external_id=row.external_id,
        reverses_entry_id=row.reverses_entry_id,
        platform_balance=None if row.platform_balance is None else from_minor(row.platform_balance),
        currency=row.currency,
        shop_code=row.shop_code,
    )


def _materialise(conn: Connection, rows) -> list[Entry]:
    rows = list(rows)
    names = chart_names(conn)
    wanted = {r.category_id for r in rows} | {r.subject_id for r in rows}
    if any(i is not None and i not in names for i in wanted):
        names = chart_names(conn, refresh=True)
    return [entry_from_row(r, names) for r in rows]


def count_entries(conn: Connection, f: EntryFilter) -> int:
    query = _where(_base_query((sa.func.count(),)), f)
    return conn.execute(query).scalar_one()


def list_entries(
    conn: Connection,
    f: EntryFilter = EntryFilter(),  # noqa: B008 - frozen dataclass, safe default
    *,
    limit: int = 50,
    offset: int = 0,
    before_id: int | None = None,
    with_total: bool = True,
) -> Page:
    """Newest first (by entry id). Offset paging, or keyset paging with ``before_id``."""
    query = _where(_base_query(), f)
    if before_id is not None:
        query = query.where(entries.c.id < before_id)
    query = query.order_by(entries.c.id.desc()).limit(limit + 1).offset(offset)
    items = _materialise(conn, conn.execute(query))
    more = len(items) > limit
    items = items[:limit]
    total = count_entries(conn, f) if with_total else None
    return Page(items, total, items[-1].id if more and items else None)


def get_entry(conn: Connection, entry_id: int) -> Entry:
    rows = _materialise(conn, conn.execute(_base_query().where(entries.c.id == entry_id)))
    if not rows:
        raise EntryNotFound(f"entry {entry_id} does not exist")
    return rows[0]


def entries_of_posting(conn: Connection, posting_id: int) -> list[Entry]:
    query = _base_query().where(entries.c.posting_id == posting_id).order_by(entries.c.id)
    return _materialise(conn, conn.execute(query))


def balance_as_of(conn: Connection, account_id: int, instant: datetime) -> Decimal:
    """The balance from every entry whose trade time is at or before ``instant``."""
    total = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(entries.c.amount), 0)).where(
            entries.c.account_id == account_id, entries.c.trade_time <= instant
        )
    ).scalar_one()
    return from_minor(int(total))
