"""Schema migrations (Alembic): one linear history; ``upgrade`` applies what is missing.

Until the history was made linear, each feature had its own branch off ``0001_core`` and a
database was stamped with one ``alembic_version`` row per branch head. :func:`upgrade` first
translates such a stamp into the one revision of the linear history it amounts to
(:func:`translate_old_revisions`), in the same transaction. See docs/migrations.md.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: The branched history as released: old revision id -> (its old parent, its new revision id).
#: Frozen: it describes databases that exist; never edit it.
OLD_HISTORY: dict[str, tuple[str | None, str]] = {
    "0001_core": (None, "0001_core"),
    "0002_core_pg_post": ("0001_core", "0002_core_pg_post"),
    "0002_shopex": ("0001_core", "0003_shopex"),
    "0003_yichuan": ("0001_core", "0004_yichuan"),
    "0004_api": ("0001_core", "0005_api"),
    "0005_imports": ("0001_core", "0006_imports"),
    "0006_entries_time_id_index": ("0001_core", "0007_entries_time_id_index"),
    "0007_chart_ids_by_core": ("0006_entries_time_id_index", "0008_chart_ids_by_core"),
    "0008_zb_post_lean": ("0002_core_pg_post", "0009_zb_post_lean"),
}
#: The start of the linear history that the old revisions became, in order (by number).
LINEAR_START = tuple(sorted(new for _, new in OLD_HISTORY.values()))
#: Old ids that are not also ids of the linear history (0001 and 0002_core_pg_post are both).
_OLD_ONLY = set(OLD_HISTORY) - set(LINEAR_START)


class OldHistoryError(RuntimeError):
    """The database's old stamp applies migrations that are no prefix of the linear history."""


def target_metadata() -> sa.MetaData:
    """The metadata of every table module (they share one ``MetaData``), for autogenerate.

    Imports the feature modules, whose tables join ``tables.metadata`` only when imported:
    without them autogenerate would propose dropping the feature tables."""
    from zhangben.store import (  # noqa: F401  (imported for their tables)
        access_tables,
        bills_tables,
        period_tables,
        recon_tables,
        summary_tables,
        tables,
        voucher_tables,
    )

    return tables.metadata


def alembic_config(url: str | None = None) -> Config:
    # Alembic (and Mako, Pygments under it) loads only when a schema is changed: the check
    # below needs none of it, and every CLI call and server start makes that check
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(engine: Engine) -> None:
    """Translate an old branched stamp if there is one, then upgrade to the one head."""
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        translate_old_revisions(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def translate_old_revisions(conn: Connection) -> str | None:
    """Restamp a database stamped with revision ids of the old branched history.

    The old heads in ``alembic_version`` stand for every migration up to them; renamed to
    their new ids, those must be the first N of the linear history, and the database is then
    stamped with the N-th (a database at all six old heads becomes ``0009_zb_post_lean``).
    Anything else (e.g. 壹川 applied without ShopEx, which now comes before it) is refused,
    since no single linear revision describes it. Returns the new stamp, or None when the
    database has no old stamp (new, empty, or already linear: nothing is changed).
    """
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    stamped = set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    if not stamped & _OLD_ONLY and len(stamped) <= 1:
        return None
    unknown = stamped - OLD_HISTORY.keys()
    if unknown:
        raise OldHistoryError(
            f"alembic_version holds {sorted(stamped)}: {sorted(unknown)} are not revisions of "
            "the old branched migration history, so the stamp cannot be translated; "
            "repair alembic_version by hand (docs/migrations.md)"
        )
    applied: set[str] = set()
    for rev in stamped:
        while rev is not None and rev not in applied:
            applied.add(rev)
            rev = OLD_HISTORY[rev][0]
    new_applied = {OLD_HISTORY[rev][1] for rev in applied}
    prefix = LINEAR_START[: len(new_applied)]
    if set(prefix) != new_applied:
        last = max(LINEAR_START.index(rev) for rev in new_applied)
        old_id = {new: old for old, (_, new) in OLD_HISTORY.items()}
        missing = [old_id[rev] for rev in LINEAR_START[:last] if rev not in new_applied]
        raise OldHistoryError(
            f"this database is at old migration heads {sorted(stamped)}, without {missing}: "
            "that is no point of the linear migration history. Upgrade it to all heads first "
            "with the last zhangben version that had the branched history (`zhangben db "
            "upgrade`), then upgrade again with this version (docs/migrations.md)"
        )
    head = prefix[-1]
    conn.execute(sa.text("DELETE FROM alembic_version"))
    conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
    return head


def current_heads(engine: Engine) -> set[str]:
    """The revisions ``alembic_version`` holds (none on an empty database)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return set()
        return set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


@cache
def head_revisions() -> frozenset[str]:
    """The head of the migrations this code ships: the history is linear and each revision
    is named as its file, numbered in order, so the head is the highest-numbered file
    (tests/store/test_migrate.py holds this against Alembic's own reading of the scripts)."""
    return frozenset({max(p.stem for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))})


def is_up_to_date(engine: Engine) -> bool:
    """True when the database is stamped with the head (an old branched stamp never is)."""
    return current_heads(engine) == head_revisions()
