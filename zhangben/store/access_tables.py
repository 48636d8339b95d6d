"""The tables of :mod:`zhangben.access`: who may call (integrators and their API keys, login
sessions, failed logins), the abuse guards (the ShopEx replay guard, per-app rate counts) and
the REST API's stored ``Idempotency-Key`` responses.

Sessions and API keys are stored by the SHA-256 of their secret only, so a leaked table grants
nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

from zhangben.store.tables import metadata
from zhangben.store.types import BigId, UTCDateTime

# --- who may call --------------------------------------------------------------------------

#: Integrators (apps): the ShopEx flag/token holder, and the owner of REST API keys.
integrators = sa.Table(
    "integrators",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("flag", sa.String(64), nullable=False, unique=True),
    sa.Column("token_encrypted", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("methods", sa.JSON, nullable=False),  # list of granted methods; ["*"] = all
    sa.Column("shop_codes", sa.JSON),  # None = all shops
    sa.Column("account_numbers", sa.JSON),  # None = all accounts
    sa.Column("ip_allow", sa.JSON),  # None = any address
    sa.Column("data_mask", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("rate_limit_per_minute", sa.Integer),
    sa.Column("response_style", sa.String(16), nullable=False, server_default="seed"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("token_rotated_at", UTCDateTime),
)

#: Keys of integrators for ``Authorization: Bearer zb_<prefix>_<secret>``. Only the SHA-256 of
#: the whole key is stored; ``prefix`` (unique, not secret) finds the row in one index probe.
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("integrator_id", sa.Integer, sa.ForeignKey("integrators.id"), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("name", sa.String(128), nullable=False, server_default=""),
    sa.Column("scopes", sa.JSON, nullable=False),  # ["read"] or ["read", "write"]
    sa.Column("shop_codes", sa.JSON),  # None = every shop the integrator may see
    sa.Column("account_numbers", sa.JSON),  # None = every account the integrator may see
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.Index("ix_api_keys_integrator_id", "integrator_id"),
)

#: Login sessions (the 壹川 surface, the REST API's Bearer sessions and any other login user).
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

# --- abuse guards ---------------------------------------------------------------------------

#: Every accepted sign, kept until its window has passed (then a repeat is refused no more,
#: because its timestamp is outside the window anyway).
replay_signs = sa.Table(
    "replay_signs",
    metadata,
    sa.Column("flag", sa.String(64), primary_key=True),
    sa.Column("sign", sa.String(64), primary_key=True),
    sa.Column("expires_at", UTCDateTime, nullable=False, index=True),
)

#: Fixed one-minute windows: calls counted per app and minute (``minute`` = Unix seconds // 60).
#: ``flag`` is the app's ShopEx flag, or ``rest:<integrator id>`` for its REST calls.
shopex_rate_counts = sa.Table(
    "shopex_rate_counts",
    metadata,
    sa.Column("flag", sa.String(64), primary_key=True),
    sa.Column("minute", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("calls", sa.Integer, nullable=False),
)

# --- the REST API's Idempotency-Key ---------------------------------------------------------

#: One row per (caller, Idempotency-Key): in progress while ``status`` is NULL, then the stored
#: first response. The unique constraint is what makes concurrent duplicates safe.
idempotency_records = sa.Table(
    "idempotency_records",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("caller", sa.String(64), nullable=False),
    sa.Column("key", sa.String(128), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer),  # NULL while the first request is in progress
    sa.Column("content_type", sa.String(64)),
    sa.Column("body", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("caller", "key"),
    sa.Index("ix_idempotency_records_expires_at", "expires_at"),
)
