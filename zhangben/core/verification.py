"""The verifier: proof that the stored balances never drifted from the entries.

Checks, over the whole ledger:
* every account's balance equals the sum of its entries;
* every entry's balance-after equals the previous entry's balance-after (in id order, per
  account, starting from zero) plus its amount;
* every transfer's legs sum to zero, and every reversal cancels exactly what it reverses;
* every entry's category and subject are in the chart;
* the daily and monthly summaries agree with the entries (:func:`.summaries.check`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core import summaries
from zhangben.core.money import format_amount, from_minor
from zhangben.store.tables import accounts, chart, entries, postings


@dataclass
class VerifyReport:
    accounts_checked: int = 0
    entries_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


_SPLIT = 10**9


def verify(conn: Connection, *, limit: int = 100) -> VerifyReport:
    report = VerifyReport()
    report.accounts_checked = conn.execute(
        sa.select(sa.func.count()).select_from(accounts)
    ).scalar_one()
    report.entries_checked = conn.execute(
        sa.select(sa.func.count()).select_from(entries)
    ).scalar_one()

    # in two parts, so that SQLite's sum(), which raises on a 64-bit overflow, never does,
    # in whatever order it adds (time order, by the index, may pass any balance ever held)
    sums = (
        sa.select(
            entries.c.account_id,
            sa.func.sum(entries.c.amount // _SPLIT).label("high"),
            sa.func.sum(entries.c.amount % _SPLIT).label("low"),
        )
        .group_by(entries.c.account_id)
        .subquery()
    )
    total = sa.func.coalesce(sums.c.high * _SPLIT + sums.c.low, 0)
    drift = (
        sa.select(accounts.c.number, accounts.c.balance, total)
        .select_from(accounts.outerjoin(sums, sums.c.account_id == accounts.c.id))
        .where(accounts.c.balance != total)
        .limit(limit)
    )
    for number, balance, total in conn.execute(drift):
        report.problems.append(
            f"account {number}: balance {_fmt(balance)} but its entries sum to {_fmt(total)}"
        )

    prev = sa.func.lag(entries.c.balance_after, 1, 0).over(
        partition_by=entries.c.account_id, order_by=entries.c.id
    )
    chained = sa.select(
        entries.c.id,
        entries.c.account_id,
        entries.c.amount,
        entries.c.balance_after,
        prev.label("prev"),
    ).subquery()
    breaks = (
        sa.select(chained, accounts.c.number)
        .join(accounts, accounts.c.id == chained.c.account_id)
        .where(chained.c.balance_after != chained.c.prev + chained.c.amount)
        .order_by(chained.c.id)
        .limit(limit)
    )
    for row in conn.execute(breaks):
        report.problems.append(
            f"account {row.number}, entry {row.id}: balance after {_fmt(row.balance_after)} "
            f"≠ previous {_fmt(row.prev)} + amount {_fmt(row.amount)}"
        )

    unbalanced = (
        sa.select(postings.c.id, postings.c.kind, sa.func.sum(entries.c.amount))
        .join(entries, entries.c.posting_id == postings.c.id)
        .where(postings.c.kind == "transfer")
        .group_by(postings.c.id, postings.c.kind)
        .having(sa.func.sum(entries.c.amount) != 0)
        .limit(limit)
    )
    for posting_id, _kind, total in conn.execute(unbalanced):
        report.problems.append(f"transfer {posting_id}: legs sum to {_fmt(total)}, not zero")

    original = entries.alias("original")
    bad_reversals = (
        sa.select(entries.c.id, original.c.id)
        .join(original, original.c.id == entries.c.reverses_entry_id)
        .where(entries.c.amount != -original.c.amount)
        .limit(limit)
    )
    for rev_id, orig_id in conn.execute(bad_reversals):
        report.problems.append(f"reversal {rev_id} does not cancel entry {orig_id}")

    for column in (entries.c.category_id, entries.c.subject_id):
        unknown = (
            sa.select(entries.c.id, column)
            .where(column.is_not(None), column.not_in(sa.select(chart.c.id)))
            .order_by(entries.c.id)
            .limit(limit)
        )
        for entry_id, item in conn.execute(unknown):
            report.problems.append(f"entry {entry_id}: {column.name} {item} is not in the chart")
    report.problems.extend(summaries.check(conn, limit=limit))
    return report


def _fmt(minor: int) -> str:
    return format_amount(from_minor(int(minor)), 2)
