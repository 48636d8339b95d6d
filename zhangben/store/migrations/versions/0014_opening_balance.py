"""The chart's opening-balance items: category 22 期初余额 with subject 23 平台期初余额

A bill import into an account with no entry before the file's first row posts the platform's
balance before that row as one entry of this category (docs/imports.md, "Opening balances").
Ids 22 and 23 were left free by the default chart (items added later get ids from 100), so no
database holds them yet. Both are of kind ``any``: an opening balance is money in, or out
where the platform's balance was negative.

Revision ID: 0014_opening_balance
Revises: 0013_find_flows
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_opening_balance"
down_revision = "0013_find_flows"
branch_labels = None
depends_on = None

ITEMS = [(22, None, "期初余额", "any"), (23, 22, "平台期初余额", "any")]

chart = sa.table(
    "chart",
    sa.column("id", sa.Integer),
    sa.column("parent_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
)


def upgrade() -> None:
    op.bulk_insert(
        chart, [dict(zip(("id", "parent_id", "name", "kind"), r, strict=True)) for r in ITEMS]
    )


def downgrade() -> None:
    op.execute(chart.delete().where(chart.c.id == 23))
    op.execute(chart.delete().where(chart.c.id == 22))
