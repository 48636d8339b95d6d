"""Rules of the house that a linter cannot see, checked over the source."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "zhangben"
WRITERS = PACKAGE / "store" / "writers"

#: SQL (or SQLAlchemy Core) that writes ledger rows: postings, entries, account balances
LEDGER_WRITES = [
    re.compile(r"INSERT\s+INTO\s+(entries|postings)\b", re.IGNORECASE),
    re.compile(r"COPY\s+(entries|postings)\b", re.IGNORECASE),
    re.compile(r"UPDATE\s+accounts\b[^;]{0,80}?\bSET\s+balance\b", re.IGNORECASE | re.DOTALL),
    re.compile(r"\b(entries|postings)\.insert\("),
    re.compile(r"accounts\.update\(\)[^;]{0,200}?\bbalance\s*=", re.DOTALL),
]


def _sources():
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in (".py", ".sql") and "__pycache__" not in path.parts:
            yield path, path.read_text(encoding="utf-8")


def test_only_the_writers_folder_writes_ledger_rows():
    """Invariant I7: exactly one folder of the package writes postings, entries and balances."""
    writing = {
        path.relative_to(PACKAGE).as_posix()
        for path, text in _sources()
        if any(p.search(text) for p in LEDGER_WRITES)
    }
    outside = sorted(p for p in writing if not p.startswith("store/writers/"))
    assert outside == [], f"ledger rows written outside store/writers: {outside}"
    assert {"store/writers/bulk.py", "store/writers/staged.py"} <= writing


def test_the_patterns_see_what_they_look_for(tmp_path):
    """The scan above would catch each way of writing a ledger row."""
    samples = [
        "cur.execute('INSERT INTO entries (id) VALUES (1)')",
        "copy('COPY postings (id) FROM STDIN')",
        "UPDATE accounts AS a SET balance = x.balance FROM unnest(...)",
        "conn.execute(entries.insert().values(amount=1))",
        "conn.execute(accounts.update().where(accounts.c.id == 1).values(balance=5))",
    ]
    for sample, pattern in zip(samples, LEDGER_WRITES, strict=True):
        assert pattern.search(sample), sample
    assert not any(p.search("accounts.update().values(owner_user_id=1)") for p in LEDGER_WRITES)
