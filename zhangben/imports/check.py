"""``zhangben verify`` for imported bills: the continuity check over the stored rows, and the
ledger's balances against the platform's.

* **bills** (:func:`check_bills`): per platform and account, the stored rows with a balance
  are chained in time order (ties in the order they were written, which is the file's
  chronological order) and every break is reported with the rows around it; only the rows
  around a break leave the database (:func:`check_chains`). Also checked: every imported row
  that moves money has its ledger entry, with the same amount and platform balance.
* **drift** (:func:`check_drift`): per account that holds imported rows with a balance, the
  ledger's balance at each imported row — the running sum of all the account's entries in
  time order, whatever their source — against the platform's balance column at that row; the
  first row where they part is reported. Set-based: one window function in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.money import format_amount, from_minor
from zhangben.imports.continuity import SHANGHAI, ChainChecker, ChainPoint
from zhangben.store.bills_tables import bill_rows, import_batches
from zhangben.store.tables import accounts, entries

MAX_PROBLEMS = 100
#: PostgreSQL: the sorts of the window functions over a large ledger stay in memory
WORK_MEM = "256MB"


@dataclass
class BillsReport:
    accounts_checked: int = 0
    entries_checked: int = 0  # bill rows checked
    problems: list[str] = field(default_factory=list)
    more: int = 0  # problems found beyond the listed ones

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more += 1


def check_bills(conn: Connection) -> BillsReport:
    """Every chain and every row's entry, in one snapshot (``conn``)."""
    report = check_chains(conn)
    check_entries(conn, report)
    if report.more:
        report.problems.append(f"… and {report.more} more problem(s)")
    return report


#: a chain with more places where consecutive rows do not chain is checked whole
MAX_WINDOWED_BREAKS = 1000
#: rows fed to the checker after a place where consecutive rows do not chain: enough for it
#: to settle (a reordering looks one row ahead, and may leave its partner one row behind)
WINDOW_AFTER = 8


def check_chains(conn: Connection) -> BillsReport:
    """The continuity of every chain (platform and account, rows with a balance, in time order
    then id), as :class:`ChainChecker` reports it over the whole chain.

    Set-based first: one window function finds the places where a row does not chain to the
    row before it. Where there are none (the usual case), the chain has no break and none of
    its rows leaves the database. Otherwise only the rows around those places are read and fed
    to the checker (:func:`windowed_breaks`); the whole chain is streamed through it when the
    places are many, or when the checker has not settled at the end of a window."""
    report = BillsReport()
    _roomy(conn)
    b = bill_rows.c
    chain, order = (b.platform, b.account_id), (b.trade_time, b.id)
    ranked = (
        sa.select(
            b.platform,
            b.account_id,
            b.balance,
            (b.income - b.expense).label("net"),
            sa.func.row_number().over(partition_by=chain, order_by=order).label("n"),
            sa.func.lag(b.balance).over(partition_by=chain, order_by=order).label("prev"),
            sa.func.lead(b.id).over(partition_by=chain, order_by=order).label("following"),
        )  # fmt: skip
        .where(b.balance.is_not(None))
        .subquery()
    )
    r = ranked.c
    broken = sa.and_(r.prev.is_not(None), r.prev + r.net != r.balance)
    sizes, breaks = [], {}
    for platform, account_id, n, brk, following in conn.execute(  # breaks and chain ends
        sa.select(r.platform, r.account_id, r.n, broken, r.following)
        .where(sa.or_(broken, r.following.is_(None)))
        .order_by(r.platform, r.account_id, r.n)
    ):
        if brk:
            breaks.setdefault((platform, account_id), []).append(n)
        if following is None:
            sizes.append((platform, account_id, n))
    numbers = dict(conn.execute(sa.select(accounts.c.id, accounts.c.number)).all())
    for platform, account_id, size in sizes:
        report.accounts_checked += 1
        report.entries_checked += size
        places = breaks.get((platform, account_id))
        if not places:
            continue
        found = None
        if len(places) <= MAX_WINDOWED_BREAKS:
            found = windowed_breaks(places, size, partial(_points, conn, platform, account_id))
        if found is None:
            found = _stream_chain(conn, platform, account_id)
        for brk in found:
            report.add(f"{platform} account {numbers[account_id]}: {brk}")
    return report


