"""Carrying a plan out: the writer is chosen by the shape of the write, the rules are the same.

* one posting of one or two legs on PostgreSQL → ``zb_post`` (one round trip; it renders
  R5–R11 in SQL);
* anything else (any posting on SQLite, a batch on either) → lock, look the keys up, run
  R5–R11 in Python (:mod:`.rules`), then the bulk writer;
* bill files → the staged writer (:mod:`.bills`).

A write that loses a race on an idempotency key to a concurrent writer is run again and then
answers from the winner's posting (R5).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zhangben.core import errors
from zhangben.core.money import MAX_BALANCE_MINOR, from_minor
from zhangben.core.postings import rules
from zhangben.core.postings.plan import Plan, trade_numbers
from zhangben.core.postings.rules import AccountState
from zhangben.core.queries import entries_of_posting, names_for
from zhangben.core.records import Entry, PostingResult
from zhangben.store.engine import run_write
from zhangben.store.tables import postings
from zhangben.store.writers import accounts, bulk
from zhangben.store.writers.outcomes import KeyRace, ReversedTwice, RuleBroken

_RACE_RETRIES = 4


def post_one(engine: Engine, plan: Plan, tz: ZoneInfo) -> PostingResult:
    """Write a plan of one posting and answer with its entries (or the first posting's, for a
    replay)."""
    if engine.dialect.name == "postgresql" and len(plan.legs(0)) <= 2:
        return settle_races(lambda: _zb_post(engine, plan, tz))
    return settle_races(lambda: run_write(engine, lambda conn: _bulk(conn, plan, tz, single=True)))


def post_many(engine: Engine, plan: Plan, tz: ZoneInfo) -> list[int]:
    """Write every posting of ``plan`` in one transaction, all or nothing; returns each
    posting's id (the first posting's for a replay or a key repeated in the batch)."""
    if not len(plan):
        return []
    return settle_races(lambda: run_write(engine, lambda conn: _bulk(conn, plan, tz, single=False)))


def settle_races(write):
    """Run ``write`` again when a concurrent writer took one of its keys first (it then
    replays); a concurrent reversal of the same entry is :class:`AlreadyReversed`."""
    for attempt in range(_RACE_RETRIES + 1):
        try:
            return write()
        except KeyRace:
            if attempt == _RACE_RETRIES:
                raise
        except ReversedTwice:
            raise errors.AlreadyReversed("already reversed") from None
    raise AssertionError("unreachable")


def post_in(conn: Connection, plan: Plan, tz: ZoneInfo) -> PostingResult:
    """A single posting inside the caller's write transaction (reversals plan and write under
    one lock on SQLite)."""
    return _bulk(conn, plan, tz, single=True)


def post_many_in(conn: Connection, plan: Plan, tz: ZoneInfo) -> list[int]:
    """The postings of ``plan`` inside the caller's write transaction (a bill file's opening
    entry, written with the file's rows); returns their posting ids, as :func:`post_many`."""
    return _bulk(conn, plan, tz, single=False)


def lock_states(conn: Connection, refs: list, keys: list) -> tuple[dict, dict]:
    """(ref → :class:`AccountState` of every account found, known keys), accounts locked."""
    if conn.dialect.name == "postgresql":
        rows, known = accounts.lock_pg(conn.connection.driver_connection, refs, keys)
    else:
        rows, known = accounts.lock_sqlite(conn.connection.driver_connection.cursor(), refs, keys)
    states: dict = {}
    for row in rows:
        acc = AccountState(*row)
        states[acc.id] = acc
        states[acc.number] = acc
    return states, known


def broken(exc: RuleBroken, tz: ZoneInfo | None = None) -> errors.LedgerError:
    """The error for a rule a SQL writer reports broken, worded by :mod:`.rules` (``tz``, the
    business time zone, dates R13's refusal)."""
    detail = exc.facts[0] if exc.facts else ""
    if exc.rule == "R13":
        return rules.period_closed(detail, tz or UTC)
    if exc.rule == "R5":
        return rules.key_conflict(detail)
    if exc.rule == "R6":
        return rules.not_found(detail)
    if exc.rule == "R7":
        return rules.same_account()
    if exc.rule == "R8":
        return rules.currency_mismatch(detail.split("|"))
    if exc.rule == "R9":
        return rules.closed(detail)
    if exc.rule == "R10":
        number, balance, after = detail.rsplit("|", 2)
        return rules.insufficient_funds(number, int(balance), int(after))
    if exc.rule == "R11":
        return rules.overflow(detail)
    raise AssertionError(f"unknown rule {exc.rule}")


# -- the writers -------------------------------------------------------------------------------


def _zb_post(engine: Engine, plan: Plan, tz: ZoneInfo) -> PostingResult:
    trade_no = trade_numbers(plan, [0], datetime.now(UTC), tz)[0]
    try:
        from zhangben.store.writers import zb_post  # PostgreSQL's alone: psycopg on demand

        row = zb_post.post(engine, plan, trade_no, MAX_BALANCE_MINOR)
    except RuleBroken as exc:
        raise broken(exc, tz) from None
    if row[0]:
        with engine.connect() as conn, conn.begin():
            return _replay(conn, row[1])
    legs = plan.legs(0)
    names = names_for(engine, _chart_ids(plan, legs))
    _, posting_id, recorded_at, trade_time, currency = row[:5]
    out = []
    for n, leg in enumerate(legs):
        entry_id, account_id, number, name, shop, after, counterparty = row[5 + 7 * n : 12 + 7 * n]
        acc = AccountState(account_id, number, name, currency, "open", False, after, shop)
        out.append(
            _entry(plan, 0, leg, entry_id, posting_id, acc, after, counterparty, trade_no,
                   trade_time, recorded_at, names)
        )  # fmt: skip
    return PostingResult(posting_id, plan.kind[0], trade_no, tuple(out))


