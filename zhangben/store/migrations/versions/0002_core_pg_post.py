"""PostgreSQL: the one-round-trip posting function zb_post

Revision ID: 0002_core_pg_post
Revises: 0001_core
"""

from pathlib import Path

from alembic import op

revision = "0002_core_pg_post"
down_revision = "0001_core"
branch_labels = None
depends_on = None

#: A versioned SQL file, never edited once released (docs/migrations.md).
SQL = Path(__file__).resolve().parents[2] / "writers" / "sql" / "zb_post_v1.sql"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SQL.read_text(encoding="utf-8"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS zb_post")
