"""PostgreSQL: zb_post v2, the same posting with scalar legs and fewer statements

A posting has one or two legs; passing them as scalars instead of parallel arrays, resolving
numbers in the locking query and returning one row made a posting ≈2× cheaper
(bench/RESULTS.md, benchmark 1).

Revision ID: 0009_zb_post_lean (was 0008_zb_post_lean)
Revises: 0008_chart_ids_by_core
"""

from pathlib import Path

from alembic import op

revision = "0009_zb_post_lean"
down_revision = "0008_chart_ids_by_core"
branch_labels = None
depends_on = None

#: Versioned SQL files, never edited once released (docs/migrations.md).
SQL = Path(__file__).resolve().parents[2] / "writers" / "sql"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS zb_post")
        op.execute((SQL / "zb_post_v2.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS zb_post")
        op.execute((SQL / "zb_post_v1.sql").read_text(encoding="utf-8"))
