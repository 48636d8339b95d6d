"""The PostgreSQL posting path: one round trip to the ``zb_post`` function.

``zb_post`` (``store/writers/sql/zb_post_v2.sql``) does what :func:`zhangben.core.posting.execute`
does — idempotency, locking in id order, every check, the writes — inside the server, so a
posting costs one network round trip and one commit. It is called on an autocommit
connection: the function call is its own transaction. Planning (amounts, classification,
request hash, trade number) stays in Python and is shared with the SQLite path.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.engine import Engine

from zhangben.core import errors
from zhangben.core.money import MAX_BALANCE_MINOR, from_minor
from zhangben.core.posting import PostingRequest, new_trade_no, replay
from zhangben.core.queries import names_for
from zhangben.core.records import Entry, PostingResult

_CALL = "SELECT * FROM zb_post(%b::text, %b::text, %b::text, %b::text, %b::bigint, %b::timestamptz, %b::integer, %b::text, %b::text, %b::text, %b::bigint, %b::boolean, %b::integer, %b::text, %b::bigint, %b::text, %b::integer, %b::integer, %b::text, %b::text, %b::bigint, %b::bigint, %b::integer, %b::text, %b::bigint, %b::text, %b::integer, %b::integer, %b::text, %b::text, %b::bigint, %b::bigint)"  # noqa: E501
_RETRYABLE = {"40001", "40P01"}


def _error(exc: psycopg.Error) -> Exception | None:
    """Map zb_post's SQLSTATEs to the core's exceptions (same messages as the Python path)."""
    state, message = exc.sqlstate or "", (exc.diag.message_primary or str(exc))
    if state == "ZB404":
        return errors.AccountNotFound(
            message.removeprefix("account ").removesuffix(" does not exist")
        )
    mapping = {
        "ZB409": errors.IdempotencyConflict,
        "ZB422": errors.CurrencyMismatch,
        "ZB423": errors.AccountClosed,
        "ZB402": errors.InsufficientFunds,
        "ZB411": errors.SameAccount,
    }
    if state in mapping:
        return mapping[state](message)
    if state == "ZB400":
        return errors.ValidationError("amount", message.removeprefix("amount: "))
    return None


def execute_pg(engine: Engine, req: PostingRequest, tz: ZoneInfo) -> PostingResult:
    key = req.effective_key()
    trade_no = req.trade_no or new_trade_no(req.trade_time or datetime.now(UTC), tz)
    legs = req.legs
    if not 1 <= len(legs) <= 2:
        raise ValueError("a posting has one or two legs")
    # transfers: each leg's counterparty is the other leg's account number
    cross = len(legs) == 2 and all(leg.counterparty_account is not None for leg in legs)
    params = (
        req.kind,
        trade_no,
        key,
        None if key is None else req.request_hash(),
        req.reverses_posting_id,
        req.trade_time,
        req.operator_id,
        req.remark,
        req.source,
        req.external_id,
        MAX_BALANCE_MINOR,
        cross,
        *_leg_params(legs[0]),
        *(_leg_params(legs[1]) if len(legs) == 2 else _NO_LEG),
    )
    for attempt in range(1, 21):
        # the pool's DBAPI connection itself: a SQLAlchemy Connection around it would cost
        # more than the rest of the client's work for this one call
        pooled = engine.raw_connection()
        raw = pooled.driver_connection
        try:
            raw.autocommit = True
            # binary parameters and results: less to format and parse on both ends
            rows = raw.execute(_CALL, params, binary=True).fetchall()
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "uq_entries_reverses_entry_id":
                raise errors.AlreadyReversed("already reversed") from None
            if key is None or attempt > 1:
                raise
            continue  # a concurrent twin with the same key won: answer from its posting
        except psycopg.Error as exc:
            mapped = _error(exc)
            if mapped is not None:
                raise mapped from None
            if exc.sqlstate in _RETRYABLE and attempt < 20:
                time.sleep(0.001 * attempt)
                continue
            raise
        finally:
            try:
                raw.autocommit = False
            except psycopg.Error:  # a broken connection is not given back to the pool
                pooled.invalidate()
            pooled.close()
        row = rows[0]
        if row[0]:
            with engine.connect() as conn, conn.begin():
                return replay(conn, row[1])
        names = names_for(
            engine, [i for leg in legs for i in (leg.category_id, leg.subject_id) if i is not None]
        )
        return PostingResult(
            row[1],
            req.kind,
            trade_no,
            tuple(_entry(row, n, leg, req, trade_no, names) for n, leg in enumerate(legs)),
        )
    raise AssertionError("unreachable")


def _leg_params(leg) -> tuple:
    """One leg as zb_post's ten scalar parameters."""
    account = leg.account
    return (
        account if isinstance(account, int) else None,
        account if isinstance(account, str) else None,
        leg.delta,
        leg.type,
        leg.category_id,
        leg.subject_id,
        leg.description,
        leg.counterparty,
        leg.reverses_entry_id,
        leg.platform_balance,
    )


_NO_LEG = (None,) * 10


def _entry(row, n: int, leg, req: PostingRequest, trade_no: str, names: dict[int, str]) -> Entry:
    """Leg ``n`` (0 or 1) of zb_post's result row."""
    _, posting_id, recorded_at, trade_time, currency = row[:5]
    entry_id, account_id, number, name, shop_code, after, counterparty = row[5 + 7 * n : 12 + 7 * n]
    return Entry(
        id=entry_id,
        posting_id=posting_id,
        account_id=account_id,
        account_number=number,
        account_name=name,
        type=leg.type,
        amount=from_minor(leg.delta),
        balance_after=from_minor(after),
        trade_no=trade_no,
        trade_time=trade_time.astimezone(UTC),
        recorded_at=recorded_at.astimezone(UTC),
        operator_id=req.operator_id,
        category_id=leg.category_id,
        subject_id=leg.subject_id,
        category_name=names.get(leg.category_id),
        subject_name=names.get(leg.subject_id),
        counterparty=counterparty,
        description=leg.description,
        remark=req.remark,
        source=req.source,
        external_id=req.external_id,
        reverses_entry_id=leg.reverses_entry_id,
        platform_balance=None if leg.platform_balance is None else from_minor(leg.platform_balance),
        currency=currency,
        shop_code=shop_code,
    )
