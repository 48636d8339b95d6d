"""Password hashing with argon2id (memory-hard), via argon2-cffi's recommended parameters."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from zhangben.core.errors import ValidationError

MIN_LENGTH = 8
MAX_LENGTH = 1024

_hasher = PasswordHasher()


def set_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Swap the hasher (tests use cheaper argon2id parameters); returns the previous one.
    Existing hashes keep verifying: each carries its own parameters."""
    global _hasher
    previous, _hasher = _hasher, hasher
    _dummy_hash.cache_clear()
    return previous


def check_policy(password: str) -> str:
    """Refuse passwords that are too short or too long (raises ValidationError)."""
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValidationError("password", f"must be {MIN_LENGTH}-{MAX_LENGTH} characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_policy(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches. A missing or malformed hash still costs one hash, so
    the time taken does not tell whether the user exists or has a password."""
    if not password_hash:
        dummy_verify(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("zhangben-dummy-password")


def dummy_verify(password: str) -> None:
    """Spend the time of one verification (for unknown usernames)."""
    try:
        _hasher.verify(_dummy_hash(), password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass
