"""Reconciliation differences written off as a voucher source (vouchers.md#reconciliation-
differences): which match group's difference went into which voucher line, as the original
write-off (``red`` false) or as the red voucher of a match undone after export (``red`` true).
A difference is in at most one live voucher of each kind: a partial unique index on
``(group_id, red)`` among the live rows.

Revision ID: 0020_voucher_recon
Revises: 0019_recon_booked_period
"""

import sqlalchemy as sa
from alembic import op

from zhangben.store.types import BigId

revision = "0020_voucher_recon"
down_revision = "0019_recon_booked_period"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voucher_recon_sources",
        sa.Column("group_id", BigId, nullable=False),
        sa.Column("red", sa.Boolean, nullable=False),
        sa.Column("batch_id", BigId, nullable=False),
        sa.Column("line_id", BigId, nullable=False),
        sa.Column("live", sa.Boolean, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["match_groups.id"], name="fk_voucher_recon_sources_group_id_match_groups"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["voucher_batches.id"],
            name="fk_voucher_recon_sources_batch_id_voucher_batches",
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["voucher_lines.id"], name="fk_voucher_recon_sources_line_id_voucher_lines"
        ),
        sa.PrimaryKeyConstraint("group_id", "red", "batch_id", name="pk_voucher_recon_sources"),
    )
    op.create_index("ix_voucher_recon_sources_batch_id", "voucher_recon_sources", ["batch_id"])
    op.create_index(
        "ix_voucher_recon_sources_live_group",
        "voucher_recon_sources",
        ["group_id", "red"],
        unique=True,
        sqlite_where=sa.text("live"),
        postgresql_where=sa.text("live"),
    )


def downgrade() -> None:
    op.drop_index("ix_voucher_recon_sources_live_group", table_name="voucher_recon_sources")
    op.drop_index("ix_voucher_recon_sources_batch_id", table_name="voucher_recon_sources")
    op.drop_table("voucher_recon_sources")
