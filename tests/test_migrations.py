"""Migrations: every branch applies on both dialects, twice is a no-op, and SQLite keeps the
AUTOINCREMENT that makes entry and posting ids monotonic after table rebuilds."""

import sqlite3

import sqlalchemy as sa

from zhangben.store.engine import make_engine
from zhangben.store.migrate import is_up_to_date, upgrade


def test_upgrade_is_idempotent_and_complete(engine):
    assert is_up_to_date(engine)
    upgrade(engine)
    assert is_up_to_date(engine)
    names = set(sa.inspect(engine).get_table_names())
    assert {
        "accounts",
        "entries",
        "postings",
        "chart",
        "integrators",
        "replay_signs",
        "sessions",
        "api_keys",
        "idempotency_records",
        "bill_rows",
        "import_batches",
    } <= names


def test_sqlite_tables_keep_autoincrement(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    upgrade(make_engine(f"sqlite:///{path}"))
    with sqlite3.connect(path) as conn:
        for table in ("entries", "postings"):
            ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
            assert "AUTOINCREMENT" in ddl[0], table
