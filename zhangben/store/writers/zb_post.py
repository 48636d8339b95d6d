"""The one-round-trip writer for a posting of one or two legs on PostgreSQL.

``zb_post`` (``sql/zb_post_v3.sql``) looks the key up, locks the accounts in id order, checks
R5–R11 and writes, inside the server: one round trip and one commit per posting. It is called
on an autocommit connection (the call is its own transaction), on the pool's DBAPI connection
itself: a SQLAlchemy ``Connection`` around it would cost more than the rest of the client's
work for this one call.
"""

from __future__ import annotations

import time

import psycopg
from sqlalchemy.engine import Engine

from zhangben.store.writers.outcomes import KeyRace, ReversedTwice, RuleBroken

_CALL = "SELECT * FROM zb_post(%b::text, %b::text, %b::text, %b::text, %b::bigint, %b::timestamptz, %b::integer, %b::text, %b::text, %b::text, %b::bigint, %b::boolean, %b::integer, %b::text, %b::bigint, %b::text, %b::integer, %b::integer, %b::text, %b::text, %b::bigint, %b::bigint, %b::integer, %b::text, %b::bigint, %b::text, %b::integer, %b::integer, %b::text, %b::text, %b::bigint, %b::bigint)"  # noqa: E501
_RETRYABLE = {"40001", "40P01"}
#: zb_post's SQLSTATEs → the rule each reports
_RULES = {
    "ZB409": "R5",
    "ZB404": "R6",
    "ZB411": "R7",
    "ZB422": "R8",
    "ZB423": "R9",
    "ZB402": "R10",
    "ZB400": "R11",
}
_NO_LEG = (None,) * 10


def post(engine: Engine, plan, trade_no: str, max_balance: int) -> tuple:
    """Write posting 0 of ``plan``; returns zb_post's result row: (replayed, posting id,
    recorded at, trade time, currency, then per leg: entry id, account id, number, name,
    shop, balance after, counterparty). Raises :class:`RuleBroken`, :class:`KeyRace` (a
    concurrent twin committed the key: ask again) or :class:`ReversedTwice`."""
    legs = plan.legs(0)
    params = (
        plan.kind[0], trade_no, plan.key[0], plan.digest[0], plan.reverses_posting[0],
        plan.trade_time[0], plan.operator_id[0], plan.remark[0], plan.source[0],
        plan.external_id[0], max_balance, plan.cross[0],
        *_leg(plan, legs[0]), *(_leg(plan, legs[1]) if len(legs) == 2 else _NO_LEG),
    )  # fmt: skip
    for attempt in range(1, 21):
        pooled = engine.raw_connection()
        raw = pooled.driver_connection
        try:
            raw.autocommit = True
            # binary parameters and results: less to format and parse on both ends
            return raw.execute(_CALL, params, binary=True).fetchone()
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "uq_entries_reverses_entry_id":
                raise ReversedTwice from exc
            if exc.diag.constraint_name == "uq_postings_idempotency_key":
                raise KeyRace from exc
            raise
        except psycopg.Error as exc:
            rule = _RULES.get(exc.sqlstate or "")
            if rule is not None:
                raise RuleBroken(rule, exc.diag.message_detail or "") from None
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
    raise AssertionError("unreachable")


def _leg(plan, leg: int) -> tuple:
    """One leg as zb_post's ten scalar parameters."""
    account = plan.account[leg]
    return (
        account if isinstance(account, int) else None,
        account if isinstance(account, str) else None,
        plan.delta[leg],
        plan.type[leg],
        plan.category[leg],
        plan.subject[leg],
        plan.description[leg],
        plan.counterparty[leg],
        plan.reverses_entry[leg],
        plan.platform_balance[leg],
    )
