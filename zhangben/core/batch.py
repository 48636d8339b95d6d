"""Many single-leg postings in one go, inside the caller's write transaction.

:func:`post_batch` keeps the invariants of :func:`zhangben.core.posting.execute` — one
``postings`` row per item, entries carrying their balance-after, idempotency per key with
the same fingerprint rule, locked open accounts, the overdraft policy — but pays for them per
*batch*: the accounts are locked once (``FOR UPDATE`` in id order), every idempotency key is
looked up with one query, postings and entries go in as multi-row INSERTs, the balances-after
are computed in Python in item order, and each account's balance is updated once.

Items whose key was seen before are not written again (``replayed``); a key reused with a
different fingerprint raises :class:`IdempotencyConflict` and, the caller's transaction being
rolled back, nothing of the batch stays.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.errors import (
    AccountClosed,
    IdempotencyConflict,
    InsufficientFunds,
    ValidationError,
)
from zhangben.core.money import MAX_BALANCE_MINOR, format_amount, from_minor
from zhangben.core.posting import _lock_accounts, idempotency_key, new_trade_no
from zhangben.store.tables import accounts, entries, postings
from zhangben.store.types import UTCDateTime

KINDS = ("income", "expense")
#: keys per ``IN (…)`` lookup (well under SQLite's bound-parameter limit)
_KEY_CHUNK = 900


@dataclass(slots=True)
class BatchItem:
    """One income (``delta`` > 0) or expense (``delta`` < 0) entry, in signed minor units.

    The idempotency key is ``idempotency_key``, else ``trade:<trade_no>``, else
    ``<source>:<external_id>`` (as for :class:`~zhangben.core.posting.PostingRequest`).
    """

    account: int | str
    delta: int
    type: str
    category_id: int | None = None
    subject_id: int | None = None
    counterparty: str | None = None
    description: str = ""
    remark: str = ""
    source: str = "manual"
    external_id: str | None = None
    trade_time: datetime | None = None
    trade_no: str | None = None
    platform_balance: int | None = None
    idempotency_key: str | None = None
    operator_id: int | None = None

    def key(self) -> str | None:
        return idempotency_key(self.idempotency_key, self.trade_no, self.source, self.external_id)

    def fingerprint(self) -> str:
        """SHA-256 over the fields a caller provides: a replay must repeat them exactly."""
        fields = (
            self.type,
            self.account,
            self.delta,
            self.category_id,
            self.subject_id,
            self.counterparty,
            self.description,
            self.remark,
            self.source,
            self.external_id,
            self.trade_no,
            self.trade_time.isoformat() if self.trade_time else None,
        )
        text = "\x1f".join("\x00" if f is None else str(f) for f in fields)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class BatchResult:
    """Per item, in order: the new entry id, or None when the item was a replay (then
    ``replayed[i]`` holds the earlier posting's id)."""

    entry_ids: list[int | None] = field(default_factory=list)
    replayed: list[int | None] = field(default_factory=list)

    @property
    def written(self) -> int:
        return sum(1 for e in self.entry_ids if e is not None)


def post_batch(
    conn: Connection,
    items: Sequence[BatchItem],
    tz: ZoneInfo,
    *,
    now: datetime | None = None,
) -> BatchResult:
    """Write ``items`` (in order) inside the caller's write transaction; see the module doc."""
    result = BatchResult([None] * len(items), [None] * len(items))
    if not items:
        return result
    now = now or datetime.now(UTC)
    keys = [item.key() for item in items]
    digests = [item.fingerprint() for item in items]
    seen = _known_keys(conn, [k for k in keys if k is not None])
    todo: list[int] = []
    first_in_batch: dict[str, int] = {}
    for i, (item, key, digest) in enumerate(zip(items, keys, digests, strict=True)):
        _validate(item)
        if key is None:
            todo.append(i)
            continue
        if key in seen:
            posting_id, known = seen[key]
            if known != digest:
                raise IdempotencyConflict(
                    f"idempotency key {key!r} was already used for a different request"
                )
            result.replayed[i] = posting_id
        elif key in first_in_batch:
            j = first_in_batch[key]
            if digests[j] != digest:
                raise IdempotencyConflict(f"idempotency key {key!r} is used twice in the batch")
            result.replayed[i] = -1  # resolved below, once the first one has its posting id
        else:
            first_in_batch[key] = i
            todo.append(i)
    if not todo:
        return result

    locked = _lock_accounts(conn, list({items[i].account for i in todo}))
    balances = {acc.id: acc.balance for acc in locked.values()}
    for i in todo:  # every check before anything is written
        item = items[i]
        acc = locked[item.account]
        if acc.status != "open":
            raise AccountClosed(f"account {acc.number} is closed")
        before = balances[acc.id]
        after = before + item.delta
        if after < 0 and item.delta < 0 and not acc.allow_overdraft:
            raise InsufficientFunds(
                f"account {acc.number} holds {format_amount(from_minor(before), 2)}; "
                f"{item.external_id or item.trade_no or 'an item'} would take it to "
                f"{format_amount(from_minor(after), 2)} and the account does not allow overdraft"
            )
        if abs(after) > MAX_BALANCE_MINOR:
            raise ValidationError("amount", f"account {acc.number}'s balance would overflow")
        balances[acc.id] = after

    trade_nos = [items[i].trade_no or new_trade_no(items[i].trade_time or now, tz) for i in todo]
    posting_ids = reserve_ids(conn, postings, len(todo))
    bulk_insert(
        conn,
        postings,
        [
            dict(
                id=posting_id,
                kind=items[i].type,
                trade_no=trade_no,
                idempotency_key=keys[i],
                request_hash=digests[i],
                reverses_posting_id=None,
                created_at=now,
            )
            for i, trade_no, posting_id in zip(todo, trade_nos, posting_ids, strict=True)
        ],
    )
    running = {acc.id: acc.balance for acc in locked.values()}
    entry_ids = reserve_ids(conn, entries, len(todo))
    rows = []
    for i, trade_no, posting_id, entry_id in zip(
        todo, trade_nos, posting_ids, entry_ids, strict=True
    ):
        item = items[i]
        acc_id = locked[item.account].id
        running[acc_id] += item.delta
        rows.append(
            dict(
                id=entry_id,
                posting_id=posting_id,
                account_id=acc_id,
                type=item.type,
                amount=item.delta,
                balance_after=running[acc_id],
                trade_no=trade_no,
                trade_time=item.trade_time or now,
                recorded_at=now,
                operator_id=item.operator_id,
                category_id=item.category_id,
                subject_id=item.subject_id,
                counterparty=item.counterparty,
                description=item.description,
                remark=item.remark,
                source=item.source,
                external_id=item.external_id,
                reverses_entry_id=None,
                platform_balance=item.platform_balance,
            )
        )
    bulk_insert(conn, entries, rows)
    conn.execute(
        accounts.update()
        .where(accounts.c.id == sa.bindparam("acc_id"))
        .values(balance=sa.bindparam("new_balance")),
        [{"acc_id": acc_id, "new_balance": bal} for acc_id, bal in running.items()],
    )
    posting_of = {}
    for i, posting_id, entry_id in zip(todo, posting_ids, entry_ids, strict=True):
        result.entry_ids[i] = entry_id
        if keys[i] is not None:
            posting_of[keys[i]] = posting_id
    for i, marker in enumerate(result.replayed):
        if marker == -1:
            result.replayed[i] = posting_of[keys[i]]
    return result


def bulk_insert(conn: Connection, table: sa.Table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys) in the caller's transaction: PostgreSQL
    ``COPY … FROM STDIN`` (one stream, no per-row statements), else executemany."""
    if not rows:
        return
    names = list(rows[0])
    json_cols = {n for n in names if isinstance(table.c[n].type, sa.JSON)}
    if conn.dialect.name == "sqlite":
        # on the driver: SQLAlchemy's per-value bind processing costs more than SQLite's insert
        time_cols = {n for n in names if isinstance(table.c[n].type, UTCDateTime)}
        convert = {
            n: (lambda v: None if v is None else json.dumps(v, ensure_ascii=False))
            for n in json_cols
        }
        convert.update({n: _sqlite_time for n in time_cols})
        plain = [(n, convert.get(n)) for n in names]
        marks = ", ".join("?" * len(names))
        sql = f'INSERT INTO "{table.name}" ({", ".join(names)}) VALUES ({marks})'  # noqa: S608
        conn.connection.driver_connection.cursor().executemany(
            sql, [tuple(row[n] if f is None else f(row[n]) for n, f in plain) for row in rows]
        )
        return
    columns = ", ".join(f'"{n}"' for n in names)
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [
                    json.dumps(row[n], ensure_ascii=False) if n in json_cols else row[n]
                    for n in names
                ]
            )


def reserve_ids(conn: Connection, table: sa.Table, n: int) -> list[int]:
    """``n`` new ids of ``table``, ascending, so that rows can be inserted with plain
    executemany (no per-row RETURNING). PostgreSQL: taken from the id sequence in one query.
    SQLite: the next ids after the AUTOINCREMENT high-water mark — safe because the caller's
    ``BEGIN IMMEDIATE`` holds the database's write lock until commit."""
    if n == 0:
        return []
    if conn.dialect.name == "postgresql":
        query = sa.text(
            "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
        )
        return sorted(conn.execute(query, {"t": table.name, "n": n}).scalars())
    seq = conn.execute(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table.name}
    ).scalar()
    top = conn.execute(sa.select(sa.func.max(table.c.id))).scalar()
    start = max(seq or 0, top or 0) + 1
    return list(range(start, start + n))


def _validate(item: BatchItem) -> None:
    if item.type not in KINDS:
        raise ValidationError("type", f"must be one of {', '.join(KINDS)}")
    if item.delta == 0 or (item.delta > 0) != (item.type == "income"):
        raise ValidationError(
            "amount", "an income needs a positive delta, an expense a negative one"
        )
    if item.trade_time is not None and item.trade_time.tzinfo is None:
        raise ValidationError("trade_time", "must carry a time zone")
    for name, value, size in (
        ("external_id", item.external_id, 128),
        ("source", item.source, 32),
        ("counterparty", item.counterparty, 64),
    ):
        if value is not None and len(value) > size:
            raise ValidationError(name, f"must be at most {size} characters")


def _known_keys(conn: Connection, keys: list[str]) -> dict[str, tuple[int, str | None]]:
    found: dict[str, tuple[int, str | None]] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), _KEY_CHUNK):
        chunk = unique[start : start + _KEY_CHUNK]
        query = sa.select(postings.c.idempotency_key, postings.c.id, postings.c.request_hash).where(
            postings.c.idempotency_key.in_(chunk)
        )
        for key, posting_id, digest in conn.execute(query):
            found[key] = (posting_id, digest)
    return found


def _sqlite_time(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC with microseconds)."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
