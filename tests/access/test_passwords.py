"""Password hashing at production strength, and the password policy. (What the database keeps
of a session: test_sessions.py.)"""

from __future__ import annotations

from zhangben.access import passwords
from zhangben.core.errors import ValidationError


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
