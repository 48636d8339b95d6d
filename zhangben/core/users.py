"""People: operators of postings and owners of accounts. Passwords and sessions live in
:mod:`zhangben.access`; the core only needs who they are."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core import roles
from zhangben.core.errors import Conflict, NotFound, ValidationError
from zhangben.core.records import User
from zhangben.store.engine import sync_sequence
from zhangben.store.tables import users

ROLES = roles.STORED
_USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")


def user_from_row(row) -> User:
    return User(row.id, row.username, row.display_name, row.role, bool(row.enabled))


def add_user(
    conn: Connection,
    *,
    username: str,
    display_name: str = "",
    role: str = "user",
    password_hash: str | None = None,
    id: int | None = None,
) -> User:
    if not _USERNAME_RE.match(username or ""):
        raise ValidationError("username", "1-64 letters, digits, '_', '.', '@' or '-'")
    if role not in ROLES:
        raise ValidationError("role", f"must be one of {', '.join(ROLES)}")
    if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
        raise Conflict(f"user {username} already exists")
    values = dict(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=password_hash,
        enabled=True,
        created_at=datetime.now(UTC),
    )
    if id is not None:
        values["id"] = id
    new_id = conn.execute(users.insert().values(**values).returning(users.c.id)).scalar_one()
    if id is not None:
        sync_sequence(conn, users)
    return get_user(conn, new_id)


def get_user(conn: Connection, ref: int | str) -> User:
    column = users.c.id if isinstance(ref, int) else users.c.username
    row = conn.execute(sa.select(users).where(column == ref)).first()
    if row is None:
        raise NotFound(f"user {ref} does not exist")
    return user_from_row(row)


def list_users(conn: Connection) -> list[User]:
    return [user_from_row(r) for r in conn.execute(sa.select(users).order_by(users.c.id))]


def set_role(conn: Connection, ref: int | str, role: str) -> User:
    """Store another role for a user."""
    if role not in ROLES:
        raise ValidationError("role", f"must be one of {', '.join(ROLES)}")
    user = get_user(conn, ref)
    conn.execute(users.update().where(users.c.id == user.id).values(role=role))
    return get_user(conn, user.id)
