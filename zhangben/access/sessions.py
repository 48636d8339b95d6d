"""Logins, sessions and user administration, over a SQLAlchemy connection.

* :func:`login` checks a password (argon2) and opens a session: a random opaque token whose
  SHA-256 alone is stored, with an expiry. Bad credentials and throttling raise
  :class:`LoginFailed` / :class:`LoginThrottled`, never telling whether the username exists.
* Throttling, by the address the attempt comes from:

  * :data:`MAX_FAILURES` failures for one username *from one address* within :data:`WINDOW`
    lock that username at that address for :data:`LOCK`. The same username from another
    address, and other usernames from that address, are not affected: a colleague's typos
    behind the same office router lock no one else out, and nobody can lock a user out
    from elsewhere by guessing their password.
  * :data:`MAX_ADDRESS_FAILURES` failures from one address, for any usernames, within
    :data:`WINDOW` lock that address for :data:`LOCK`: the guard against one address trying a
    password on many usernames (spraying).

  Refused attempts during a lock are not counted (so a lock ends on time); the error says
  how long is left (:attr:`LoginThrottled.retry_after`). :func:`unlock` (``zhangben user
  unlock``) forgets failures and so lifts a lock at once.
* :func:`authenticate` answers only for live sessions (not expired, not revoked) of enabled
  users, so logout and disabling a user take effect at once.

:func:`login` judges at most :data:`MAX_FAILURES` guesses per username and address per window
however the attempts are timed: :func:`precheck_login` runs serialized per address (both counts
are of one address's attempts; :func:`zhangben.store.engine.serialize`: an advisory lock on
PostgreSQL, the write transaction on SQLite) and *records the attempt as a failure* before the
password is checked, so that concurrent attempts count each other. :func:`finish_login` then
removes the failures of a successful login. :meth:`zhangben.access.service.Access.login` runs the
two in two write transactions and argon2 between them, outside any transaction. (An attempt
whose process dies between the two stays counted as a failure.)
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.access import passwords
from zhangben.core import accounts as acc
from zhangben.core import users as core_users
from zhangben.core.errors import LedgerError, ValidationError
from zhangben.core.records import Account, User
from zhangben.store.access_tables import login_failures, sessions
from zhangben.store.engine import serialize
from zhangben.store.tables import accounts, users

#: failures of one username from one address that lock it there
MAX_FAILURES = 5
#: failures from one address, for any usernames, that lock the address
MAX_ADDRESS_FAILURES = 30
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
_PRUNE_AFTER = timedelta(days=1)
_MAX_TOKEN_LENGTH = 256


def wait_text(seconds: int) -> str:
    """``14 min 5 s``, ``40 s``: how long a lock has left."""
    minutes, rest = divmod(max(1, seconds), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


class LoginFailed(LedgerError):
    """Wrong username or password (deliberately the same for an unknown or disabled user)."""

    code = "login_failed"

    def __init__(self, message: str = "wrong username or password") -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Lock:
    """A lock in force: until when, and whether it is the username's at this address or the
    whole address's."""

    until: datetime
    address_wide: bool

    def what(self) -> str:
        if self.address_wide:
            return f"logging in from this address is locked (over {MAX_ADDRESS_FAILURES} failures)"
        return "this username is locked at this address"


class LoginThrottled(LoginFailed):
    """Too many failed logins for this username from this address, or from this address."""

    code = "login_throttled"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        retry_after = max(1, retry_after)
        super().__init__(
            message
            or f"too many failed logins; logging in is locked, try again in "
            f"{wait_text(retry_after)}"
        )
        self.retry_after = retry_after


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- login ------------------------------------------------------------------------------------


def login(
    conn: Connection,
    username: str,
    password: str,
    *,
    ip: str | None,
    now: datetime,
    ttl_seconds: int,
) -> tuple[str, User, datetime]:
    """Check the password and open a session: ``(token, user, expires_at)``."""
    attempt = precheck_login(conn, username, ip, now)
    ok = password_matches(attempt.row, password)
    result = finish_login(conn, attempt, ttl_seconds, ok)
    if isinstance(result, LoginFailed):
        raise result
    return result


def _key(username: str, ip: str | None) -> tuple[str, str]:
    return str(username or "")[:64], str(ip or "unknown")[:64]


