"""Daily and monthly summaries of the flow: derived from the entries, never edited by hand.

One row per account, business day (or month), category and subject: how many entries, and
their inflows and outflows. Opening and closing balances are not stored: a back-dated entry
would change every later row; they are sums of the rows before (the monthly rows make those
sums short). Category and subject ``0`` stand for "none" (chart ids start at 1), so that
they can be part of the primary key.

Money is split as ``hi × 10⁹ + lo`` (each summed per entry, both truncated towards zero):
ten postings of the largest amount on one day already pass int64 in minor units, and a
summary must hold what the entries hold. Rows are written only by
:mod:`zhangben.store.writers.summaries`; ``summary_state`` says up to which entry id they
are folded, and in which time zone."""

from __future__ import annotations

import sqlalchemy as sa

from zhangben.store.tables import metadata
from zhangben.store.types import UTCDateTime

#: amounts are split at this factor: value = hi * SPLIT + lo
SPLIT = 10**9


#: the figures of a row: indexes carry them (PostgreSQL ``INCLUDE``), so that a report reads
#: the index alone, not rows scattered over the table by the order they were folded in
SUMS = ("entries", "income_hi", "income_lo", "expense_hi", "expense_lo")


def _summary(name: str, period: str) -> sa.Table:
    # no foreign key on account_id: the rows are derived from entries, whose account_id has
    # one, and a key check per row would be most of the cost of a rebuild
    return sa.Table(
        name,
        metadata,
        sa.Column("account_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column(period, sa.Date, nullable=False),
        sa.Column("category_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("subject_id", sa.Integer, nullable=False, autoincrement=False),
        *(sa.Column(n, sa.BigInteger, nullable=False) for n in SUMS),
        # an account's or a shop's range …
        sa.PrimaryKeyConstraint(
            "account_id", period, "category_id", "subject_id", postgresql_include=list(SUMS)
        ),
        # … and the whole ledger's
        sa.Index(
            f"ix_{name}_{period}",
            period,
            postgresql_include=["account_id", "category_id", "subject_id", *SUMS],
        ),
        sqlite_with_rowid=False,  # SQLite: the table is its primary key's b-tree
    )


#: per account, business day (in ``summary_state.time_zone``), category and subject
daily_summaries = _summary("daily_summaries", "day")
#: the same per month (``month`` is its first day): a rollup of the daily rows
monthly_summaries = _summary("monthly_summaries", "month")

#: One row (id 1): the summaries hold every entry with ``id <= last_entry_id``, by days of
#: ``time_zone`` (None before the first fold).
summary_state = sa.Table(
    "summary_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_entry_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("time_zone", sa.String(64)),
    sa.Column("updated_at", UTCDateTime),
)
