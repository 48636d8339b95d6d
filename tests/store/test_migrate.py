"""Migrations: one linear history applied on both dialects, twice is a no-op, databases stamped
with the old branched history are translated, and SQLite keeps the AUTOINCREMENT that makes
entry and posting ids monotonic after table rebuilds."""

import os
import re
import sqlite3
import uuid

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from zhangben.store.engine import make_engine
from zhangben.store.migrate import (
    LINEAR_START,
    MIGRATIONS_DIR,
    OLD_HISTORY,
    OldHistoryError,
    alembic_config,
    current_heads,
    head_revisions,
    is_up_to_date,
    upgrade,
)

SCRIPT = ScriptDirectory.from_config(alembic_config())
HEAD = SCRIPT.get_current_head()

#: alembic_version as the last release with the branched history left it: one row per head.
OLD_ALL_HEADS = [
    "0008_zb_post_lean",
    "0002_shopex",
    "0003_yichuan",
    "0004_api",
    "0005_imports",
    "0007_chart_ids_by_core",
]


def test_upgrade_is_idempotent_and_complete(engine):
    assert is_up_to_date(engine)
    upgrade(engine)
    assert is_up_to_date(engine)
    assert current_heads(engine) == {HEAD}
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


# --- one linear history ---------------------------------------------------------------------


def test_history_is_linear_with_one_head():
    assert SCRIPT.get_heads() == [HEAD]
    assert head_revisions() == {HEAD}  # the quick reading of the file names agrees
    assert SCRIPT.get_bases() == ["0001_core"]
    chain = [rev.revision for rev in SCRIPT.walk_revisions("base", "heads")][::-1]
    for rev in SCRIPT.walk_revisions():
        assert not rev.branch_labels and not rev.dependencies, rev.revision
        assert rev.down_revision is None or isinstance(rev.down_revision, str), rev.revision
    assert len(chain) == len(list(SCRIPT.walk_revisions()))
    assert chain[: len(LINEAR_START)] == list(LINEAR_START)


def test_revision_numbers_are_unique_consecutive_and_name_the_files():
    files = sorted((MIGRATIONS_DIR / "versions").glob("*.py"))
    numbers = [int(re.match(r"(\d{4})_", f.name).group(1)) for f in files]
    assert numbers == list(range(1, len(files) + 1))
    chain = [rev.revision for rev in SCRIPT.walk_revisions("base", "heads")][::-1]
    assert [f.stem for f in files] == chain  # file name == revision id, in history order


def test_old_only_ids_never_come_back():
    """Old ids that were renamed must never be reused, or an old stamp would be ambiguous."""
    ids = {rev.revision for rev in SCRIPT.walk_revisions()}
    assert (set(OLD_HISTORY) - set(LINEAR_START)).isdisjoint(ids)
    assert set(LINEAR_START) <= ids


# --- databases stamped with the old branched history ----------------------------------------


def _stamp(engine, revisions) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM alembic_version"))
        for rev in revisions:
            conn.execute(sa.text("INSERT INTO alembic_version VALUES (:v)"), {"v": rev})


def _version_rows(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


@pytest.fixture
def empty_engine(request, backend, tmp_path):
    """An engine on a new, empty database (no migrations applied)."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield engine
        engine.dispose()
        return
    base = request.getfixturevalue("pg_base_url")
    name = f"zb_empty_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    dsn = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    engine = make_engine(f"{base}/{name}")
    yield engine
    engine.dispose()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _upgrade_to(engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_database_at_all_old_heads_upgrades_to_the_one_head(empty_engine):
    """The last release with the branched history left its schema at what is now 0009."""
    _upgrade_to(empty_engine, "0009_zb_post_lean")
    _stamp(empty_engine, OLD_ALL_HEADS)
    assert not is_up_to_date(empty_engine)
    upgrade(empty_engine)
    assert _version_rows(empty_engine) == [HEAD]
    assert is_up_to_date(empty_engine)


def test_database_at_older_old_heads_gets_the_rest(empty_engine):
    """A database left by the release that added imports (before 0006_entries_time_id_index):
    its heads amount to 0006_imports, and upgrade applies everything after it."""
    _upgrade_to(empty_engine, "0006_imports")
    _stamp(
        empty_engine,
        ["0002_core_pg_post", "0002_shopex", "0003_yichuan", "0004_api", "0005_imports"],
    )
    upgrade(empty_engine)
    assert _version_rows(empty_engine) == [HEAD]
    fks = sa.inspect(empty_engine).get_foreign_keys("entries")
    assert {fk["referred_table"] for fk in fks} == {"accounts", "postings", "entries"}


@pytest.mark.parametrize(
    "stamp",
    [
        ["0002_core_pg_post", "0003_yichuan"],  # 壹川 without ShopEx, which now comes first
        ["0007_chart_ids_by_core", "0004_api"],  # api and the entries index, but no shopex
        ["0002_shopex", "0003_shopex"],  # old and new ids mixed
    ],
)
def test_stamp_that_is_no_prefix_is_refused_and_left_alone(engine, stamp):
    _stamp(engine, stamp)
    with pytest.raises(OldHistoryError, match="docs/migrations.md"):
        upgrade(engine)
    assert _version_rows(engine) == sorted(stamp)


# --- 0012: imports keyed by the one key rule -----------------------------------------------------


def test_legacy_import_keys_take_the_one_key_rule(empty_engine):
    """Keys an older release gave imported rows (``import:{platform}:{account}:{flow}``) become
    the flow's key, so a flow imported before cannot be posted again by hand (I6); a key whose
    target is taken, or that two accounts share, is left as it was."""
    from zoneinfo import ZoneInfo

    from zhangben.core import errors
    from zhangben.core.ledger import Ledger

    _upgrade_to(empty_engine, "0011_zb_post_v3")
    ledger = Ledger(empty_engine, ZoneInfo("Asia/Shanghai"))
    ledger.open_account(number="ALI1", name="a", type="alipay")
    ledger.open_account(number="ALI2", name="b", type="alipay")
    old = {
        "import:alipay:1:F1": ("ALI1", None),  # → alipay:F1
        "import:alipay:1:F2": ("ALI1", None),  # target taken by a hand posting: kept
        "import:alipay:1:F3": ("ALI1", None),  # the same flow in two accounts: both kept
        "import:alipay:2:F3": ("ALI2", None),
    }
    ledger.income("ALI1", "1", source="alipay", external_id="F2")
    for key, (account, _) in old.items():
        ledger.income(account, "1", idempotency_key=key)
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        keys = set(conn.execute(sa.text("SELECT idempotency_key FROM postings")).scalars())
    assert keys == {"alipay:F1", "alipay:F2", "import:alipay:1:F2", "import:alipay:1:F3",
                    "import:alipay:2:F3"}  # fmt: skip
    with pytest.raises(errors.IdempotencyConflict):
        ledger.income("ALI1", "1", source="alipay", external_id="F1", remark="by hand")
    assert ledger.verify().ok