@dataclass(frozen=True, slots=True)
class Attempt:
    """A login attempt let through the lock check and already counted as a failure."""

    username: str
    ip: str
    now: datetime
    failure_id: int
    row: Any  # the user's row, or None for an unknown username


def precheck_login(conn: Connection, username: str, ip: str | None, now: datetime) -> Attempt:
    """In a write transaction: raise :class:`LoginThrottled` during a lock; else record the
    attempt as a failure (undone by a successful :func:`finish_login`) and return it with the
    user's row. Serialized per address, so the counts a caller sees include every attempt
    let through before it."""
    _check_now(now)
    name, addr = _key(username, ip)
    serialize(conn, f"zb-login-ip:{addr}")
    _raise_if_locked(conn, name, addr, now)
    conn.execute(login_failures.delete().where(login_failures.c.failed_at < now - _PRUNE_AFTER))
    failure_id = conn.execute(
        login_failures.insert()
        .values(username=name, ip=addr, failed_at=now)
        .returning(login_failures.c.id)
    ).scalar_one()
    row = conn.execute(sa.select(users).where(users.c.username == name)).first()
    return Attempt(name, addr, now, failure_id, row)


def password_matches(row, password: str) -> bool:
    """Whether ``password`` is the row's and the user is enabled (as slow for an unknown user)."""
    if row is None:
        passwords.dummy_verify(password or "")
        return False
    return passwords.verify_password(row.password_hash, password or "") and bool(row.enabled)


def finish_login(conn, attempt: Attempt, ttl_seconds: int, ok: bool) -> tuple | LoginFailed:
    """Open the session (and forget the username's failures), or leave the attempt counted
    and return (not raise) the error to raise once it is committed."""
    name, addr, now, row = attempt.username, attempt.ip, attempt.now, attempt.row
    current = None
    if row is not None:
        current = conn.execute(sa.select(users).where(users.c.id == row.id)).first()
    if not ok or current is None or current.password_hash != row.password_hash:
        return _failed(conn, name, addr, now)
    if not current.enabled:
        return _failed(conn, name, addr, now)
    conn.execute(  # this username's failures at this address; its locks elsewhere stay
        login_failures.delete().where(
            login_failures.c.username == name, login_failures.c.ip == addr
        )
    )
    conn.execute(
        sessions.delete().where(sessions.c.user_id == current.id, sessions.c.expires_at < now)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=ttl_seconds)
    conn.execute(
        sessions.insert().values(
            token_hash=token_hash(token),
            user_id=current.id,
            created_at=now,
            expires_at=expires_at,
            ip=addr,
        )
    )
    return token, core_users.user_from_row(current), expires_at


def _failed(conn: Connection, name: str, addr: str, now: datetime) -> LoginFailed:
    """The answer to a wrong guess, whose failure :func:`precheck_login` recorded."""
    lock = _lock(conn, name, addr, now)
    if lock is not None:
        wait = int((lock.until - now).total_seconds())
        return LoginThrottled(
            wait,
            f"wrong username or password; after this failure {lock.what()}: try again in "
            f"{wait_text(wait)}",
        )
    return LoginFailed()


def _raise_if_locked(conn: Connection, name: str, addr: str, now: datetime) -> None:
    lock = _lock(conn, name, addr, now)
    if lock is not None:
        wait = int((lock.until - now).total_seconds())
        raise LoginThrottled(
            wait, f"too many failed logins; {lock.what()}: try again in {wait_text(wait)}"
        )


def _lock(conn: Connection, name: str, addr: str, now: datetime) -> Lock | None:
    """The lock in force for this username at this address, if any (the one ending last)."""
    rows = conn.execute(
        sa.select(login_failures.c.username, login_failures.c.failed_at)
        .where(login_failures.c.ip == addr, login_failures.c.failed_at >= now - WINDOW - LOCK)
        .order_by(login_failures.c.failed_at, login_failures.c.id)
    ).all()
    found = [
        Lock(until, address_wide)
        for times, most, address_wide in (
            ([t for user, t in rows if user == name], MAX_FAILURES, False),
            ([t for _user, t in rows], MAX_ADDRESS_FAILURES, True),
        )
        if (until := _locked_until(times, most)) is not None and until > now
    ]
    return max(found, key=lambda lock: lock.until, default=None)


def _locked_until(times: list[datetime], most: int) -> datetime | None:
    """End of the latest lock of ``most`` failures within :data:`WINDOW` among ``times``
    (sorted)."""
    ends = [
        times[i] + LOCK
        for i in range(most - 1, len(times))
        if times[i] - times[i - most + 1] <= WINDOW
    ]
    return max(ends, default=None)


