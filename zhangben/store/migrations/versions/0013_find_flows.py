"""Finding a flow: indexes for the lookups by platform flow number (账务流水号, an entry's
``external_id``), counterparty and merchant order number (商户订单号, a bill row's
``order_no``). A trade number is found through ``ix_postings_trade_no`` and
``ix_entries_posting_id``, which exist already.

The indexes are partial (``… IS NOT NULL``): an entry without an external id or a
counterparty — most postings made by hand or through the APIs — adds no index entry, so a
single posting costs what it did. On PostgreSQL ``CREATE INDEX`` blocks writes to the table
while it builds (seconds per million rows); run the upgrade in a quiet moment on a large
ledger.

Revision ID: 0013_find_flows
Revises: 0012_one_key_per_flow
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_find_flows"
down_revision = "0012_one_key_per_flow"
branch_labels = None
depends_on = None

#: (index, table, column): each on the column's non-NULL values
INDEXES = (
    ("ix_entries_external_id", "entries", "external_id"),
    ("ix_entries_counterparty", "entries", "counterparty"),
    ("ix_bill_rows_order_no", "bill_rows", "order_no"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        present = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, table, [column], sqlite_where=present, postgresql_where=present)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
