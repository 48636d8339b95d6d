"""Released SQL files and migrations are never edited: RELEASED.sha256 pins every one of them.

A change to what a migration does is a new versioned SQL file (``zb_post_v3.sql``), a new
migration that names it, and a new line in the list (``sha256sum`` run in ``zhangben/store``).
"""

import hashlib
from pathlib import Path

import zhangben.store

STORE = Path(zhangben.store.__file__).parent
LIST = STORE / "writers" / "sql" / "RELEASED.sha256"


def _listed() -> dict[str, str]:
    pinned = {}
    for line in LIST.read_text(encoding="utf-8").splitlines():
        digest, path = line.split("  ", 1)
        assert path not in pinned, f"{path} is listed twice"
        pinned[path] = digest
    return pinned


def _released_files() -> set[str]:
    found = [*STORE.glob("writers/sql/*.sql"), *STORE.glob("migrations/versions/*.py")]
    return {f.relative_to(STORE).as_posix() for f in found}


def test_no_released_file_was_edited_or_removed():
    for path, digest in _listed().items():
        file = STORE / path
        assert file.exists(), f"{path} was released: it must not be removed"
        actual = hashlib.sha256(file.read_bytes()).hexdigest()
        assert actual == digest, (
            f"{path} was released and must not be edited: put the change in a new versioned "
            "file and a new migration (docs/migrations.md)"
        )


def test_every_sql_file_and_migration_is_listed():
    missing = sorted(_released_files() - _listed().keys())
    assert not missing, (
        f"{missing} not in {LIST.name}: add their lines (`sha256sum <file>` in zhangben/store)"
    )