def unlock(conn: Connection, username: str | None, ip: str | None) -> int:
    """Forget failed logins, which lifts the locks they make at once: ``username``'s (from
    ``ip`` only, when given), or with no username every failure from ``ip`` (the address's
    own lock). Returns how many were forgotten."""
    if username is None and ip is None:
        raise ValidationError("username", "give a username, an address, or both")
    where = []
    if username is not None:
        where.append(login_failures.c.username == _key(username, None)[0])
    if ip is not None:
        where.append(login_failures.c.ip == _key("", ip)[1])
    return conn.execute(login_failures.delete().where(*where)).rowcount


def lock_of(conn: Connection, username: str, ip: str, now: datetime) -> Lock | None:
    """The lock in force for ``username`` logging in from ``ip``, if any."""
    _check_now(now)
    name, addr = _key(username, ip)
    return _lock(conn, name, addr, now)


def _check_now(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValidationError("now", "must carry a time zone")


# -- sessions ---------------------------------------------------------------------------------


def authenticate(conn: Connection, token: str | None, now: datetime) -> User | None:
    """The user of a live session, or None (unknown, expired, revoked, or user disabled)."""
    if not token or not isinstance(token, str) or len(token) > _MAX_TOKEN_LENGTH:
        return None
    _check_now(now)
    row = conn.execute(
        sa.select(users)
        .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
        .where(
            sessions.c.token_hash == token_hash(token),
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > now,
            users.c.enabled.is_(True),
        )
    ).first()
    return None if row is None else core_users.user_from_row(row)


def logout(conn: Connection, token: str | None, now: datetime | None = None) -> bool:
    """Revoke the session of ``token``; True when a live session was revoked."""
    if not token or not isinstance(token, str) or len(token) > _MAX_TOKEN_LENGTH:
        return False
    result = conn.execute(
        sessions.update()
        .where(sessions.c.token_hash == token_hash(token), sessions.c.revoked_at.is_(None))
        .values(revoked_at=now or datetime.now(UTC))
    )
    return result.rowcount > 0


def revoke_sessions(conn: Connection, user_id: int, now: datetime | None = None) -> int:
    """Revoke every live session of a user; returns how many."""
    result = conn.execute(
        sessions.update()
        .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now or datetime.now(UTC))
    )
    return result.rowcount


# -- user administration ----------------------------------------------------------------------


def add_user(
    conn: Connection,
    *,
    username: str,
    display_name: str = "",
    role: str = "user",
    password: str | None = None,
    id: int | None = None,
) -> User:
    """A new user; without a password they cannot log in until :func:`set_password`."""
    password_hash = passwords.hash_password(password) if password is not None else None
    return core_users.add_user(
        conn,
        username=username,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        id=id,
    )


def set_password(conn: Connection, username: str, password: str) -> User:
    """Set a new password and revoke the user's sessions."""
    user = core_users.get_user(conn, username)
    conn.execute(
        users.update()
        .where(users.c.id == user.id)
        .values(password_hash=passwords.hash_password(password))
    )
    revoke_sessions(conn, user.id)
    return user


def set_enabled(conn: Connection, username: str, enabled: bool) -> User:
    """Enable or disable a user; disabling revokes their sessions at once."""
    user = core_users.get_user(conn, username)
    conn.execute(users.update().where(users.c.id == user.id).values(enabled=enabled))
    if not enabled:
        revoke_sessions(conn, user.id)
    return core_users.get_user(conn, user.id)


def set_role(conn: Connection, username: str, role: str) -> User:
    """Store another role; the user's sessions are revoked (they log in again with it)."""
    user = core_users.set_role(conn, username, role)
    revoke_sessions(conn, user.id)
    return user


def grant_account(conn: Connection, username: str, account_number: str) -> Account:
    """Make ``username`` the owner of an account (an account has one owner)."""
    user = core_users.get_user(conn, username)
    account = acc.get_account(conn, account_number)
    conn.execute(accounts.update().where(accounts.c.id == account.id).values(owner_user_id=user.id))
    return acc.get_account(conn, account.id)


def owned_accounts(conn: Connection, user_id: int) -> list[Account]:
    """The accounts a user owns, by id."""
    return acc.list_accounts(conn, owner_user_id=user_id)
