"""Entries: (account_id, trade_time) index gains id, for index-only paging (issue 9).

A time-range page of one account's flow (``finance.getTransactionList``) first picks the ids
of its page from this index alone — ``ORDER BY id DESC LIMIT/OFFSET`` over ``(trade_time,
id)`` index tuples — and then reads only those rows, instead of fetching every matching row
from the heap (thousands of random page reads per call on a large ledger). Same name, so
nothing else changes; writes still maintain the same number of indexes.

Revision ID: 0007_entries_time_id_index (was 0006_entries_time_id_index)
Revises: 0006_imports
"""

from __future__ import annotations

from alembic import op

revision = "0007_entries_time_id_index"
down_revision = "0006_imports"
branch_labels = None
depends_on = None

NAME = "ix_entries_account_id_trade_time"


def upgrade() -> None:
    op.drop_index(NAME, table_name="entries")
    op.create_index(NAME, "entries", ["account_id", "trade_time", "id"], unique=False)


def downgrade() -> None:
    op.drop_index(NAME, table_name="entries")
    op.create_index(NAME, "entries", ["account_id", "trade_time"], unique=False)
