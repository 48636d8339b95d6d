"""The replay guard: a sign that was accepted is refused until its window has passed.

Signs live in the database (table ``replay_signs``), so the guard holds across processes,
hosts sharing one database, and restarts. Expired rows are purged now and then.
"""

from __future__ import annotations

import random
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.access.integrators import Integrator, find_integrator, integrator_from_row
from zhangben.store.access_tables import integrators, replay_signs
from zhangben.store.types import UTCDateTime

#: One call in this many also deletes the expired rows.
PURGE_EVERY = 100


# Textual SQL on purpose: SQLAlchemy cannot cache the compiled form of ON CONFLICT clauses,
# and compiling them again on every call cost more than the round trip. Both dialects run
# the same upsert (SQLite ≥ 3.35 has ON CONFLICT … DO UPDATE … WHERE and RETURNING).
_UPSERT = """INSERT INTO replay_signs (flag, sign, expires_at) VALUES (:flag, :sign, :expires_at)
ON CONFLICT (flag, sign) DO UPDATE SET expires_at = excluded.expires_at
WHERE replay_signs.expires_at <= :now"""
_BINDS = (
    sa.bindparam("flag", type_=sa.String),
    sa.bindparam("sign", type_=sa.String),
    sa.bindparam("expires_at", type_=UTCDateTime),
    sa.bindparam("now", type_=UTCDateTime),
)
#: Inserts the sign, or takes over an expired record of it, in ONE atomic statement; returns a
#: row only when it did either.
CLAIM = sa.text(_UPSERT + "\nRETURNING flag").bindparams(*_BINDS)
#: PostgreSQL: the claim as a data-modifying CTE, and the app's current record beside it.
_APP_COLUMNS = ", ".join(f"i.{c.name}" for c in integrators.c)  # constants: column names
CLAIM_AND_READ_APP = (
    sa.text(
        f"WITH claim AS ({_UPSERT} RETURNING 1)\n"  # noqa: S608
        f"SELECT (SELECT count(*) FROM claim) AS zb_fresh, {_APP_COLUMNS}\n"  # noqa: S608
        "FROM (SELECT 1) AS one LEFT JOIN integrators AS i ON i.flag = :flag"
    )
    .bindparams(*_BINDS)
    .columns(sa.column("zb_fresh", sa.Integer), *integrators.c)
)


def remember_sign(
    conn: Connection, flag: str, sign: str, expires_at: datetime, now: datetime
) -> bool:
    """Record ``sign`` for ``flag`` until ``expires_at``. False when it is already recorded and
    not yet expired (a replay); an expired record is taken over."""
    params = dict(flag=flag, sign=sign, expires_at=expires_at, now=now)
    inserted = conn.execute(CLAIM, params).first()
    _maybe_purge(conn, now)
    return inserted is not None


def remember_sign_and_read_app(
    conn: Connection, flag: str, sign: str, expires_at: datetime, now: datetime
) -> tuple[bool, Integrator | None]:
    """:func:`remember_sign`, and the app's current record read after it — on PostgreSQL in
    ONE statement (the claim as a data-modifying CTE), so a gateway that found the app in its
    cache still sees a rotated token, a disabled flag or changed grants on every call without
    a round trip of its own. ``(fresh, app)``; app None when the flag no longer exists."""
    if conn.dialect.name != "postgresql":
        fresh = remember_sign(conn, flag, sign, expires_at, now)
        return fresh, find_integrator(conn, flag)
    params = dict(flag=flag, sign=sign, expires_at=expires_at, now=now)
    row = conn.execute(CLAIM_AND_READ_APP, params).one()
    _maybe_purge(conn, now)
    return row.zb_fresh > 0, None if row.id is None else integrator_from_row(row)


def _maybe_purge(conn: Connection, now: datetime) -> None:
    if random.random() < 1 / PURGE_EVERY:  # noqa: S311 - not security relevant
        purge_expired(conn, now)


def purge_expired(conn: Connection, now: datetime) -> int:
    """Delete the signs whose window has passed; returns how many."""
    expired = replay_signs.delete().where(replay_signs.c.expires_at <= now)
    return len(conn.execute(expired.returning(replay_signs.c.flag)).all())