def _bulk(conn: Connection, plan: Plan, tz: ZoneInfo, *, single: bool):
    n = len(plan)
    refs = list(dict.fromkeys(plan.account))
    states, known = lock_states(conn, refs, plan.key if plan.keyed else [])
    if plan.keyed:
        result, todo, first = rules.sort_keys(plan.key, plan.digest, known, plan.label)
    else:
        result, todo, first = [None] * n, list(range(n)), {}
    if not todo:  # every posting a replay
        return _replay(conn, result[0]) if single else _repeats(plan, result, first)
    leg_accounts, after = rules.check_states(plan, todo, states)
    balances = {a: states[a].balance for a in dict.fromkeys(leg_accounts)}
    now = datetime.now(UTC)
    trade_nos = trade_numbers(plan, todo, now, tz)
    try:
        posting_ids, entry_ids = bulk.write(
            conn, plan, todo, leg_accounts, after, trade_nos, balances, now
        )
    except RuleBroken as exc:  # R13, from the period guard on entries
        raise rules.at(broken(exc, tz), plan.label(_dated_item(plan, todo, states, exc))) from None
    if single:
        names = names_for(conn.engine, _chart_ids(plan, plan.legs(0)))
        when = plan.trade_time[0] or now
        return PostingResult(
            posting_ids[0],
            plan.kind[0],
            trade_nos[0],
            tuple(
                _entry(
                    plan,
                    0,
                    leg,
                    entry_ids[k],
                    posting_ids[0],
                    states[plan.account[leg]],
                    after[k],
                    plan.counterparty[leg],
                    trade_nos[0],
                    when,
                    now,
                    names,
                )
                for k, leg in enumerate(plan.legs(0))
            ),  # fmt: skip
        )
    for i, pid in zip(todo, posting_ids, strict=True):
        result[i] = pid
    return _repeats(plan, result, first) if len(todo) < n else result


def _dated_item(plan: Plan, todo: list[int], states: dict, exc: RuleBroken) -> int:
    """The posting the period guard refused: the first with a leg on the refused account
    dated before the end of its closed period (the guard checks rows in this order too)."""
    facts = exc.facts[0]
    for i in todo:
        when = plan.trade_time[i]
        if when is not None and when < facts["ends_at"]:
            if any(states[plan.account[leg]].number == facts["account"] for leg in plan.legs(i)):
                return i
    return todo[0]


def _repeats(plan: Plan, result: list, first: dict) -> list[int]:
    """A key repeated in the batch answers with its first posting's id."""
    for i, key in enumerate(plan.key):
        if result[i] is None:
            result[i] = result[first[key]]
    return result


def _replay(conn: Connection, posting_id: int) -> PostingResult:
    found = entries_of_posting(conn, posting_id)
    kind, trade_no = conn.execute(
        sa.select(postings.c.kind, postings.c.trade_no).where(postings.c.id == posting_id)
    ).one()
    return PostingResult(posting_id, kind, trade_no, tuple(found), True)


def known_key(conn: Connection, key: str | None, digest: str | None) -> PostingResult | None:
    """R5 for a posting whose legs depend on what is stored (reversals): the first posting's
    answer for a replay, a conflict for another request, ``None`` for a new key."""
    if key is None:
        return None
    found = conn.execute(
        sa.select(postings.c.id, postings.c.request_hash).where(postings.c.idempotency_key == key)
    ).first()
    if found is None:
        return None
    if found.request_hash != digest:
        raise rules.key_conflict(key)
    return _replay(conn, found.id)


def _chart_ids(plan: Plan, legs: range) -> list[int]:
    return [i for leg in legs for i in (plan.category[leg], plan.subject[leg]) if i is not None]


def _entry(plan, i, leg, entry_id, posting_id, acc, after, counterparty, trade_no, trade_time,
           recorded_at, names) -> Entry:  # fmt: skip
    platform = plan.platform_balance[leg]
    return Entry(
        id=entry_id,
        posting_id=posting_id,
        account_id=acc.id,
        account_number=acc.number,
        account_name=acc.name,
        type=plan.type[leg],
        amount=from_minor(plan.delta[leg]),
        balance_after=from_minor(after),
        trade_no=trade_no,
        trade_time=trade_time.astimezone(UTC),
        recorded_at=recorded_at.astimezone(UTC),
        operator_id=plan.operator_id[i],
        category_id=plan.category[leg],
        subject_id=plan.subject[leg],
        category_name=names.get(plan.category[leg]),
        subject_name=names.get(plan.subject[leg]),
        counterparty=counterparty,
        description=plan.description[leg],
        remark=plan.remark[i],
        source=plan.source[i],
        external_id=plan.external_id[i],
        reverses_entry_id=plan.reverses_entry[leg],
        platform_balance=None if platform is None else from_minor(platform),
        currency=acc.currency,
        shop_code=acc.shop_code,
    )
