"""Per-app rate limit: fixed one-minute windows counted in the database.

The counters live in ``shopex_rate_counts``, so the limit holds across processes and hosts
sharing the database. A fixed window may let through up to twice the limit across a minute
boundary; that is the accepted price of one upsert per call.
"""

from __future__ import annotations

import random

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.store.access_tables import shopex_rate_counts

PURGE_EVERY = 100

# Textual on purpose: SQLAlchemy cannot cache the compiled form of an ON CONFLICT clause, and
# compiling it on every call cost more than the statement. Same SQL on both dialects.
_HIT = sa.text(
    "INSERT INTO shopex_rate_counts (flag, minute, calls) VALUES (:flag, :minute, 1)\n"
    "ON CONFLICT (flag, minute) DO UPDATE SET calls = shopex_rate_counts.calls + 1\n"
    "RETURNING calls"
)


def hit(conn: Connection, flag: str, limit: int, now_ts: float) -> int | None:
    """Count one call of ``flag`` at Unix time ``now_ts``. None when it is within ``limit``
    calls this minute, else the seconds until the window ends (for ``Retry-After``)."""
    minute = int(now_ts // 60)
    calls = conn.execute(_HIT, {"flag": flag, "minute": minute}).scalar_one()
    if random.random() < 1 / PURGE_EVERY:  # noqa: S311 - not security relevant
        conn.execute(shopex_rate_counts.delete().where(shopex_rate_counts.c.minute < minute - 1))
    if calls <= limit:
        return None
    return max(1, int((minute + 1) * 60 - now_ts + 0.999))


__all__ = ["hit"]
