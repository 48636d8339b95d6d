"""Read side of imports: stored bill rows (for the ShopEx bill methods) and import records.

Times are half-open (``start <= t < end``); an empty list in a filter matches nothing, None
means no restriction; a text filter takes one value or a list of them. Pages are newest first
(trade time, then id, descending).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.accounts import where_matching
from zhangben.core.money import from_minor
from zhangben.store.bills_tables import bill_rows, import_batches
from zhangben.store.tables import accounts, users

Values = str | Sequence[str] | None


@dataclass(frozen=True, slots=True)
class BillFilter:
    #: one platform, several, or None for every platform
    platform: Values
    imported_start: datetime | None = None
    imported_end: datetime | None = None
    trade_start: datetime | None = None
    trade_end: datetime | None = None
    bill_date_start: datetime | None = None
    bill_date_end: datetime | None = None
    account_numbers: Sequence[str] | None = None
    shop_codes: Sequence[str] | None = None
    flow_no: Values = None
    order_no: Values = None
    business_type: Values = None
    platform_account: Values = None
    ref_id: Values = None


@dataclass(frozen=True, slots=True)
class BillRecord:
    """A stored bill row with its account. Money as Decimal; ``raw`` as the file had it."""

    id: int
    platform: str
    account_number: str
    account_name: str
    account_type: str
    shop_code: str | None
    unique_key: str
    import_id: int
    entry_id: int | None
    line: int
    flow_no: str | None
    trade_time: datetime
    income: Decimal
    expense: Decimal
    balance: Decimal | None
    counterparty: str | None
    order_no: str | None
    business_type: str | None
    remark: str | None
    platform_account: str | None
    ref_id: str | None
    bill_date: date | None
    raw: dict
    imported_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ImportRecord:
    id: int
    account_number: str
    filename: str
    file_sha256: str
    format: str
    platform: str
    rows_total: int
    rows_new: int
    rows_duplicate: int
    rows_rejected: int
    continuity_breaks: int
    first_trade_time: datetime | None
    last_trade_time: datetime | None
    operator: str | None
    created_at: datetime
    status: str


def _date_bounds(start: datetime | None, end: datetime | None) -> tuple[date | None, date | None]:
    """Dates d (taken as local midnight) with start <= d < end, as [lo, hi) dates."""

    def first_on_or_after(t: datetime) -> date:
        midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
        return t.date() if t == midnight else t.date() + timedelta(days=1)

    return (
        None if start is None else first_on_or_after(start),
        None if end is None else first_on_or_after(end),
    )


def _matching(column, value: Values):
    if isinstance(value, str):
        return column == value
    return column.in_(list(value))


def _conditions(f: BillFilter) -> list:
    c = bill_rows.c
    conds = [] if f.platform is None else [_matching(c.platform, f.platform)]
    for column, lo, hi in (
        (c.imported_at, f.imported_start, f.imported_end),
        (c.trade_time, f.trade_start, f.trade_end),
    ):
        if lo is not None:
            conds.append(column >= lo)
        if hi is not None:
            conds.append(column < hi)
    lo_date, hi_date = _date_bounds(f.bill_date_start, f.bill_date_end)
    if lo_date is not None:
        conds.append(c.bill_date >= lo_date)
    if hi_date is not None:
        conds.append(c.bill_date < hi_date)
    if f.account_numbers is not None:
        conds.append(accounts.c.number.in_(list(f.account_numbers)))
    if f.shop_codes is not None:
        conds.append(accounts.c.shop_code.in_(list(f.shop_codes)))
    for column, value in (
        (c.flow_no, f.flow_no),
        (c.order_no, f.order_no),
        (c.business_type, f.business_type),
        (c.platform_account, f.platform_account),
        (c.ref_id, f.ref_id),
    ):
        if value is not None:
            conds.append(_matching(column, value))
    return conds


def bill_page(
    conn: Connection, f: BillFilter, *, limit: int = 100, offset: int = 0
) -> tuple[int, list[BillRecord]]:
    """(total matching, one page of rows newest first)."""
    conds = _conditions(f)
    joined = bill_rows.join(accounts, accounts.c.id == bill_rows.c.account_id)
    total = conn.execute(sa.select(sa.func.count()).select_from(joined).where(*conds)).scalar_one()
    query = (
        sa.select(
            bill_rows,
            accounts.c.number.label("account_number"),
            accounts.c.name.label("account_name"),
            accounts.c.type.label("account_type"),
            accounts.c.shop_code.label("shop_code"),
        )
        .select_from(joined)
        .where(*conds)
        .order_by(bill_rows.c.trade_time.desc(), bill_rows.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return total, [_record(r) for r in conn.execute(query)]


def _record(r) -> BillRecord:
    return BillRecord(
        id=r.id,
        platform=r.platform,
        account_number=r.account_number,
        account_name=r.account_name,
        account_type=r.account_type,
        shop_code=r.shop_code,
        unique_key=r.unique_key,
        import_id=r.import_id,
        entry_id=r.entry_id,
        line=r.line,
        flow_no=r.flow_no,
        trade_time=r.trade_time,
        income=from_minor(r.income),
        expense=from_minor(r.expense),
        balance=None if r.balance is None else from_minor(r.balance),
        counterparty=r.counterparty,
        order_no=r.order_no,
        business_type=r.business_type,
        remark=r.remark,
        platform_account=r.platform_account,
        ref_id=r.ref_id,
        bill_date=r.bill_date,
        raw=dict(r.raw or {}),
        imported_at=r.imported_at,
        updated_at=r.updated_at,
    )


def list_imports(
    conn: Connection,
    *,
    account_number: str | None = None,
    limit: int = 50,
    latest: bool = False,
    **accounts_matching,
) -> list[ImportRecord]:
    """Import records, newest first: of the accounts matching ``accounts_matching`` (the
    filters of :func:`zhangben.core.accounts.where_matching`: a viewer's scope, bill account
    types); ``latest``: only each account's newest record."""
    b = import_batches.c
    query = (
        sa.select(
            b.id,
            accounts.c.number,
            b.filename,
            b.file_sha256,
            b.format,
            b.platform,
            b.rows_total,
            b.rows_new,
            b.rows_duplicate,
            b.rows_rejected,
            b.continuity_breaks,
            b.first_trade_time,
            b.last_trade_time,
            users.c.username,
            b.created_at,
            b.status,
        )
        .join(accounts, accounts.c.id == b.account_id)
        .outerjoin(users, users.c.id == b.operator_id)
        .order_by(b.id.desc())
        .limit(limit)
    )
    if account_number:
        query = query.where(accounts.c.number == account_number)
    if latest:
        newest = sa.select(sa.func.max(b.id)).group_by(b.account_id)
        query = query.where(b.id.in_(newest))
    query = where_matching(query, **accounts_matching)
    return [ImportRecord(*row) for row in conn.execute(query)]


