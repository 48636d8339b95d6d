"""Daily and monthly summaries (日报/月结 figures): kept by folding the entries, read exactly.

The summary tables (:mod:`zhangben.store.summary_tables`) hold every entry up to
``summary_state.last_entry_id``, per account, business day or month, category and subject.
Nothing in the posting path writes them, so postings cost what they did. They are brought up
to date by a *fold* (:mod:`zhangben.store.writers.summaries`), run

* by a report or a balance-as-of when more than :data:`FOLD_AT` entries wait, trying its lock
  briefly (a writer that holds it is never kept waiting for long);
* by ``zhangben summaries rebuild`` (all of them, from nothing) and ``summaries refresh``.

Every read is exact without waiting for a fold: it adds the entries after
``last_entry_id`` (the *tail*), read in the same statement, to the summary rows. The fold
guarantees that no entry with a lower id can appear later, so summary rows plus tail are every
entry the statement's snapshot holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zhangben.core.money import format_amount, from_minor
from zhangben.store import days
from zhangben.store.engine import run_write
from zhangben.store.summary_tables import (
    SPLIT,
    daily_summaries,
    monthly_summaries,
    summary_state,
)
from zhangben.store.tables import accounts, entries
from zhangben.store.writers import summaries as writer

#: a read first folds when more entries than this wait in the tail
FOLD_AT = 1000
#: entries per fold transaction (writers wait for each one, so keep it short)
CHUNK = 250_000


@dataclass(frozen=True, slots=True)
class SummaryStatus:
    """How far the summaries are folded: every entry up to ``last_entry_id`` of
    ``top_entry_id``, by the days of ``time_zone``."""

    last_entry_id: int
    top_entry_id: int
    time_zone: str | None
    updated_at: datetime | None
    folded: int = 0  # entries folded by the call that returned this status

    @property
    def pending(self) -> int:
        return max(0, self.top_entry_id - self.last_entry_id)


def status(conn: Connection) -> SummaryStatus:
    top = sa.select(sa.func.coalesce(sa.func.max(entries.c.id), 0)).scalar_subquery()
    row = conn.execute(
        sa.select(
            summary_state.c.last_entry_id,
            top,
            summary_state.c.time_zone,
            summary_state.c.updated_at,
        ).where(summary_state.c.id == 1)
    ).one()
    return SummaryStatus(int(row[0]), int(row[1]), row[2], row[3])


def refresh(engine: Engine, zone: str, *, wait: bool = True, reset: bool = False) -> int | None:
    """Fold every entry there is, in transactions of :data:`CHUNK` entries; ``reset`` empties
    the summaries first (a rebuild). Returns how many entries were folded, or None when
    ``wait`` is false and the locks were taken (nothing more was folded then)."""
    folded = 0
    first = True
    while True:
        done = run_write(
            engine,
            lambda conn, first=first: writer.fold(
                conn, zone, limit=CHUNK, wait=wait, reset=reset and first
            ),
        )
        if done is None:
            return None
        first = False
        folded += done.end - done.start
        if done.end >= done.top:
            return folded


def ensure_fresh(engine: Engine, zone: str) -> None:
    """Before a read: rebuild summaries of another time zone (waiting for the locks), or fold
    a long tail when the locks are free at once."""
    with engine.connect() as conn:
        now = status(conn)
    if now.time_zone is not None and now.time_zone != zone:
        refresh(engine, zone, wait=True)
    elif now.pending > FOLD_AT:
        refresh(engine, zone, wait=False)


# -- reading: summary rows and the tail, as one set of flow rows -------------------------------

#: the columns of every flow source, in order
FLOW = ("account_id", "period", "category_id", "subject_id", "n", "ihi", "ilo", "ehi", "elo")


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True, slots=True)
class Sources:
    """Builds flow rows (columns :data:`FLOW`) from the summary rows and the tail, for the
    accounts ``accounts`` selects (None: every account). ``zone``, ``watermark`` and the
    bounds given to the methods may be values or bind parameters. The watermark is the
    ``last_entry_id`` read in the same snapshot as the rows (``read_snapshot``), so that the
    planner sees it: the tail of a fresh fold is found empty at once."""

    zone: object
    dialect: str
    watermark: object
    accounts: sa.Select | None = None  # SELECT accounts.id … of the scope

    def _scoped(self, column) -> list:
        if self.accounts is None:
            return []
        if self.dialect == "postgresql":
            # = ANY(ARRAY(subquery)): one InitPlan, then an index scan per account id (a
            # join through the UNION ALL would read every summary row of the range)
            ids = sa.func.array(self.accounts.scalar_subquery())
            return [column == sa.any_(ids)]
        return [column.in_(self.accounts)]

    def summary(self, table: sa.Table, period, *conditions, minus: bool = False) -> sa.Select:
        """Rows of ``daily_summaries`` or ``monthly_summaries``; ``period``: their column, a
        value, or None (no time). ``minus``: inflows and outflows swapped, so that adding
        the rows takes their flow away (an opening from the balances: :meth:`balances`)."""
        t = table.c
        into, out = (t.income_hi, t.income_lo), (t.expense_hi, t.expense_lo)
        if minus:
            into, out = out, into
        columns = (t.account_id, _period(period), t.category_id, t.subject_id, t.entries,
                   *into, *out)  # fmt: skip
        return _labelled(columns).where(*conditions, *self._scoped(t.account_id))

    def balances(self) -> sa.Select:
        """Each account's balance (``accounts.balance``, what all its entries add up to) as a
        flow row: an inflow when positive, an outflow when negative."""
        return _amount_rows(
            accounts.c.balance, accounts.c.id, _period(None), sa.literal(0), sa.literal(0), 0
        ).where(*self._scoped(accounts.c.id))

    def day(self):
        """The business day of an entry (its trade time in ``zone``)."""
        return days.local_day(entries.c.trade_time, self.zone, self.dialect)

    def tail(self, period: str | None, *conditions, minus: bool = False) -> sa.Select:
        """The entries not folded yet, one row each, by ``period`` (None, ``day`` or
        ``month``); ``conditions`` may use :meth:`day`; ``minus`` as in :meth:`summary`."""
        by = {
            None: None,
            "day": self.day(),
            "month": days.local_month(entries.c.trade_time, self.zone, self.dialect),
        }[period]
        return _entry_rows(_period(by), minus=minus).where(
            entries.c.id > self.watermark, *conditions, *self._scoped(entries.c.account_id)
        )

    def on_day_until(self, instant: datetime, day: date) -> sa.Select:
        """The entries of business day ``day`` with trade time at or before ``instant``
        (folded or not; ``instant`` is of ``day``)."""
        return _entry_rows(_period(None)).where(
            entries.c.trade_time <= instant,
            # a business day is at most 26 hours long: this bound lets the index find the rows
            entries.c.trade_time > instant - timedelta(days=2),
            self.day() == day,
            *self._scoped(entries.c.account_id),
        )


def watermark(conn: Connection) -> int:
    return int(
        conn.execute(
            sa.select(summary_state.c.last_entry_id).where(summary_state.c.id == 1)
        ).scalar_one()
    )


def _labelled(columns) -> sa.Select:
    return sa.select(*(c.label(name) for c, name in zip(columns, FLOW, strict=True)))


def _period(value):
    if value is None:
        return sa.cast(sa.null(), sa.Date)
    if isinstance(value, date):
        return sa.literal(value, sa.Date)
    return sa.type_coerce(value, sa.Date)


def _entry_rows(period, *, minus: bool = False) -> sa.Select:
    """Entries as flow rows, one each (``minus``: inflows and outflows swapped)."""
    amount = -entries.c.amount if minus else entries.c.amount
    return _amount_rows(
        amount,
        entries.c.account_id,
        period,
        sa.func.coalesce(entries.c.category_id, 0),
        sa.func.coalesce(entries.c.subject_id, 0),
        1,
    )


def _amount_rows(amount, account_id, period, category, subject, n: int) -> sa.Select:
    """Flow rows of ``amount`` (positive: an inflow, negative: an outflow), split."""
    inflow = sa.case((amount > 0, amount), else_=0)
    outflow = sa.case((amount < 0, -amount), else_=0)
    return _labelled((
        account_id, period, category, subject, sa.literal(n, sa.BigInteger),
        inflow // SPLIT, inflow % SPLIT, outflow // SPLIT, outflow % SPLIT,
    ))  # fmt: skip


def union(parts: list[sa.Select], name: str = "flows") -> sa.Subquery:
    return sa.union_all(*parts).subquery(name)


def amount(hi, lo) -> int:
    """Minor units from the split sums (``None`` from an empty sum is 0)."""
    return int(hi or 0) * SPLIT + int(lo or 0)


# -- verify ------------------------------------------------------------------------------------


def check(conn: Connection, *, limit: int = 100) -> list[str]:
    """The summaries agree with the entries they say they hold: every daily row equals the
    entries of its account, day, category and subject up to ``last_entry_id`` (none missing,
    none extra), and every monthly row the sum of its month's daily rows."""
    state = status(conn)
    problems: list[str] = []
    if state.last_entry_id > state.top_entry_id:
        problems.append(
            f"summaries: folded up to entry {state.last_entry_id}, "
            f"but the highest entry is {state.top_entry_id}"
        )
    if state.time_zone is None:
        if conn.execute(sa.select(sa.func.count()).select_from(daily_summaries)).scalar_one():
            problems.append("summaries: rows exist but no fold was recorded")
        return problems
    zone, dialect = state.time_zone, conn.dialect.name
    day = days.local_day(entries.c.trade_time, zone, dialect)
    category = sa.func.coalesce(entries.c.category_id, 0)
    subject = sa.func.coalesce(entries.c.subject_id, 0)
    from_entries = (
        sa.select(
            entries.c.account_id, day, category, subject, *writer.flow_columns(entries.c.amount)
        )
        .where(entries.c.id <= state.last_entry_id)
        .group_by(entries.c.account_id, day, category, subject)
    )
    d = daily_summaries.c
    stored = sa.select(
        d.account_id, d.day, d.category_id, d.subject_id, d.entries,
        d.income_hi, d.income_lo, d.expense_hi, d.expense_lo,
    )  # fmt: skip
    _differences(conn, problems, "daily", from_entries, stored, limit)
    m = monthly_summaries.c
    month = _month_of_day(d.day, dialect)
    rollup = sa.select(
        d.account_id, month, d.category_id, d.subject_id, sa.func.sum(d.entries),
        sa.func.sum(d.income_hi), sa.func.sum(d.income_lo), sa.func.sum(d.expense_hi),
        sa.func.sum(d.expense_lo),
    ).group_by(d.account_id, month, d.category_id, d.subject_id)  # fmt: skip
    stored_months = sa.select(
        m.account_id, m.month, m.category_id, m.subject_id, m.entries,
        m.income_hi, m.income_lo, m.expense_hi, m.expense_lo,
    )  # fmt: skip
    _differences(conn, problems, "monthly", rollup, stored_months, limit)
    return problems[:limit]


