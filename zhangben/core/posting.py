"""Postings: income, expense, transfer and reversal, each one atomic write.

A posting is planned in Python (:class:`PostingRequest`, a list of :class:`Leg`) and then
executed by :func:`execute` inside one write transaction:

1. an idempotency key that was seen before returns the first result (or a conflict);
2. the affected account rows are locked in id order (``FOR UPDATE``; SQLite's
   ``BEGIN IMMEDIATE`` already holds the write lock), so concurrent postings serialise per
   account and cannot deadlock;
3. every check runs (open, currency, overdraft) before anything is written;
4. one ``postings`` row, the entries with their balance-after, and the new balances.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core import chart as chart_ids
from zhangben.core.errors import (
    AccountClosed,
    AccountNotFound,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientFunds,
    SameAccount,
    ValidationError,
)
from zhangben.core.money import MAX_BALANCE_MINOR, format_amount, from_minor, to_minor
from zhangben.core.queries import chart_names, entries_of_posting
from zhangben.core.records import Entry, PostingResult
from zhangben.store.tables import accounts, postings


@dataclass(slots=True)
class Leg:
    """One account movement. ``delta`` is signed minor units: + into the account."""

    account: int | str
    delta: int
    type: str
    category_id: int | None = None
    subject_id: int | None = None
    counterparty: str | None = None
    description: str = ""
    reverses_entry_id: int | None = None
    platform_balance: int | None = None
    #: For transfers: the other leg's account; its number becomes ``counterparty``.
    counterparty_account: int | str | None = None


@dataclass(slots=True)
class PostingRequest:
    kind: str
    legs: list[Leg]
    trade_no: str | None = None
    trade_time: datetime | None = None
    operator_id: int | None = None
    remark: str = ""
    source: str = "manual"
    external_id: str | None = None
    idempotency_key: str | None = None
    reverses_posting_id: int | None = None
    #: The caller-provided fields: two requests with the same key must have the same fingerprint.
    fingerprint: dict = field(default_factory=dict)

    def effective_key(self) -> str | None:
        return idempotency_key(self.idempotency_key, self.trade_no, self.source, self.external_id)

    def request_hash(self) -> str:
        text = json.dumps(self.fingerprint, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def idempotency_key(
    explicit: str | None, trade_no: str | None, source: str, external_id: str | None
) -> str | None:
    """A posting's idempotency key: the explicit key, else the trade number, else source +
    external id, else none (the one rule for single, batched and imported postings)."""
    if explicit:
        return explicit
    if trade_no:
        return f"trade:{trade_no}"
    if external_id:
        return f"{source}:{external_id}"
    return None


def new_trade_no(now: datetime, tz: ZoneInfo) -> str:
    """The 壹川 style: business date followed by eight random digits (``2018050851519948``)."""
    return now.astimezone(tz).strftime("%Y%m%d") + f"{secrets.randbelow(10**8):08d}"


def execute(conn: Connection, req: PostingRequest, tz: ZoneInfo) -> PostingResult:
    """The SQLite posting path, inside the caller's ``BEGIN IMMEDIATE`` transaction (which
    already holds the database's write lock). PostgreSQL uses :mod:`posting_pg` instead.

    Hot path: plain SQL on the driver's cursor, no statement compilation per call."""
    cur = conn.connection.driver_connection.cursor()
    key = req.effective_key()
    digest = None if key is None else req.request_hash()  # only a keyed request is compared
    if key is not None:
        found = cur.execute(
            "SELECT id, request_hash FROM postings WHERE idempotency_key = ?", (key,)
        ).fetchone()
        if found is not None:
            if found[1] != digest:
                raise IdempotencyConflict(
                    f"idempotency key {key!r} was already used for a different request"
                )
            return replay(conn, found[0])

    locked = _lock_sqlite(cur, [leg.account for leg in req.legs])
    _check(req, locked)
    for leg in req.legs:
        if leg.counterparty_account is not None:
            leg.counterparty = locked[leg.counterparty_account].number

    now = datetime.now(UTC)
    trade_time = req.trade_time or now
    if trade_time.tzinfo is None:
        raise ValidationError("trade_time", "must carry a time zone")
    trade_no = req.trade_no or new_trade_no(trade_time, tz)
    now_text, time_text = _sqlite_time(now), _sqlite_time(trade_time)
    posting_id = cur.execute(
        "INSERT INTO postings (kind, trade_no, idempotency_key, request_hash, "
        "reverses_posting_id, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (req.kind, trade_no, key, digest, req.reverses_posting_id, now_text),
    ).fetchone()[0]

    balances = {acc.id: acc.balance for acc in locked.values()}
    rows = []
    for leg in req.legs:
        acc = locked[leg.account]
        balances[acc.id] += leg.delta
        rows.append(
            entry_values(
                req, leg, posting_id, acc.id, balances[acc.id], trade_no, time_text, now_text
            )
        )
    # one multi-row INSERT; SQLite assigns the AUTOINCREMENT ids in row order
    ids = sorted(
        r[0]
        for r in cur.execute(
            _INSERT_ENTRIES + ", ".join([_ENTRY_VALUES] * len(rows)) + " RETURNING id",
            [v for row in rows for v in row],
        ).fetchall()
    )
    cur.executemany(
        "UPDATE accounts SET balance = ? WHERE id = ?",
        [(bal, acc_id) for acc_id, bal in balances.items()],
    )
    names = chart_names(conn)
    by_id = {acc.id: acc for acc in locked.values()}
    written = tuple(
        _entry_from_tuple(entry_id, row, by_id[row[1]], names, trade_time, now)
        for entry_id, row in zip(ids, rows, strict=True)
    )
    return PostingResult(posting_id, req.kind, trade_no, written)