def import_totals(conn: Connection) -> list[tuple[str, str, int, int, int, int]]:
    """Per platform and status: import records, and their rows new, duplicate, rejected."""
    b = import_batches.c
    query = (
        sa.select(
            b.platform,
            b.status,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(b.rows_new), 0),
            sa.func.coalesce(sa.func.sum(b.rows_duplicate), 0),
            sa.func.coalesce(sa.func.sum(b.rows_rejected), 0),
        )
        .group_by(b.platform, b.status)
        .order_by(b.platform, b.status)
    )
    return [tuple(row) for row in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class PlatformBalance:
    """The platform's own balance column at an account's last imported row before an
    instant: the row's trade time, its balance, and which file and line it was."""

    account_number: str
    trade_time: datetime
    balance: Decimal
    import_id: int
    line: int


def platform_balances(conn: Connection, before: datetime) -> dict[str, PlatformBalance]:
    """Per account that holds imported rows with a balance column (by number): the platform's
    balance at its last such row dated before ``before``, in time order and then the order
    the rows were written (the file's chronological order, as the continuity check reads
    them). An account whose rows all come later has none."""
    b = bill_rows.c
    with_balance = (
        sa.select(import_batches.c.account_id)
        .where(import_batches.c.first_balance.is_not(None))
        .distinct()
        .subquery()
    )
    found = conn.execute(
        sa.select(accounts.c.id, accounts.c.number)
        .join(with_balance, with_balance.c.account_id == accounts.c.id)
        .order_by(accounts.c.number)
    ).all()
    out = {}
    for account_id, number in found:  # one step down ix_bill_rows_account_id_trade_time each
        row = conn.execute(
            sa.select(b.trade_time, b.balance, b.import_id, b.line)
            .where(b.account_id == account_id, b.balance.is_not(None), b.trade_time < before)
            .order_by(b.trade_time.desc(), b.id.desc())
            .limit(1)
        ).first()
        if row is not None:
            out[number] = PlatformBalance(
                number, row.trade_time, from_minor(row.balance), row.import_id, row.line
            )
    return out
