"""``zhangben verify`` for imported bills: the continuity check over the stored rows, and the
ledger's balances against the platform's.

* **bills** (:func:`check_bills`): per platform and account, the stored rows with a balance
  are chained in time order (ties in the order they were written, which is the file's
  chronological order) and every break is reported with the rows around it. Also checked:
  every imported row that moves money has its ledger entry, with the same amount and platform
  balance.
* **drift** (:func:`check_drift`): per account that holds imported rows with a balance, the
  ledger's balance at each imported row — the running sum of all the account's entries in
  time order, whatever their source — against the platform's balance column at that row; the
  first row where they part is reported. Set-based: one window function in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.money import format_amount, from_minor
from zhangben.imports.continuity import SHANGHAI, ChainChecker, ChainPoint
from zhangben.store.bills_tables import bill_rows, import_batches
from zhangben.store.tables import accounts, entries

MAX_PROBLEMS = 100


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


def check_chains(conn: Connection) -> BillsReport:
    report = BillsReport()
    query = (
        sa.select(
            bill_rows.c.platform,
            accounts.c.number,
            bill_rows.c.line,
            bill_rows.c.flow_no,
            bill_rows.c.trade_time,
            bill_rows.c.income,
            bill_rows.c.expense,
            bill_rows.c.balance,
            bill_rows.c.unique_key,
            bill_rows.c.import_id,
        )
        .join(accounts, accounts.c.id == bill_rows.c.account_id)
        .where(bill_rows.c.balance.is_not(None))
        .order_by(
            bill_rows.c.platform, bill_rows.c.account_id, bill_rows.c.trade_time, bill_rows.c.id
        )
    )
    current = None
    checker = ChainChecker()

    def flush() -> None:
        if current is not None:
            for b in checker.finish():
                report.add(f"{current[0]} account {current[1]}: {b}")

    for row in conn.execution_options(yield_per=5000).execute(query):
        chain = (row.platform, row.number)
        if chain != current:
            flush()
            current, checker = chain, ChainChecker()
            report.accounts_checked += 1
        report.entries_checked += 1
        checker.feed(
            ChainPoint(
                row.line,
                row.flow_no,
                row.trade_time,
                row.income - row.expense,
                row.balance,
                row.unique_key,
                row.import_id,
            )
        )
    flush()
    return report


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
    rows = sa.select(
        b.account_id, b.trade_time.label("t"), sa.literal(1).label("k"), b.id.label("n"),
        sa.func.coalesce(e.amount, 0).label("amount"), b.balance.label("platform"),
    ).select_from(bill_rows.outerjoin(entries, e.id == b.entry_id)).where(
        b.account_id.in_(bill_accounts)
    )  # fmt: skip
    linked = sa.exists().where(
        b.platform == e.source,
        b.account_id == e.account_id,
        b.unique_key == e.external_id,
        b.entry_id == e.id,
    )
    others = sa.select(
        e.account_id, e.trade_time.label("t"), sa.literal(0).label("k"), e.id.label("n"),
        e.amount.label("amount"), sa.null().label("platform"),
    ).where(
        e.account_id.in_(bill_accounts),
        e.platform_balance.is_(None),  # not written by an import with a balance column
        sa.or_(e.external_id.is_(None), ~linked),
    )  # fmt: skip
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
