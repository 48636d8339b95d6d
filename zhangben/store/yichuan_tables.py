"""Login sessions and failed-login records (the 壹川 surface and any other login user).

Sessions are stored by the SHA-256 of their token only, so a leaked table grants nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

from zhangben.store.tables import metadata
from zhangben.store.types import BigId, UTCDateTime

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.Column("ip", sa.String(64)),
    sqlite_autoincrement=True,
)

#: One row per failed login; throttling counts recent rows per username and per address.
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Column("failed_at", UTCDateTime, nullable=False),
    sa.Index("ix_login_failures_username_failed_at", "username", "failed_at"),
    sa.Index("ix_login_failures_ip_failed_at", "ip", "failed_at"),
    sqlite_autoincrement=True,
)
