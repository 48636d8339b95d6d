"""The summaries writer: entries folded into ``daily_summaries`` and ``monthly_summaries``.

A fold adds the entries with ``last_entry_id < id <= end`` to the rows of their account,
business day (month), category and subject, and moves ``last_entry_id`` to ``end``, in one
transaction. It must never pass over an entry that is not committed yet: on PostgreSQL ids
are drawn before commit, so an entry with a lower id can commit after a higher one.

So on PostgreSQL the fold first takes ``LOCK TABLE accounts IN EXCLUSIVE MODE``. Every
writer locks the rows of its accounts (``FOR UPDATE``, I9) before it draws an entry id, and
every insert into ``entries`` share-locks its account row (the foreign key): the table lock
waits until each transaction holding such a lock has ended, and makes new ones wait until
the fold commits. ``max(id)``, read after it, is then an id below which every entry is
committed, and every later entry gets a higher id. Plain reads go on meanwhile. On SQLite,
the write transaction (``BEGIN IMMEDIATE``) runs alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from zhangben.store import days
from zhangben.store.summary_tables import (
    SPLIT,
    daily_summaries,
    monthly_summaries,
    summary_state,
)
from zhangben.store.tables import entries

#: how long a fold that need not wait tries for its lock on PostgreSQL (writers that come
#: meanwhile queue behind it, so it must be short)
TRY_LOCK = "100ms"
#: a fold's grouping stays in memory (PostgreSQL)
WORK_MEM = "256MB"


@dataclass(frozen=True, slots=True)
class Folded:
    start: int  # last_entry_id before the fold (0 after a reset)
    end: int  # last_entry_id after it
    top: int  # the highest entry id, every one up to it committed
    reset: bool  # the summaries were emptied first (asked, or another time zone)


def fold(
    conn: Connection, zone: str, *, limit: int, wait: bool, reset: bool = False
) -> Folded | None:
    """Fold at most ``limit`` entries, in the caller's write transaction. Returns None, having
    written nothing, when ``wait`` is false and another fold or a writer holds the locks."""
    pg = conn.dialect.name == "postgresql"
    state = sa.select(summary_state.c.last_entry_id, summary_state.c.time_zone).where(
        summary_state.c.id == 1
    )
    if pg:
        row = conn.execute(state.with_for_update(skip_locked=not wait)).first()
        if row is None:
            return None  # another fold holds the state row
        if not _lock_accounts(conn, wait):
            return None
    else:
        row = conn.execute(state).one()
    start, stored_zone = int(row.last_entry_id), row.time_zone
    reset = reset or (stored_zone is not None and stored_zone != zone)
    if reset:
        for table in (daily_summaries, monthly_summaries):
            if pg:
                conn.exec_driver_sql(f"TRUNCATE {table.name}")
            else:
                conn.execute(table.delete())
        start = 0
    top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(entries.c.id), 0))).scalar_one()
    end = min(int(top), start + limit)
    if end > start:
        if pg:
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")  # the hash in memory
            _add_pg(conn, zone, start, end)
        else:
            for table, period in (
                (daily_summaries, days.local_day(entries.c.trade_time, zone, "sqlite")),
                (monthly_summaries, days.local_month(entries.c.trade_time, zone, "sqlite")),
            ):
                _add(conn, table, period, start, end)
    conn.execute(
        summary_state.update()
        .where(summary_state.c.id == 1)
        .values(last_entry_id=end, time_zone=zone, updated_at=datetime.now(UTC))
    )
    return Folded(start, end, int(top), reset)


def _lock_accounts(conn: Connection, wait: bool) -> bool:
    if wait:
        conn.exec_driver_sql("LOCK TABLE accounts IN EXCLUSIVE MODE")
        return True
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{TRY_LOCK}'")
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("LOCK TABLE accounts IN EXCLUSIVE MODE")
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        return False
    conn.exec_driver_sql("SET LOCAL lock_timeout = 0")
    return True


def flow_columns(amount, count=None) -> list:
    """entries, income_hi, income_lo, expense_hi, expense_lo of entries' amounts, summed
    (``count`` given: per row of a summary table; else aggregated over entries)."""
    inflow = sa.case((amount > 0, amount), else_=0)
    outflow = sa.case((amount < 0, -amount), else_=0)
    return [
        sa.func.count() if count is None else count,
        sa.func.sum(inflow // SPLIT),
        sa.func.sum(inflow % SPLIT),
        sa.func.sum(outflow // SPLIT),
        sa.func.sum(outflow % SPLIT),
    ]


def _grouped(period, start: int, end: int) -> sa.Select:
    """The entries ``start < id <= end`` summed per account, ``period``, category, subject."""
    category = sa.func.coalesce(entries.c.category_id, 0)
    subject = sa.func.coalesce(entries.c.subject_id, 0)
    return (
        sa.select(entries.c.account_id, period, category, subject, *flow_columns(entries.c.amount))
        .where(entries.c.id > start, entries.c.id <= end)
        .group_by(entries.c.account_id, period, category, subject)
    )


def _upsert(insert_into, table: sa.Table, rows: sa.Select):
    """``INSERT … SELECT`` that adds the sums to the rows already there."""
    names = [c.name for c in table.c]
    insert = insert_into(table).from_select(names, rows)
    return insert.on_conflict_do_update(
        index_elements=names[:4], set_={n: table.c[n] + insert.excluded[n] for n in names[4:]}
    )


def _add(conn: Connection, table: sa.Table, period, start: int, end: int) -> None:
    conn.execute(_upsert(sqlite_insert, table, _grouped(period, start, end)))


def _add_pg(conn: Connection, zone: str, start: int, end: int) -> None:
    """Both tables in one statement: the day sums (a CTE) go into the daily rows, and summed
    again by month into the monthly rows (the entries are read once)."""
    day = _grouped(days.local_day(entries.c.trade_time, zone, "postgresql"), start, end)
    d = day.cte("zb_days")
    daily = _upsert(pg_insert, daily_summaries, sa.select(d)).cte("zb_daily")
    month = sa.cast(sa.func.date_trunc("month", sa.cast(d.c[1], sa.DateTime)), sa.Date)
    by_month = sa.select(
        d.c[0], month, d.c[2], d.c[3], *(sa.func.sum(d.c[i]) for i in range(4, 9))
    ).group_by(d.c[0], month, d.c[2], d.c[3])
    conn.execute(_upsert(pg_insert, monthly_summaries, by_month).add_cte(daily))
