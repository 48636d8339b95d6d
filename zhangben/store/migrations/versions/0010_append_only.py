"""Entries and postings are append-only, enforced by the database

The core never updates or deletes a ledger row (a mistake is corrected by a reversal), and
``verify`` only reports an edit after the fact. Triggers make the database itself refuse
``UPDATE``, ``DELETE`` (and on PostgreSQL ``TRUNCATE``) on ``entries`` and ``postings``, from
any client. PostgreSQL raises SQLSTATE ``ZB405``; SQLite aborts with the same message. Inserts
fire no trigger, so postings cost nothing more. A later migration that must change ledger rows
says so with :func:`zhangben.store.migrations.ledger_edits.ledger_rows_editable`; every trigger
here is named ``zb_append_only_*``, the prefix that helper looks for.

Revision ID: 0010_append_only
Revises: 0009_zb_post_lean
"""

from alembic import op

revision = "0010_append_only"
down_revision = "0009_zb_post_lean"
branch_labels = None
depends_on = None

TABLES = ("entries", "postings")

PG_FUNCTION = """
CREATE FUNCTION zb_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'ZB405',
        MESSAGE = format('%s are append-only: post a reversal instead', TG_TABLE_NAME);
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER zb_append_only_{table} BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION zb_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER zb_append_only_{table}_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION zb_append_only()"
            )
        return
    for table in TABLES:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER zb_append_only_{table}_{action.lower()} "
                f"BEFORE {action} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, '{table} are append-only: post a reversal instead'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS zb_append_only_{table}_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS zb_append_only_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS zb_append_only()")
        return
    for table in TABLES:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS zb_append_only_{table}_{action}")
