"""Periods and the month close (月结): the ``periods`` and ``period_events`` tables, and the
period guard on ``entries`` that refuses any entry dated into a closed period (rule R13).

The guard is a trigger, so it holds for every way in, present and future: ``zb_post``, the
bulk writer's ``COPY`` and INSERTs, the staged bill writer's ``INSERT … SELECT``, and a client
typing SQL. Its ``WHEN`` compares the row's trade time with a constant, the latest end of any
closed period (here: none), which every close and reopen rewrites; only a row dated before it
is checked against its account's scope. PostgreSQL: a row trigger calling
``sql/period_guard_v1.sql``, SQLSTATE ``ZB425`` with the facts as JSON in DETAIL (an AFTER
trigger, so ``COPY`` keeps its multi-row inserts). SQLite: a row trigger aborting with
``ZB425 period closed``; the writer then reads the facts in the same transaction.
``period_events`` is append-only, as the ledger's rows are.

Revision ID: 0016_periods
Revises: 0015_summaries
"""

from pathlib import Path

import sqlalchemy as sa
from alembic import op

from zhangben.store.types import BigId, UTCDateTime

revision = "0016_periods"
down_revision = "0015_summaries"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parents[2] / "writers" / "sql"

#: the guard's trigger with the bound of no closed period (a close rewrites the bound:
#: zhangben/store/writers/period_guard.py, TRIGGER, which a test keeps equal to these)
PG_GUARD = (
    "CREATE OR REPLACE TRIGGER zb_period_guard AFTER INSERT ON entries FOR EACH ROW "
    "WHEN (NEW.trade_time < '-infinity'::timestamptz) EXECUTE FUNCTION zb_period_guard()"
)
SQLITE_GUARD = (
    "CREATE TRIGGER zb_period_guard BEFORE INSERT ON entries\n"
    "WHEN NEW.trade_time < '' AND NEW.trade_time < (\n"
    "  SELECT max(p.ends_at) FROM periods p WHERE p.status = 'closed' AND p.shop_code IN ('',\n"
    "    (SELECT coalesce(a.shop_code, '') FROM accounts a WHERE a.id = NEW.account_id)))\n"
    "BEGIN SELECT RAISE(ABORT, 'ZB425 period closed'); END"
)
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
        op.execute(PG_GUARD)
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
