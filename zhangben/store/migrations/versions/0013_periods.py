"""Periods and the month close (月结): the ``periods`` and ``period_events`` tables, and the
period guard on ``entries`` that refuses any entry dated into a closed period (rule R13).

The guard is a trigger, so it holds for every way in, present and future: ``zb_post``, the
bulk writer's ``COPY`` and ``executemany``, the staged bill writer's ``INSERT … SELECT``, and a
client typing SQL. PostgreSQL: a statement-level trigger with a transition table
(``sql/period_guard_v1.sql``), one call per statement, SQLSTATE ``ZB425`` with the facts as
JSON in DETAIL. SQLite: a row trigger whose ``WHEN`` is the fast path (one probe of the
``(status, ends_at)`` index), aborting with ``ZB425 period closed``; the writer then reads the
facts in the same transaction. ``period_events`` is append-only, as the ledger's rows are.

Revision ID: 0013_periods
Revises: 0012_one_key_per_flow
"""

from pathlib import Path

import sqlalchemy as sa
from alembic import op

from zhangben.store.types import BigId, UTCDateTime

revision = "0013_periods"
down_revision = "0012_one_key_per_flow"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parents[2] / "writers" / "sql"

SQLITE_GUARD = """
CREATE TRIGGER zb_period_guard BEFORE INSERT ON entries
WHEN NEW.trade_time < (SELECT max(ends_at) FROM periods WHERE status = 'closed')
 AND NEW.trade_time < (
    SELECT max(p.ends_at) FROM periods p WHERE p.status = 'closed' AND p.shop_code IN (
        '', (SELECT coalesce(a.shop_code, '') FROM accounts a WHERE a.id = NEW.account_id)))
BEGIN SELECT RAISE(ABORT, 'ZB425 period closed'); END
"""
PG_EVENTS_APPEND_ONLY = """
CREATE FUNCTION zb_period_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'ZB405', MESSAGE = 'period_events are append-only';
END $$
"""


def upgrade() -> None:
    op.create_table(
        "periods",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("shop_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("ends_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        sa.Column("snapshot_sha256", sa.String(64), nullable=False),
        sa.Column("forced", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("closed_at", UTCDateTime, nullable=False),
        sa.Column("closed_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_periods"),
        sa.UniqueConstraint("shop_code", "month", name="uq_periods_shop_code_month"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_periods_status_ends_at", "periods", ["status", "ends_at"])
    op.create_table(
        "period_events",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("period_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("snapshot_sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_period_events"),
        sa.ForeignKeyConstraint(
            ["period_id"], ["periods.id"], name="fk_period_events_period_id_periods"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_period_events_period_id", "period_events", ["period_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute((SQL / "period_guard_v1.sql").read_text(encoding="utf-8"))
        op.execute(PG_EVENTS_APPEND_ONLY)
        op.execute(
            "CREATE TRIGGER zb_period_events_append_only BEFORE UPDATE OR DELETE "
            "ON period_events FOR EACH ROW EXECUTE FUNCTION zb_period_events_append_only()"
        )
        return
    op.execute(SQLITE_GUARD)
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER zb_period_events_append_only_{action.lower()} "
            f"BEFORE {action} ON period_events BEGIN "
            "SELECT RAISE(ABORT, 'period_events are append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS zb_period_guard ON entries")
        op.execute("DROP FUNCTION IF EXISTS zb_period_guard()")
        op.execute("DROP TRIGGER IF EXISTS zb_period_events_append_only ON period_events")
        op.execute("DROP FUNCTION IF EXISTS zb_period_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS zb_period_guard")
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS zb_period_events_append_only_{action}")
    op.drop_index("ix_period_events_period_id", table_name="period_events")
    op.drop_table("period_events")
    op.drop_index("ix_periods_status_ends_at", table_name="periods")
    op.drop_table("periods")
