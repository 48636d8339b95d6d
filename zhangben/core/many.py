"""Many postings in ONE database transaction, all or nothing (``Ledger.post_many``).

The same rules as :func:`zhangben.core.posting.execute` — idempotency keys, every check of
:func:`~zhangben.core.posting._check`, entries with their balance-after — but paid for once per
batch: one query for the known keys, one lock of every account involved (``FOR UPDATE`` in id
order; SQLite's ``BEGIN IMMEDIATE``), ids reserved in one query, postings and entries streamed
with ``COPY`` on PostgreSQL (executemany on SQLite), one balance update per account. A request
that fails a check fails the whole batch, naming its position; nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.batch import _known_keys, reserve_ids
from zhangben.core.errors import IdempotencyConflict, LedgerError
from zhangben.core.posting import (
    ENTRY_COLUMNS,
    PostingRequest,
    _check,
    _lock_accounts,
    entry_values,
    new_trade_no,
)
from zhangben.store.tables import accounts, entries, postings


def post_many(conn: Connection, requests: Sequence[PostingRequest], tz: ZoneInfo) -> list[int]:
    """Write ``requests`` in order inside the caller's write transaction. Returns each
    request's posting id (the earlier posting's id for an idempotent replay)."""
    now = datetime.now(UTC)
    keys = [r.effective_key() for r in requests]
    digests = [r.request_hash() for r in requests]
    known = _known_keys(conn, [k for k in keys if k is not None])
    result: list[int | None] = [None] * len(requests)
    todo: list[int] = []
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key is None:
            todo.append(i)
        elif key in known:
            if known[key][1] != digests[i]:
                raise IdempotencyConflict(
                    f"request {i}: idempotency key {key!r} was already used for a different request"
                )
            result[i] = known[key][0]
        elif key in first:
            if digests[first[key]] != digests[i]:
                raise IdempotencyConflict(f"request {i}: idempotency key {key!r} is used twice")
        else:
            first[key] = i
            todo.append(i)

    refs = list(dict.fromkeys(leg.account for i in todo for leg in requests[i].legs))
    locked = _lock_accounts(conn, refs) if refs else {}
    after: list[list[int]] = []
    for i in todo:  # every check, in order, before anything is written
        req = requests[i]
        try:
            _check(req, locked)
        except LedgerError as exc:
            exc.message = f"request {i}: {exc.message}"
            exc.args = (exc.message,)
            raise
        balances = []
        for leg in req.legs:
            acc = locked[leg.account]
            acc.balance += leg.delta
            balances.append(acc.balance)
            if leg.counterparty_account is not None:
                leg.counterparty = locked[leg.counterparty_account].number
        after.append(balances)

    posting_ids = reserve_ids(conn, postings, len(todo))
    entry_ids = iter(reserve_ids(conn, entries, sum(len(requests[i].legs) for i in todo)))
    stamp = _timestamper(conn)
    now_value = stamp(now)
    posting_rows, entry_rows = [], []
    for n, i in enumerate(todo):
        req, pid = requests[i], posting_ids[n]
        trade_time = req.trade_time or now
        time_value = now_value if trade_time is now else stamp(trade_time)
        trade_no = req.trade_no or new_trade_no(trade_time, tz)
        posting_rows.append(
            (pid, req.kind, trade_no, keys[i], digests[i], req.reverses_posting_id, now_value)
        )
        for leg, balance_after in zip(req.legs, after[n], strict=True):
            entry_rows.append(
                (
                    next(entry_ids),
                    *entry_values(
                        req,
                        leg,
                        pid,
                        locked[leg.account].id,
                        balance_after,
                        trade_no,
                        time_value,
                        now_value,
                    ),
                )
            )
        result[i] = pid
    insert_tuples(conn, "postings", _POSTING_COLUMNS, posting_rows)
    insert_tuples(conn, "entries", _ENTRY_COLUMNS, entry_rows)
    touched = {acc.id: acc.balance for acc in locked.values()}
    if touched:
        conn.execute(
            accounts.update()
            .where(accounts.c.id == sa.bindparam("acc_id"))
            .values(balance=sa.bindparam("new_balance")),
            [{"acc_id": a, "new_balance": b} for a, b in touched.items()],
        )
    for j, key in enumerate(keys):  # duplicates inside the batch answer with the first's id
        if result[j] is None and key is not None:
            result[j] = result[first[key]]
    return result  # type: ignore[return-value]


_POSTING_COLUMNS = (
    "id",
    "kind",
    "trade_no",
    "idempotency_key",
    "request_hash",
    "reverses_posting_id",
    "created_at",
)
_ENTRY_COLUMNS = ("id", *ENTRY_COLUMNS)


def _timestamper(conn: Connection):
    """How an instant is written by the raw bulk path: SQLite stores SQLAlchemy's naive-UTC
    text, PostgreSQL takes the aware datetime."""
    if conn.dialect.name == "sqlite":
        return lambda dt: dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return lambda dt: dt


def insert_tuples(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Bulk insert on the driver: ``COPY … FROM STDIN`` on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    names = ", ".join(columns)
    cursor = conn.connection.driver_connection.cursor()
    if conn.dialect.name == "postgresql":
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
