"""Tables of the ShopEx open API: the replay guard and the per-app rate-limit counters."""

from __future__ import annotations

import sqlalchemy as sa

from zhangben.store.tables import metadata
from zhangben.store.types import UTCDateTime

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
shopex_rate_counts = sa.Table(
    "shopex_rate_counts",
    metadata,
    sa.Column("flag", sa.String(64), primary_key=True),
    sa.Column("minute", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("calls", sa.Integer, nullable=False),
)
