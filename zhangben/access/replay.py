"""The replay guard: a sign that was accepted is refused until its window has passed.

Signs live in the database (table ``replay_signs``), so the guard holds across processes,
hosts sharing one database, and restarts. Expired rows are purged now and then.
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from zhangben.store.shopex_tables import replay_signs

#: One call in this many also deletes the expired rows.
PURGE_EVERY = 100


def _insert(conn: Connection):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(replay_signs)


def remember_sign(
    conn: Connection, flag: str, sign: str, expires_at: datetime, now: datetime
) -> bool:
    """Record ``sign`` for ``flag`` until ``expires_at``. False when it is already recorded and
    not yet expired (a replay); an expired record is taken over."""
    inserted = conn.execute(
        _insert(conn)
        .values(flag=flag, sign=sign, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["flag", "sign"])
        .returning(replay_signs.c.flag)
    ).first()
    if inserted is None:
        inserted = conn.execute(
            replay_signs.update()
            .where(
                replay_signs.c.flag == flag,
                replay_signs.c.sign == sign,
                replay_signs.c.expires_at <= now,
            )
            .values(expires_at=expires_at)
            .returning(replay_signs.c.flag)
        ).first()
    if random.random() < 1 / PURGE_EVERY:  # noqa: S311 - not security relevant
        purge_expired(conn, now)
    return inserted is not None


def purge_expired(conn: Connection, now: datetime) -> int:
    """Delete the signs whose window has passed; returns how many."""
    expired = replay_signs.delete().where(replay_signs.c.expires_at <= now)
    return len(conn.execute(expired.returning(replay_signs.c.flag)).all())