def windowed_breaks(places: list[int], size: int, fetch) -> list | None:
    """The breaks :class:`ChainChecker` finds over a chain of ``size`` rows (numbered from 1)
    whose consecutive rows fail to chain only at ``places`` (row ``n`` does not chain to row
    ``n - 1``), from the rows around those places alone: ``fetch(numbers)`` returns those rows'
    points by number. Between windows every row chains to the one before it, so the checker's
    state there is only "the previous row"; a window starts one row before its first place.
    ``None`` when the checker has not settled at the end of a window (then check it whole)."""
    windows: list[list[int]] = []
    for n in places:
        lo, hi = n - 1, min(n + WINDOW_AFTER, size)
        if windows and lo <= windows[-1][1] + 1:
            windows[-1][1] = hi
        else:
            windows.append([lo, hi])
    points = fetch([n for lo, hi in windows for n in range(lo, hi + 1)])
    found = []
    for lo, hi in windows:
        checker = ChainChecker()
        for n in range(lo, hi + 1):
            checker.feed(points[n])
        if hi < size and (checker._suspect is not None or checker.previous is not points[hi]):
            return None
        found.extend(checker.finish())
    return found


def _chain_query(platform: str, account_id: int):
    b = bill_rows.c
    return sa.select(
        b.line, b.flow_no, b.trade_time, (b.income - b.expense).label("net"), b.balance,
        b.unique_key, b.import_id,
        sa.func.row_number().over(order_by=(b.trade_time, b.id)).label("n"),
    ).where(
        b.platform == platform, b.account_id == account_id, b.balance.is_not(None)
    )  # fmt: skip


def _point(row) -> ChainPoint:
    return ChainPoint(
        row.line, row.flow_no, row.trade_time, row.net, row.balance, row.unique_key, row.import_id
    )


def _points(conn: Connection, platform: str, account_id: int, wanted: list[int]) -> dict:
    rows = _chain_query(platform, account_id).subquery()
    query = sa.select(rows).where(rows.c.n.in_(wanted))
    return {row.n: _point(row) for row in conn.execute(query)}


def _stream_chain(conn: Connection, platform: str, account_id: int) -> list:
    """Every row of the chain through the checker, streamed."""
    rows = _chain_query(platform, account_id).subquery()
    checker = ChainChecker()
    query = sa.select(rows).order_by(rows.c.n)
    for row in conn.execution_options(yield_per=5000).execute(query):
        checker.feed(_point(row))
    return checker.finish()


def check_entries(conn: Connection, report: BillsReport) -> None:
    """Bill rows against their ledger entries."""
    net = bill_rows.c.income - bill_rows.c.expense
    missing = (
        sa.select(bill_rows.c.platform, bill_rows.c.import_id, bill_rows.c.line)
        .where(bill_rows.c.entry_id.is_(None), net != 0)
        .limit(MAX_PROBLEMS)
    )
    for platform, import_id, line in conn.execute(missing):
        report.add(f"{platform} line {line} of import {import_id}: no ledger entry")
    differ = (
        sa.select(bill_rows.c.platform, bill_rows.c.import_id, bill_rows.c.line, entries.c.id)
        .join(entries, entries.c.id == bill_rows.c.entry_id)
        .where(
            sa.or_(
                entries.c.amount != net,
                entries.c.account_id != bill_rows.c.account_id,
                sa.and_(  # an entry posted by hand before its bill came carries no balance
                    bill_rows.c.balance.is_not(None),
                    entries.c.platform_balance.is_not(None),
                    entries.c.platform_balance != bill_rows.c.balance,
                ),
            )
        )
        .limit(MAX_PROBLEMS)
    )
    for platform, import_id, line, entry_id in conn.execute(differ):
        report.add(
            f"{platform} line {line} of import {import_id}: entry {entry_id} does not match "
            "the row's amount, account or balance"
        )


#: the running sums are split in two (high and low parts) so that SQLite's ``sum()``, which
#: raises on a 64-bit overflow, never overflows, whatever back-dated entries add up to
_SPLIT = 10**9


