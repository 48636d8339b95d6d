"""Tables of the month close (月结): one row per closed (or reopened) period, and the log of
every close and reopen. A month with no row is open.

``periods.shop_code`` is ``''`` for a period of the whole ledger. ``ends_at`` of the closed
rows is what the period guard reads on every insert of an entry (rule R13), through the
index on ``(status, ends_at)``."""

from __future__ import annotations

import sqlalchemy as sa

from zhangben.store.tables import metadata
from zhangben.store.types import BigId, UTCDateTime

periods = sa.Table(
    "periods",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_code", sa.String(64), nullable=False, server_default=""),  # '' = every shop
    sa.Column("month", sa.String(7), nullable=False),  # yyyy-mm
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # closed | reopened
    #: the month's figures as canonical JSON text, exactly the bytes that were hashed
    sa.Column("snapshot", sa.Text, nullable=False),
    sa.Column("snapshot_sha256", sa.String(64), nullable=False),
    sa.Column("forced", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("closed_at", UTCDateTime, nullable=False),
    sa.Column("closed_by", sa.String(128), nullable=False),
    sa.UniqueConstraint("shop_code", "month"),
    sa.Index("ix_periods_status_ends_at", "status", "ends_at"),
    sqlite_autoincrement=True,
)

#: Who closed or reopened which period, when and why (append-only, as the ledger's rows).
period_events = sa.Table(
    "period_events",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("period_id", sa.Integer, sa.ForeignKey("periods.id"), nullable=False, index=True),
    sa.Column("action", sa.String(16), nullable=False),  # close | reopen
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("snapshot_sha256", sa.String(64), nullable=False),
    sqlite_autoincrement=True,
)
