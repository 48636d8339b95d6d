"""Password hashing at production strength, and what the database keeps of a session."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa

from zhangben.access import passwords, sessions
from zhangben.core.errors import ValidationError
from zhangben.store.access_tables import sessions as sessions_table
from zhangben.store.engine import read_transaction, run_write
from zhangben.store.tables import users


def test_hashes_are_argon2id_with_memory_hard_defaults():
    stored = passwords.hash_password("correct horse")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(stored, "correct horse")
    assert not passwords.verify_password(stored, "correct hors")
    assert not passwords.verify_password("not-a-hash", "correct horse")
    assert not passwords.verify_password(None, "correct horse")


def test_password_policy():
    for bad in ("short", "", "x" * 1025):
        try:
            passwords.hash_password(bad)
        except ValidationError as exc:
            assert "8-1024" in exc.message
        else:
            raise AssertionError(f"{bad!r} accepted")


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