#: The columns of an entry row as :func:`entry_values` orders them (all but ``id``).
ENTRY_COLUMNS = (
    "posting_id", "account_id", "type", "amount", "balance_after", "trade_no", "trade_time",
    "recorded_at", "operator_id", "category_id", "subject_id", "counterparty", "description",
    "remark", "source", "external_id", "reverses_entry_id", "platform_balance",
)  # fmt: skip
_INSERT_ENTRIES = f"INSERT INTO entries ({', '.join(ENTRY_COLUMNS)}) VALUES "  # noqa: S608 - constant column names


def entry_values(
    req: PostingRequest,
    leg: Leg,
    posting_id: int,
    account_id: int,
    balance_after: int,
    trade_no: str,
    trade_time,
    recorded_at,
) -> tuple:
    """One entry row in :data:`ENTRY_COLUMNS` order (times already in the driver's form)."""
    return (
        posting_id, account_id, leg.type, leg.delta, balance_after, trade_no, trade_time,
        recorded_at, req.operator_id, leg.category_id, leg.subject_id, leg.counterparty,
        leg.description, req.remark, req.source, req.external_id, leg.reverses_entry_id,
        leg.platform_balance,
    )  # fmt: skip


_ENTRY_VALUES = "(" + ", ".join(["?"] * len(ENTRY_COLUMNS)) + ")"


def _sqlite_time(dt: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC, microseconds)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _lock_sqlite(cur, refs: list[int | str]) -> dict[int | str, _Locked]:
    ids = [r for r in refs if isinstance(r, int)]
    numbers = [r for r in refs if isinstance(r, str)]
    where = []
    if ids:
        where.append(f"id IN ({', '.join('?' * len(ids))})")
    if numbers:
        where.append(f"number IN ({', '.join('?' * len(numbers))})")
    found: dict[int | str, _Locked] = {}
    columns = "id, number, name, currency, status, allow_overdraft, balance, shop_code"
    query = f"SELECT {columns} FROM accounts WHERE {' OR '.join(where)} ORDER BY id"  # noqa: S608
    for row in cur.execute(query, [*ids, *numbers]):
        acc = _Locked(*row)
        found[acc.id] = acc
        found[acc.number] = acc
    for ref in refs:
        if ref not in found:
            raise AccountNotFound(ref)
    return found


def _entry_from_tuple(
    entry_id: int,
    row: tuple,
    acc: _Locked,
    names: dict[int, str],
    trade_time: datetime,
    now: datetime,
) -> Entry:
    (
        posting_id,
        _acc_id,
        type_,
        delta,
        after,
        trade_no,
        _t,
        _n,
        operator_id,
        category_id,
        subject_id,
        counterparty,
        description,
        remark,
        source,
        external_id,
        reverses,
        platform,
    ) = row
    return Entry(
        id=entry_id,
        posting_id=posting_id,
        account_id=acc.id,
        account_number=acc.number,
        account_name=acc.name,
        type=type_,
        amount=from_minor(delta),
        balance_after=from_minor(after),
        trade_no=trade_no,
        trade_time=trade_time.astimezone(UTC),
        recorded_at=now,
        operator_id=operator_id,
        category_id=category_id,
        subject_id=subject_id,
        category_name=names.get(category_id),
        subject_name=names.get(subject_id),
        counterparty=counterparty,
        description=description,
        remark=remark,
        source=source,
        external_id=external_id,
        reverses_entry_id=reverses,
        platform_balance=None if platform is None else from_minor(platform),
        currency=acc.currency,
        shop_code=acc.shop_code,
    )


def replay(conn: Connection, posting_id: int) -> PostingResult:
    row = conn.execute(sa.select(postings).where(postings.c.id == posting_id)).one()
    return PostingResult(
        row.id, row.kind, row.trade_no, tuple(entries_of_posting(conn, row.id)), True
    )


