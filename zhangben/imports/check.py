"""``zhangben verify`` for imported bills: the continuity check over the stored rows.

Per platform and account, the stored rows with a balance are chained in time order (ties in
the order they were written, which is the file's chronological order) and every break is
reported with the rows around it. Also checked: every imported row that moves money has its
ledger entry, with the same amount and platform balance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.imports.continuity import ChainChecker, ChainPoint
from zhangben.store.bills_tables import bill_rows
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
