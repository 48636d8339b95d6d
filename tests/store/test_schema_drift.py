"""The migrated schema is the schema the code declares: Alembic's autogenerate comparison
between a database at head and the metadata of every ``zhangben/store/*tables.py`` finds no
difference, on both dialects. (Triggers and functions are invisible to autogenerate.)"""

import importlib
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import zhangben.store
from zhangben.store.migrate import target_metadata


def _all_metadata() -> list[sa.MetaData]:
    """Every MetaData that a table module's tables belong to (today they share one)."""
    found: list[sa.MetaData] = []
    for path in sorted(Path(zhangben.store.__file__).parent.glob("*tables.py")):
        module = importlib.import_module(f"zhangben.store.{path.stem}")
        for value in vars(module).values():
            meta = value if isinstance(value, sa.MetaData) else getattr(value, "metadata", None)
            if isinstance(value, sa.MetaData | sa.Table) and all(meta is not m for m in found):
                found.append(meta)
    return found


def _is_sqlite_empty_string_default(diff) -> bool:
    """Alembic's SQLite comparison strips the quotes of a reflected default with a ``'(.+)'``
    pattern, which an empty string cannot match: ``''`` in the database is reported as
    differing from ``server_default=""``. Only that exact case is passed over."""
    if not (isinstance(diff, list) and len(diff) == 1 and diff[0][0] == "modify_default"):
        return False
    _, _, _, _, _, reflected, declared = diff[0]
    return str(reflected.arg) in ("''", "('')") and declared.arg == ""


#: Foreign keys the metadata declares that PostgreSQL checks by triggers, per statement, since
#: migration 0021 (tests/store/test_recon_references.py holds the triggers to the same rules).
CHECKED_BY_TRIGGERS = {
    "fk_match_lines_group_id_match_groups",
    "fk_bill_recon_bill_row_id_bill_rows",
}


def _is_fk_checked_by_triggers(diff) -> bool:
    return isinstance(diff, tuple) and diff[0] == "add_fk" and (diff[1].name in CHECKED_BY_TRIGGERS)


def test_every_table_module_is_in_the_target_metadata():
    assert [target_metadata()] == _all_metadata()


def test_migrated_schema_matches_the_metadata(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diffs = compare_metadata(context, _all_metadata())
    if engine.dialect.name == "sqlite":
        diffs = [d for d in diffs if not _is_sqlite_empty_string_default(d)]
    else:
        skipped = [d for d in diffs if _is_fk_checked_by_triggers(d)]
        assert len(skipped) == len(CHECKED_BY_TRIGGERS), skipped
        diffs = [d for d in diffs if d not in skipped]
    assert diffs == []
