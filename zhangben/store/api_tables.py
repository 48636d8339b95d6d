"""Tables of the native REST API: API keys and stored responses for ``Idempotency-Key``."""

from __future__ import annotations

import sqlalchemy as sa

from zhangben.store.tables import metadata
from zhangben.store.types import UTCDateTime

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
