"""The period guard (migration ``0016_periods``, rule R13) is the database's own: an entry
dated into a closed period is refused even when a client types the SQL itself, on SQLite
and PostgreSQL; a downgrade drops the guard and an upgrade puts it back."""

import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
from alembic import command

from zhangben.store.migrate import alembic_config

SH = ZoneInfo("Asia/Shanghai")
INSERT = (
    "INSERT INTO entries (posting_id, account_id, type, amount, balance_after, trade_no, "
    "trade_time, recorded_at, source) VALUES (1, 1, 'income', 1, 1, 'RAW', {when}, {when}, 'sql')"
)


@pytest.fixture
def closed(ledger):
    ledger.open_account(number="A", name="甲", shop_code="S1")
    ledger.income("A", "1", trade_time=datetime(2024, 3, 1, tzinfo=SH))  # posting 1, account 1
    ledger.close_period("2024-03", shop="S1", actor="test")
    return ledger


def _raw_insert(engine, when: str):
    """Insert an entry with the driver itself; returns the error, or None when written."""
    if engine.dialect.name == "sqlite":
        conn = sqlite3.connect(engine.url.database)
        statement = INSERT.format(when=f"'{when}.000000'")
    else:
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        conn = psycopg.connect(url)
        statement = INSERT.format(when=f"'{when}+00'")
    try:
        conn.execute(statement)
        conn.commit()
        return None
    except (sqlite3.Error, psycopg.Error) as exc:
        return exc
    finally:
        conn.close()


def test_a_raw_insert_into_a_closed_period_is_refused(closed):
    refused = _raw_insert(closed.engine, "2024-03-31 15:59:59")  # 23:59:59 in Shanghai
    assert refused is not None
    if closed.engine.dialect.name == "postgresql":
        assert refused.sqlstate == "ZB425"
        assert '"month" : "2024-03"' in refused.diag.message_detail
    else:
        assert str(refused) == "ZB425 period closed"
    assert _raw_insert(closed.engine, "2024-03-31 16:00:00") is None  # April 1 in Shanghai


def test_downgrade_drops_the_guard_and_upgrade_restores_it(closed):
    cfg = alembic_config()
    with closed.engine.begin() as c:
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "0015_summaries")
    assert _raw_insert(closed.engine, "2024-03-10 00:00:00") is None  # no periods, no guard
    with closed.engine.begin() as c:
        cfg.attributes["connection"] = c
        command.upgrade(cfg, "head")
    closed.open_account(number="B", name="乙")  # the periods table is back, empty
    closed.close_period("2024-03", actor="test")
    assert _raw_insert(closed.engine, "2024-03-10 00:00:00") is not None


def test_the_migration_creates_the_guard_the_writers_rewrite():
    import importlib

    from zhangben.store.writers import period_guard

    migration = importlib.import_module("zhangben.store.migrations.versions.0016_periods")
    assert migration.PG_GUARD == period_guard.trigger_sql("postgresql", None)
    assert migration.SQLITE_GUARD == period_guard.trigger_sql("sqlite", None)


def _guard_definition(engine) -> str:
    with engine.connect() as c:
        if engine.dialect.name == "postgresql":
            return c.exec_driver_sql(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'zb_period_guard'"
            ).scalar_one()
        return c.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'zb_period_guard'"
        ).scalar_one()


def test_a_close_and_a_reopen_move_the_guards_bound(closed):
    pg = closed.engine.dialect.name == "postgresql"
    assert ("2024-03-31 16:00:00+00" if pg else "'2024-03-31 16:00:00.000000'") in (
        _guard_definition(closed.engine)
    )
    closed.reopen_period("2024-03", shop="S1", actor="test", reason="test")
    assert ("'-infinity'" if pg else "< ''") in _guard_definition(closed.engine)
    assert _raw_insert(closed.engine, "2024-03-10 00:00:00") is None
