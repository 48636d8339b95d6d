"""The close checks: what stands in the way of closing a month, listed, one finding per
account and problem (:class:`~zhangben.core.periods.Finding`).

* ``missing_import_days`` — for each bill account of the scope (an account of a platform's
  type, or one that bills were imported into, with an entry dated before the month's end),
  the days of the month that no imported file covers (a file covers the days from its first
  row to its last, in the business time zone);
* ``continuity`` — breaks in the chain of the platform's balance column over the month's
  imported rows (:mod:`zhangben.imports.continuity`), from the last row before the month;
* ``verify`` — the problems ``zhangben verify`` reports: the ledger (I1–I3), every imported
  row against its entry, the drift of the ledger's balance from the platform's balance
  column, and the scope's latest closed period, whose closing is this month's
  opening (the bills' chains are the continuity check's, over the month; the other closed
  periods are ``zhangben verify``'s).

Each check is a function ``(conn, scope) -> list[Finding]``, listed in :data:`CHECKS`, run in
one read snapshot; a new check is one more function there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core import periods
from zhangben.core.periods import Finding
from zhangben.core.verification import verify as verify_ledger
from zhangben.imports.check import BillsReport, check_drift, check_entries
from zhangben.imports.continuity import ChainChecker, ChainPoint
from zhangben.imports.rows import PLATFORMS
from zhangben.store.bills_tables import bill_rows, import_batches
from zhangben.store.tables import accounts, entries

#: breaks listed per account (all are counted)
MAX_BREAKS = 10


@dataclass(frozen=True, slots=True)
class Scope:
    """The month being closed: its bounds and the accounts it covers."""

    month: periods.Month
    shop: str
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return self.month.start(self.tz)

    @property
    def end(self) -> datetime:
        return self.month.end(self.tz)

    def days(self) -> list[date]:
        first, last = self.start.date(), (self.end - timedelta(days=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def bill_accounts(conn: Connection, scope: Scope) -> list[tuple[int, str, str]]:
    """(id, number, type) of the scope's bill accounts in use by the month's end: of a
    platform's type or imported into, with an entry dated before the month ended."""
    imported = sa.select(import_batches.c.account_id)
    used = sa.exists().where(
        entries.c.account_id == accounts.c.id, entries.c.trade_time < scope.end
    )
    query = (
        sa.select(accounts.c.id, accounts.c.number, accounts.c.type)
        .where(sa.or_(accounts.c.type.in_(PLATFORMS), accounts.c.id.in_(imported)), used)
        .order_by(accounts.c.number)
    )
    if scope.shop:
        query = query.where(accounts.c.shop_code == scope.shop)
    return conn.execute(query).all()


def missing_import_days(conn: Connection, scope: Scope) -> list[Finding]:
    found = []
    for account_id, number, _ in bill_accounts(conn, scope):
        spans = conn.execute(
            sa.select(import_batches.c.first_trade_time, import_batches.c.last_trade_time).where(
                import_batches.c.account_id == account_id,
                import_batches.c.first_trade_time < scope.end,
                import_batches.c.last_trade_time >= scope.start,
            )
        ).all()
        covered: set[date] = set()
        for first, last in spans:
            a, b = sorted((first, last))
            day, until = a.astimezone(scope.tz).date(), b.astimezone(scope.tz).date()
            while day <= until:
                covered.add(day)
                day += timedelta(days=1)
        missing = [d for d in scope.days() if d not in covered]
        if missing:
            found.append(
                Finding(
                    "missing_import_days",
                    number,
                    f"account {number}: no import for {_ranges(missing)} ({len(missing)} "
                    f"day{'s' if len(missing) > 1 else ''})",
                )
            )
    return found


def continuity(conn: Connection, scope: Scope) -> list[Finding]:
    found = []
    b = bill_rows
    columns = (b.c.line, b.c.flow_no, b.c.trade_time, b.c.income - b.c.expense, b.c.balance,
               b.c.unique_key, b.c.import_id)  # fmt: skip
    for account_id, number, _ in bill_accounts(conn, scope):
        mine = sa.and_(b.c.account_id == account_id, b.c.balance.is_not(None))
        before = conn.execute(
            sa.select(*columns)
            .where(mine, b.c.trade_time < scope.start)
            .order_by(b.c.trade_time.desc(), b.c.id.desc())
            .limit(1)
        ).first()
        checker = ChainChecker(None if before is None else ChainPoint(*before))
        rows = conn.execute(
            sa.select(*columns)
            .where(mine, b.c.trade_time >= scope.start, b.c.trade_time < scope.end)
            .order_by(b.c.trade_time, b.c.id)
        )
        for row in rows:
            checker.feed(ChainPoint(*row))
        breaks = checker.finish()
        for brk in breaks[:MAX_BREAKS]:
            found.append(Finding("continuity", number, f"account {number}: {brk}"))
        if len(breaks) > MAX_BREAKS:
            more = len(breaks) - MAX_BREAKS
            found.append(Finding("continuity", number, f"account {number}: … {more} more breaks"))
    return found


def verify_problems(conn: Connection, scope: Scope) -> list[Finding]:
    bills = BillsReport()
    check_entries(conn, bills)  # the bills' chains are the continuity check's, month by month
    closed = periods.verify(conn, shop=scope.shop, latest=True)  # the month this one follows
    drift = check_drift(conn).problems  # the ledger's balance against the platforms' column
    problems = [*verify_ledger(conn).problems, *bills.problems, *drift, *closed.problems]
    return [Finding("verify", None, problem) for problem in problems]


CHECKS: tuple[Callable[[Connection, Scope], list[Finding]], ...] = (
    missing_import_days,
    continuity,
    verify_problems,
)


def run(conn: Connection, scope: Scope) -> list[Finding]:
    return [finding for check in CHECKS for finding in check(conn, scope)]


def _ranges(days: list[date]) -> str:
    """``2024-03-05..2024-03-07, 2024-03-20``."""
    parts, start, prev = [], days[0], days[0]
    for day in days[1:] + [None]:
        if day is not None and day == prev + timedelta(days=1):
            prev = day
            continue
        parts.append(str(start) if start == prev else f"{start}..{prev}")
        if day is not None:
            start = prev = day
    return ", ".join(parts)
