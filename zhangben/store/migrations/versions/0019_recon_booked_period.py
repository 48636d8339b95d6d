"""Reconciliation: the month a match is booked in (``match_groups.period``, ``yyyy-mm`` in the
business time zone). A match is booked in the month of its latest line, or, when that month
is closed (for its shop or the whole ledger), in the next open month after it: a late row
never lands in a closed period. Groups made before this revision have none.

Revision ID: 0019_recon_booked_period
Revises: 0018_vouchers
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_recon_booked_period"
down_revision = "0018_vouchers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("match_groups") as batch:
        batch.add_column(sa.Column("period", sa.String(7)))


def downgrade() -> None:
    with op.batch_alter_table("match_groups") as batch:
        batch.drop_column("period")
