"""ShopEx open API: replay guard and rate-limit counters

Revision ID: 0003_shopex (was 0002_shopex)
Revises: 0002_core_pg_post
"""

import sqlalchemy as sa
from alembic import op

import zhangben.store.types

revision = "0003_shopex"
down_revision = "0002_core_pg_post"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replay_signs",
        sa.Column("flag", sa.String(length=64), nullable=False),
        sa.Column("sign", sa.String(length=64), nullable=False),
        sa.Column("expires_at", zhangben.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("flag", "sign", name=op.f("pk_replay_signs")),
    )
    op.create_index(
        op.f("ix_replay_signs_expires_at"), "replay_signs", ["expires_at"], unique=False
    )
    op.create_table(
        "shopex_rate_counts",
        sa.Column("flag", sa.String(length=64), nullable=False),
        sa.Column("minute", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("flag", "minute", name=op.f("pk_shopex_rate_counts")),
    )


def downgrade() -> None:
    op.drop_table("shopex_rate_counts")
    op.drop_index(op.f("ix_replay_signs_expires_at"), table_name="replay_signs")
    op.drop_table("replay_signs")
