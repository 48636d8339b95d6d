"""Password hashing with argon2id (memory-hard), via argon2-cffi's recommended parameters.

argon2 is imported with the first hash or check, not with this module: the CLI's commands that
handle no password (``user list``, ``apikey …``) load it through :mod:`zhangben.access.service`
and would pay for it on every call."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from zhangben.core.errors import ValidationError

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_LENGTH = 8
MAX_LENGTH = 1024

_hasher: PasswordHasher | None = None  # argon2-cffi's recommended parameters, when first used


def _the_hasher() -> PasswordHasher:
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()
    return _hasher


def _mismatch() -> tuple[type[Exception], ...]:
    """The errors of a failed verification."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    return VerifyMismatchError, VerificationError, InvalidHashError


def set_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Swap the hasher (tests use cheaper argon2id parameters); returns the previous one.
    Existing hashes keep verifying: each carries its own parameters."""
    global _hasher
    previous, _hasher = _the_hasher(), hasher
    _dummy_hash.cache_clear()
    return previous


def check_policy(password: str) -> str:
    """Refuse passwords that are too short or too long (raises ValidationError)."""
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValidationError("password", f"must be {MIN_LENGTH}-{MAX_LENGTH} characters")
    return password


def hash_password(password: str) -> str:
    return _the_hasher().hash(check_policy(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches. A missing or malformed hash still costs one hash, so
    the time taken does not tell whether the user exists or has a password."""
    if not password_hash:
        dummy_verify(password)
        return False
    hasher = _the_hasher()
    try:
        return hasher.verify(password_hash, password)
    except _mismatch():
        return False


def needs_rehash(password_hash: str) -> bool:
    return _the_hasher().check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _the_hasher().hash("zhangben-dummy-password")


def dummy_verify(password: str) -> None:
    """Spend the time of one verification (for unknown usernames)."""
    hasher, dummy = _the_hasher(), _dummy_hash()
    try:
        hasher.verify(dummy, password or "")
    except _mismatch():
        pass