def _month_of_day(column, dialect: str):
    if dialect == "postgresql":
        return sa.cast(sa.func.date_trunc("month", sa.cast(column, sa.DateTime)), sa.Date)
    return sa.type_coerce(sa.func.substr(column, 1, 8).op("||")("01"), sa.Date)


def _differences(conn, problems, kind, expected: sa.Select, stored: sa.Select, limit) -> None:
    """Rows of ``expected`` missing from ``stored`` and the other way round (EXCEPT both
    ways), worded with both sides."""
    keys: dict[tuple, dict[str, tuple]] = {}
    for side, query in (("expected", sa.except_(expected, stored)),
                        ("stored", sa.except_(stored, expected))):  # fmt: skip
        for row in conn.execute(query.limit(limit)):
            key = (int(row[0]), _date(row[1]), int(row[2]), int(row[3]))
            keys.setdefault(key, {})[side] = tuple(row[4:])
    if not keys:
        return
    numbers = dict(
        conn.execute(
            sa.select(accounts.c.id, accounts.c.number).where(
                accounts.c.id.in_({k[0] for k in keys})
            )
        ).all()
    )
    for (account, period, category, subject), sides in sorted(keys.items()):
        when = period.isoformat() if kind == "daily" else period.strftime("%Y-%m")
        what = f"{kind} summary of account {numbers.get(account, account)} for {when}"
        what += f" (category {category or '-'}, subject {subject or '-'})"
        problems.append(
            f"{what}: {_words(sides.get('stored'))} stored, but its "
            f"{'entries' if kind == 'daily' else 'daily rows'} give {_words(sides.get('expected'))}"
        )


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _words(sums: tuple | None) -> str:
    if sums is None:
        return "nothing"
    n, ihi, ilo, ehi, elo = sums
    return f"{int(n)} entries, income {_fmt(amount(ihi, ilo))}, expense {_fmt(amount(ehi, elo))}"


def _fmt(minor: int) -> str:
    """Two places, or four where the cents do not say it all."""
    return format_amount(from_minor(minor), 2 if minor % 100 == 0 else 4)
