"""PostgreSQL: zb_post v3, which reports a broken rule by code and facts (the core words it)
and sums balances in numeric, so a balance near the limit is refused by R11 instead of failing
with a bigint overflow.

Also drops ``zb_check_balance``, which a database migrated with an early copy of v2 may still
hold (v2's file was edited after release once; files are versioned since).

Revision ID: 0011_zb_post_v3
Revises: 0010_append_only
"""

from pathlib import Path

from alembic import op

revision = "0011_zb_post_v3"
down_revision = "0010_append_only"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parents[2] / "writers" / "sql"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS zb_post")
        op.execute("DROP FUNCTION IF EXISTS zb_check_balance")
        op.execute((SQL / "zb_post_v3.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS zb_post")
        op.execute((SQL / "zb_post_v2.sql").read_text(encoding="utf-8"))
