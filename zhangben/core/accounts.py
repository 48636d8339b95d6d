"""Accounts: opening, closing, looking up. Balances change only through :mod:`posting`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.errors import AccountNotFound, Conflict, ValidationError
from zhangben.core.money import from_minor
from zhangben.core.records import Account, Page
from zhangben.store.engine import sync_sequence
from zhangben.store.tables import accounts

_NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def account_from_row(row) -> Account:
    return Account(
        id=row.id,
        number=row.number,
        name=row.name,
        type=row.type,
        currency=row.currency,
        shop_code=row.shop_code,
        owner_user_id=row.owner_user_id,
        status=row.status,
        allow_overdraft=bool(row.allow_overdraft),
        balance=from_minor(row.balance),
        created_at=row.created_at,
        closed_at=row.closed_at,
    )


def open_account(
    conn: Connection,
    *,
    number: str,
    name: str,
    type: str = "main",
    currency: str = "CNY",
    shop_code: str | None = None,
    owner_user_id: int | None = None,
    allow_overdraft: bool = False,
    id: int | None = None,
) -> Account:
    number = (number or "").strip()
    if not _NUMBER_RE.match(number):
        raise ValidationError(
            "number",
            f"{number!r} is not a valid account number (1-64 letters, digits, '.', '_' or '-')",
        )
    if not (name or "").strip():
        raise ValidationError("name", "must not be empty")
    currency = (currency or "").strip().upper()
    if not _CURRENCY_RE.match(currency):
        raise ValidationError("currency", f"{currency!r} is not an ISO 4217 code like CNY")
    if not (type or "").strip() or len(type) > 32:
        raise ValidationError("type", "must be 1-32 characters")
    if conn.execute(sa.select(accounts.c.id).where(accounts.c.number == number)).first():
        raise Conflict(f"account {number} already exists")
    values = dict(
        number=number,
        name=name.strip(),
        type=type.strip(),
        currency=currency,
        shop_code=(shop_code or None),
        owner_user_id=owner_user_id,
        allow_overdraft=allow_overdraft,
        balance=0,
        status="open",
        created_at=datetime.now(UTC),
    )
    if id is not None:
        values["id"] = id
    new_id = conn.execute(accounts.insert().values(**values).returning(accounts.c.id)).scalar_one()
    if id is not None:
        sync_sequence(conn, accounts)
    return get_account(conn, new_id)


def get_account(conn: Connection, ref: int | str) -> Account:
    """Look an account up by internal id (int) or by account number (str)."""
    column = accounts.c.id if isinstance(ref, int) else accounts.c.number
    row = conn.execute(sa.select(accounts).where(column == ref)).first()
    if row is None:
        raise AccountNotFound(ref)
    return account_from_row(row)


def where_matching(
    query: sa.Select,
    *,
    numbers: Sequence[str] | None = None,
    type: str | None = None,
    types: Sequence[str] | None = None,
    shop_codes: Sequence[str] | None = None,
    owner_user_id: int | None = None,
    owned: bool = False,
    status: str | None = None,
    ids: Sequence[int] | None = None,
    find: str | None = None,
) -> sa.Select:
    """``query`` narrowed to the accounts that match every filter given: ``owned`` those
    with an owner; ``find`` a number or name that contains it (any case)."""
    if numbers is not None:
        query = query.where(accounts.c.number.in_(list(numbers)))
    if ids is not None:
        query = query.where(accounts.c.id.in_(list(ids)))
    if type:
        query = query.where(accounts.c.type == type)
    if types is not None:
        query = query.where(accounts.c.type.in_(list(types)))
    if shop_codes is not None:
        query = query.where(accounts.c.shop_code.in_(list(shop_codes)))
    if owner_user_id is not None:
        query = query.where(accounts.c.owner_user_id == owner_user_id)
    if owned:
        query = query.where(accounts.c.owner_user_id.is_not(None))
    if status:
        query = query.where(accounts.c.status == status)
    if find:
        query = query.where(
            sa.or_(
                accounts.c.number.icontains(find, autoescape=True),
                accounts.c.name.icontains(find, autoescape=True),
            )
        )
    return query


def list_accounts(conn: Connection, **filters) -> list[Account]:
    """Every account that matches ``filters`` (those of :func:`where_matching`), by id."""
    query = where_matching(sa.select(accounts).order_by(accounts.c.id), **filters)
    return [account_from_row(r) for r in conn.execute(query)]


def account_page(
    conn: Connection, *, after_id: int | None = None, limit: int = 100, **filters
) -> Page:
    """One page of the accounts that match ``filters``, by id, from after ``after_id``
    (keyset): ``Page(items, total of every match, next_cursor)``, the cursor being the id to
    give as ``after_id`` for the next page (None on the last)."""
    query = where_matching(sa.select(accounts), **filters)
    if after_id is not None:  # any cursor a URL can carry, past the ids' int4 range too
        query = query.where(accounts.c.id > sa.literal(after_id, sa.BigInteger))
    rows = conn.execute(query.order_by(accounts.c.id).limit(limit + 1)).all()
    count = where_matching(sa.select(sa.func.count()).select_from(accounts), **filters)
    items = [account_from_row(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items, int(conn.execute(count).scalar_one()), items[-1].id if more else None)


#: sums of balances split as high × 10⁹ + low: no overflow on SQLite
_SPLIT = 10**9


def balance_groups(conn: Connection, **filters) -> list[tuple[str | None, str, str, int, Decimal]]:
    """``(shop code, type, currency, accounts, sum of their balances)`` of the accounts that
    match ``filters``, by shop, type and currency (money of two currencies is never added):
    one aggregate, however many accounts."""
    split = sa.literal_column(str(_SPLIT), sa.BigInteger)  # inline, a constant
    balance = accounts.c.balance
    query = where_matching(
        sa.select(
            accounts.c.shop_code,
            accounts.c.type,
            accounts.c.currency,
            sa.func.count(),
            sa.func.sum(balance // split),
            sa.func.sum(balance % split),
        ).group_by(accounts.c.shop_code, accounts.c.type, accounts.c.currency),
        **filters,
    )
    return [
        (shop, type_, currency, int(n), from_minor(int(high) * _SPLIT + int(low)))
        for shop, type_, currency, n, high, low in conn.execute(query)
    ]


def close_account(conn: Connection, ref: int | str) -> Account:
    """Close an account: it refuses postings from now on and keeps its history."""
    account = get_account(conn, ref)
    if account.is_open:
        conn.execute(
            accounts.update()
            .where(accounts.c.id == account.id)
            .values(status="closed", closed_at=datetime.now(UTC))
        )
    return get_account(conn, account.id)
