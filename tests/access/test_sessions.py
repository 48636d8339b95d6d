"""Sessions: what the database keeps of a login (production-strength hashing; the throttling is
in test_sessions_throttling.py)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa

from zhangben.access import sessions
from zhangben.store.access_tables import sessions as sessions_table
from zhangben.store.engine import read_transaction, run_write
from zhangben.store.tables import users


def test_only_hashes_are_stored(ledger):
    run_write(ledger.engine, lambda c: sessions.add_user(c, username="u1", password="pw-123456"))
    token, _, _ = run_write(
        ledger.engine,
        lambda c: sessions.login(
            c, "u1", "pw-123456", ip="127.0.0.1", now=datetime.now(UTC), ttl_seconds=60
        ),
    )
    with read_transaction(ledger.engine) as conn:
        stored_pw = conn.execute(sa.select(users.c.password_hash)).scalar_one()
        stored_token = conn.execute(sa.select(sessions_table.c.token_hash)).scalar_one()
    assert "pw-123456" not in stored_pw and stored_pw.startswith("$argon2id$")
    assert stored_token == hashlib.sha256(token.encode()).hexdigest() != token
