"""PostgreSQL: zb_post v3, which reports a broken rule by code and facts (the core words it)
and sums balances in numeric, so a balance near the limit is refused by R11 instead of failing
with a bigint overflow.

Revision ID: 0010_zb_post_v3
"""

from pathlib import Path

from alembic import op

revision = "0010_zb_post_v3"
down_revision = "0008_zb_post_lean"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parents[2] / "writers" / "sql"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS zb_post")
        op.execute((SQL / "zb_post_v3.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS zb_post")
        op.execute((SQL / "zb_post_v2.sql").read_text(encoding="utf-8"))
