"""The one-round-trip writer for a posting of one or two legs on PostgreSQL.

``zb_post`` (``sql/zb_post_v3.sql``) looks the key up, locks the accounts in id order, checks
R5–R11 and writes, inside the server: one round trip and one commit per posting. The call
is its own transaction, so it runs on autocommit connections of its own (:class:`_Callers`),
prepared once per connection.
"""

from __future__ import annotations

import os
import threading
import time
import weakref

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine

from zhangben.store.engine import POOL_RECYCLE_S
from zhangben.store.writers import period_guard
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
    shop, balance after, counterparty). Raises :class:`RuleBroken` (R5–R11 from zb_post, R13
    from the period guard on ``entries``), :class:`KeyRace` (a
    concurrent twin committed the key: ask again) or :class:`ReversedTwice`."""
    legs = plan.legs(0)
    params = (
        plan.kind[0], trade_no, plan.key[0], plan.digest[0], plan.reverses_posting[0],
        plan.trade_time[0], plan.operator_id[0], plan.remark[0], plan.source[0],
        plan.external_id[0], max_balance, plan.cross[0],
        *_leg(plan, legs[0]), *(_leg(plan, legs[1]) if len(legs) == 2 else _NO_LEG),
    )  # fmt: skip
    callers = _callers(engine)
    for attempt in range(1, 21):
        caller = callers.take()
        try:
            caller.cursor.execute(_CALL, params, prepare=True)
            row = caller.cursor.fetchone()
        except psycopg.errors.UniqueViolation as exc:
            callers.give(caller)
            if exc.diag.constraint_name == "uq_entries_reverses_entry_id":
                raise ReversedTwice from exc
            if exc.diag.constraint_name == "uq_postings_idempotency_key":
                raise KeyRace from exc
            raise
        except psycopg.Error as exc:
            if caller.conn.closed or caller.conn.broken:
                callers.lost(caller, server_gone=True)
                raise
            callers.give(caller)
            if exc.sqlstate == period_guard.SQLSTATE:  # R13: the trigger on entries refused
                raise period_guard.from_pg(exc) from None
            rule = _RULES.get(exc.sqlstate or "")
            if rule is not None:
                raise RuleBroken(rule, exc.diag.message_detail or "") from None
            if exc.sqlstate in _RETRYABLE and attempt < 20:
                time.sleep(0.001 * attempt)
                continue
            raise
        except BaseException:
            callers.lost(caller)  # interrupted mid-call: the connection's state is unknown
            raise
        callers.give(caller)
        return row
    raise AssertionError("unreachable")


class _Caller:
    """An autocommit connection with its cursor, on which the call is prepared once."""

    __slots__ = ("conn", "cursor", "born")

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.cursor = conn.cursor(binary=True)  # binary parameters and results
        self.born = time.monotonic()


class _Callers:
    """The connections zb_post is called on, kept apart from SQLAlchemy's pool.

    A call is its own transaction, so its connection can stay in autocommit and keep its
    prepared call: checking a connection out of the pool and back, with the autocommit switch
    and the rollback on return, cost a third of the client's work for one posting. At most
    ``KEEP`` are kept idle (and at most ``KEEP`` open: beyond that a caller waits); one older
    than the pool's recycle age is replaced, a broken one is dropped with every idle one."""

    KEEP = 10

    def __init__(self, engine: Engine) -> None:
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        self._connect = lambda: engine.dialect.connect(*cargs, **cparams)
        self._recycle = POOL_RECYCLE_S
        self._idle: list[_Caller] = []
        self._slots = threading.BoundedSemaphore(self.KEEP)
        self._pid = os.getpid()

    def take(self) -> _Caller:
        if self._pid != os.getpid():  # a forked child never uses its parent's sockets
            self.__init_after_fork()
        self._slots.acquire()
        try:
            while self._idle:
                caller = self._idle.pop()
                if time.monotonic() - caller.born < self._recycle:
                    return caller
                caller.conn.close()
            conn = self._connect()
            conn.autocommit = True
            return _Caller(conn)
        except BaseException:
            self._slots.release()
            raise

    def give(self, caller: _Caller) -> None:
        self._idle.append(caller)
        self._slots.release()

    def lost(self, caller: _Caller, server_gone: bool = False) -> None:
        """Close ``caller``; when the server went away, every idle connection with it."""
        caller.conn.close()
        if server_gone:
            self.close()
        self._slots.release()

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for caller in idle:
            caller.conn.close()

    def __init_after_fork(self) -> None:
        self._idle = []
        self._slots = threading.BoundedSemaphore(self.KEEP)
        self._pid = os.getpid()


_CALLERS: weakref.WeakKeyDictionary[Engine, _Callers] = weakref.WeakKeyDictionary()
_CALLERS_LOCK = threading.Lock()


def _callers(engine: Engine) -> _Callers:
    callers = _CALLERS.get(engine)
    if callers is None:
        with _CALLERS_LOCK:
            callers = _CALLERS.get(engine)
            if callers is None:
                callers = _CALLERS[engine] = _Callers(engine)
                event.listen(engine, "engine_disposed", lambda _engine: callers.close())
                weakref.finalize(engine, callers.close)
    return callers


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