def check_drift(conn: Connection) -> BillsReport:
    """The ledger's balance at each imported row against the platform's balance column: one
    problem per account, at the first row where they part.

    Per account that holds imported rows with a balance, one stream in time order: each
    imported row at the platform's time, moving the balance by its ledger entry (a flow posted
    by hand and linked to the row counts at the row's time), and every other entry of the
    account (an opening balance, a posting by hand, a reversal, a transfer) at its own trade
    time, before the rows of the same instant. A window function keeps the running balance;
    the first row whose platform balance differs from it is reported."""
    report = BillsReport()
    _roomy(conn)
    b, e = bill_rows.c, entries.c
    bill_accounts = (
        sa.select(import_batches.c.account_id)
        .where(import_batches.c.first_balance.is_not(None))
        .distinct()
    )
    report.accounts_checked, report.entries_checked = conn.execute(
        sa.select(sa.func.count(sa.distinct(b.account_id)), sa.func.count()).where(
            b.account_id.in_(bill_accounts), b.balance.is_not(None)
        )
    ).one()
    # a row moves the ledger by its entry's amount, which is the row's (the bills check proves
    # it), so the rows need no join with their entries
    moved = sa.case((b.entry_id.is_(None), 0), else_=b.income - b.expense)
    rows = sa.select(
        b.account_id, b.trade_time.label("t"), sa.literal(1).label("k"), b.id.label("n"),
        moved.label("amount"), b.balance.label("platform"),
    ).where(b.account_id.in_(bill_accounts))  # fmt: skip
    link = bill_rows.alias("link")  # the row a flow posted by hand is linked to, if any
    linked = sa.and_(
        link.c.platform == e.source,
        link.c.account_id == e.account_id,
        link.c.unique_key == e.external_id,
        link.c.entry_id == e.id,
    )
    others = (
        sa.select(
            e.account_id,
            e.trade_time.label("t"),
            sa.literal(0).label("k"),
            e.id.label("n"),
            e.amount.label("amount"),
            sa.null().label("platform"),
        )  # fmt: skip
        .select_from(entries.outerjoin(link, linked))
        .where(
            e.account_id.in_(bill_accounts),
            e.platform_balance.is_(None),  # not written by an import with a balance column
            link.c.id.is_(None),
        )
    )
    events = sa.union_all(rows, others).subquery()
    v = events.c
    order = (v.t, v.k, v.n)
    high = sa.func.sum(v.amount // _SPLIT).over(
        partition_by=v.account_id, order_by=order, rows=(None, 0)
    )
    low = sa.func.sum(v.amount % _SPLIT).over(
        partition_by=v.account_id, order_by=order, rows=(None, 0)
    )
    running = sa.select(events, high.label("high"), low.label("low")).subquery()
    r = running.c
    ledger = r.high * _SPLIT + r.low
    first = sa.func.row_number().over(partition_by=r.account_id, order_by=(r.t, r.k, r.n))
    parted = (
        sa.select(r.account_id, r.n, r.platform, ledger.label("ledger"), first.label("first"))
        .where(r.platform.is_not(None), ledger != r.platform)
        .subquery()
    )
    p = parted.c
    query = (
        sa.select(
            accounts.c.number,
            b.platform,
            b.trade_time,
            p.ledger,
            p.platform.label("balance"),
            b.line,
            b.flow_no,
            b.import_id,
            import_batches.c.filename,
        )  # fmt: skip
        .select_from(parted)
        .join(bill_rows, b.id == p.n)
        .join(accounts, accounts.c.id == p.account_id)
        .join(import_batches, import_batches.c.id == b.import_id)
        .where(p.first == 1)
        .order_by(accounts.c.number)
    )
    for row in conn.execute(query):
        report.add(_drift_text(row))
    if report.more:
        report.problems.append(f"… and {report.more} more problem(s)")
    return report


def _roomy(conn: Connection) -> None:
    """Room for the window functions' sorts, for this transaction only (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")


def _drift_text(row) -> str:
    when = row.trade_time.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    flow = f"flow {row.flow_no}, " if row.flow_no else ""
    where = f"line {row.line} of {row.filename} (import {row.import_id}, {flow}{when})"
    ledger, platform = int(row.ledger), int(row.balance)
    return (
        f"{row.platform} account {row.number}: the ledger parts from the platform at {where}: "
        f"ledger balance {_m(ledger)}, platform balance {_m(platform)}, "
        f"difference {_m(ledger - platform)}"
    )


def _m(minor: int) -> str:
    return format_amount(from_minor(minor), 2)
