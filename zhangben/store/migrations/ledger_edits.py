"""The explicit escape hatch for a migration that must change ledger rows.

Entries and postings are append-only: triggers named ``zb_append_only_*`` (migration
``0010_append_only``) refuse every ``UPDATE`` and ``DELETE`` on them. A migration that really
must change such rows (a data repair; or, on SQLite, ``batch_alter_table`` on ``entries`` or
``postings``, whose table copy would silently lose the triggers) does it inside
:func:`ledger_rows_editable`, so that the code says so::

    from zhangben.store.migrations.ledger_edits import ledger_rows_editable

    def upgrade() -> None:
        with ledger_rows_editable(op):
            op.execute("UPDATE entries SET remark = '' WHERE remark IS NULL")

It must run inside a transaction (a migration always does): if the edit fails, the rollback
restores the triggers too, so no error path leaves the ledger editable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: Every append-only trigger is named with this prefix (and nothing else is).
PREFIX = "zb_append_only_"


@contextmanager
def ledger_rows_editable(op) -> Iterator[None]:
    """Lift the append-only triggers for the body, then put them back.

    ``op`` is Alembic's ``op`` or a SQLAlchemy :class:`~sqlalchemy.engine.Connection` in a
    transaction. PostgreSQL: ``ALTER TABLE … DISABLE TRIGGER`` / ``ENABLE TRIGGER`` (seen by
    other sessions only if committed, and then already re-enabled). SQLite, which cannot
    disable a trigger: each one is dropped and recreated from its own stored ``CREATE TRIGGER``.
    """
    conn: Connection = op.get_bind() if hasattr(op, "get_bind") else op
    if not conn.in_transaction():
        raise RuntimeError("ledger_rows_editable needs a transaction: its rollback is the guard")
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            sa.text(
                "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
                "WHERE tgrelid = ANY(ARRAY['entries'::regclass, 'postings'::regclass]) "
                "AND NOT tgisinternal AND tgenabled <> 'D'"
            )
        ).all()
        triggers = [(table, name) for table, name in rows if name.startswith(PREFIX)]
        for table, name in triggers:
            conn.exec_driver_sql(f'ALTER TABLE {table} DISABLE TRIGGER "{name}"')
        yield
        for table, name in triggers:
            conn.exec_driver_sql(f'ALTER TABLE {table} ENABLE TRIGGER "{name}"')
        return
    rows = conn.execute(
        sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name IN ('entries', 'postings')"
        )
    ).all()
    triggers = [(name, ddl) for name, ddl in rows if name.startswith(PREFIX)]
    for name, _ in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield
    for _, ddl in triggers:
        conn.exec_driver_sql(ddl)
