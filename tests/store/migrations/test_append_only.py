"""Entries and postings are append-only, and the database itself enforces it: an UPDATE, a
DELETE (or on PostgreSQL a TRUNCATE) sent through the raw driver fails and changes nothing,
unless a migration (or a test) lifts the triggers explicitly with ``ledger_rows_editable``."""

import re
import sqlite3

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from zhangben.store.migrate import alembic_config
from zhangben.store.migrations.ledger_edits import ledger_rows_editable
from zhangben.store.tables import entries, postings

#: (statement, the table whose trigger refuses it)
REFUSED = [
    ("UPDATE entries SET amount = 1", "entries"),
    ("DELETE FROM entries", "entries"),
    ("UPDATE postings SET trade_no = 'EDITED'", "postings"),
    ("DELETE FROM postings", "postings"),
]
#: TRUNCATE postings cascades to entries, whose trigger may fire first.
PG_ONLY = [("TRUNCATE entries CASCADE", "entries"), ("TRUNCATE postings CASCADE", None)]


@pytest.fixture
def posted(ledger):
    ledger.open_account(number="ACC001", name="测试账户")
    ledger.income("ACC001", "100")
    return ledger


def _rows(engine) -> tuple[list, list]:
    with engine.connect() as c:
        return (
            c.execute(sa.select(entries).order_by(entries.c.id)).all(),
            c.execute(sa.select(postings).order_by(postings.c.id)).all(),
        )


def _raw(engine):
    """A connection of the database driver itself, not SQLAlchemy."""
    if engine.dialect.name == "sqlite":
        return sqlite3.connect(engine.url.database)
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(url)


def _refused(engine, statement: str) -> str:
    """Run ``statement`` on a raw connection; return the error's message (it must fail)."""
    conn = _raw(engine)
    try:
        with pytest.raises((sqlite3.Error, psycopg.Error)) as failure:
            conn.execute(statement)
        if engine.dialect.name == "postgresql":
            assert failure.value.sqlstate == "ZB405", statement
            return failure.value.diag.message_primary
        assert isinstance(failure.value, sqlite3.IntegrityError), statement
        return str(failure.value)
    finally:
        conn.rollback()
        conn.close()


def test_raw_update_delete_and_truncate_are_refused(posted, backend):
    before = _rows(posted.engine)
    assert before[0] and before[1]
    statements = REFUSED + (PG_ONLY if backend == "postgresql" else [])
    for statement, table in statements:
        message = _refused(posted.engine, statement)
        assert re.fullmatch(
            f"{table or '(entries|postings)'} are append-only: post a reversal instead", message
        ), (statement, message)
    assert _rows(posted.engine) == before


def test_postings_still_append(posted):
    posted.expense("ACC001", "30")
    posted.open_account(number="ACC002", name="备用账户")
    posted.transfer("ACC001", "ACC002", "20")
    assert posted.verify().ok
    assert posted.balance("ACC002") == 20


def test_escape_hatch_lifts_the_triggers_only_inside(posted):
    with posted.engine.begin() as c, ledger_rows_editable(c):
        c.execute(entries.update().values(remark="repaired"))
    assert {row.remark for row in _rows(posted.engine)[0]} == {"repaired"}
    for statement, _ in REFUSED:
        _refused(posted.engine, statement)


def test_escape_hatch_failure_rolls_back_with_the_triggers(posted):
    before = _rows(posted.engine)
    with pytest.raises(ZeroDivisionError), posted.engine.begin() as c, ledger_rows_editable(c):
        c.execute(entries.delete())
        1 / 0
    assert _rows(posted.engine) == before
    for statement, _ in REFUSED:
        _refused(posted.engine, statement)


def test_escape_hatch_needs_a_transaction(engine):
    with engine.connect() as c, pytest.raises(RuntimeError, match="transaction"):
        with ledger_rows_editable(c):
            pass


def test_downgrade_drops_the_triggers_and_upgrade_restores_them(posted):
    cfg = alembic_config()
    with posted.engine.begin() as c:
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "0009_zb_post_lean")
    with posted.engine.begin() as c:
        c.execute(entries.update().values(remark="editable"))
    with posted.engine.begin() as c:
        cfg.attributes["connection"] = c
        command.upgrade(cfg, "head")
    for statement, _ in REFUSED:
        _refused(posted.engine, statement)


def test_escape_hatch_in_a_migration_keeps_triggers_through_a_sqlite_table_copy(posted):
    """Through Alembic's ``op``, as a migration uses it; on SQLite a batch table copy (which
    drops the table's triggers) inside the hatch still ends with the triggers in place."""
    with posted.engine.begin() as c:
        op = Operations(MigrationContext.configure(c))
        with ledger_rows_editable(op):
            op.execute("UPDATE entries SET remark = 'migrated'")
            if c.dialect.name == "sqlite":
                with op.batch_alter_table(
                    "entries", recreate="always", table_kwargs={"sqlite_autoincrement": True}
                ):
                    pass
    assert {row.remark for row in _rows(posted.engine)[0]} == {"migrated"}
    for statement, _ in REFUSED:
        _refused(posted.engine, statement)