@dataclass(slots=True)
class _Locked:
    id: int
    number: str
    name: str
    currency: str
    status: str
    allow_overdraft: bool
    balance: int
    shop_code: str | None


def _lock_accounts(conn: Connection, refs: list[int | str]) -> dict[int | str, _Locked]:
    ids = [r for r in refs if isinstance(r, int)]
    numbers = [r for r in refs if isinstance(r, str)]
    query = (
        sa.select(
            accounts.c.id,
            accounts.c.number,
            accounts.c.name,
            accounts.c.currency,
            accounts.c.status,
            accounts.c.allow_overdraft,
            accounts.c.balance,
            accounts.c.shop_code,
        )
        .where(sa.or_(accounts.c.id.in_(ids), accounts.c.number.in_(numbers)))
        .order_by(accounts.c.id)
        .with_for_update()
    )
    found: dict[int | str, _Locked] = {}
    for row in conn.execute(query):
        acc = _Locked(*row)
        found[acc.id] = acc
        found[acc.number] = acc
    for ref in refs:
        if ref not in found:
            raise AccountNotFound(ref)
    return found


def find_by_key(conn: Connection, key: str | None) -> int | None:
    if key is None:
        return None
    return conn.execute(sa.select(postings.c.id).where(postings.c.idempotency_key == key)).scalar()


def _check(req: PostingRequest, locked: dict[int | str, _Locked]) -> None:
    if req.kind == "transfer" and len({locked[leg.account].id for leg in req.legs}) < len(req.legs):
        raise SameAccount("a transfer needs two different accounts")
    currencies = {locked[leg.account].currency for leg in req.legs}
    if len(currencies) > 1:
        raise CurrencyMismatch(
            "accounts hold different currencies: " + ", ".join(sorted(currencies))
        )
    after: dict[int, int] = {}
    for leg in req.legs:
        acc = locked[leg.account]
        if acc.status != "open":
            raise AccountClosed(f"account {acc.number} is closed")
        after[acc.id] = after.get(acc.id, acc.balance) + leg.delta
    for acc_id, balance in after.items():
        acc = locked[acc_id]
        if balance < 0 and not acc.allow_overdraft and balance < acc.balance:
            raise InsufficientFunds(
                f"account {acc.number} holds {format_amount(from_minor(acc.balance), 2)}; "
                f"this posting would take it to {format_amount(from_minor(balance), 2)} "
                "and the account does not allow overdraft"
            )
        if abs(balance) > MAX_BALANCE_MINOR:
            raise ValidationError("amount", f"account {acc.number}'s balance would overflow")


# -- planning: the four kinds of posting --------------------------------------------------


def plan_single(
    kind: str,
    account,
    amount_minor: int,
    *,
    category_id=None,
    subject_id=None,
    counterparty=None,
    description: str = "",
) -> list[Leg]:
    """One income leg (money in) or one expense leg (money out)."""
    income = kind == "income"
    return [
        Leg(
            account,
            amount_minor if income else -amount_minor,
            kind,
            category_id or (chart_ids.INCOME if income else chart_ids.EXPENSE),
            subject_id,
            counterparty,
            description,
        )
    ]


def transfer_description(amount_minor: int, outgoing: bool) -> str:
    """The 壹川 wording, e.g. ``帐户系统转账到账户内建商户上,转出金额为3元``."""
    yuan = from_minor(amount_minor).normalize()
    text = f"{yuan:f}"
    return f"帐户系统转账到账户内建商户上,{'转出' if outgoing else '转入'}金额为{text}元"


def plan_transfer(
    source: str | int, target: str | int, amount_minor: int, description: str | None = None
) -> list[Leg]:
    if source == target:
        raise SameAccount("a transfer needs two different accounts")
    return [
        Leg(
            source,
            -amount_minor,
            "transfer_out",
            chart_ids.TRANSFER,
            chart_ids.TRANSFER_OUT,
            None,
            description or transfer_description(amount_minor, True),
            counterparty_account=target,
        ),
        Leg(
            target,
            amount_minor,
            "transfer_in",
            chart_ids.TRANSFER,
            chart_ids.TRANSFER_IN,
            None,
            description or transfer_description(amount_minor, False),
            counterparty_account=source,
        ),
    ]


def plan_reversal(originals: list[Entry], description: str | None = None) -> list[Leg]:
    return [
        Leg(
            e.account_id,
            -to_minor(e.amount),
            "reversal",
            chart_ids.REVERSAL,
            chart_ids.REVERSAL_SUBJECT,
            e.counterparty,
            description or f"冲正 {e.trade_no} (流水 {e.id})",
            reverses_entry_id=e.id,
        )
        for e in originals
    ]
