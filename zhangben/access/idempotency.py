"""Stored responses for the ``Idempotency-Key`` header, per caller (Stripe's model).

:func:`begin` claims ``(caller, key)`` in its own short transaction by inserting an
*in-progress* row; the unique constraint on ``(caller, key)`` decides which of two concurrent
duplicates goes first. The other one gets :class:`IdempotencyInProgress` (HTTP 409, retry
later) instead of waiting. When the first request is done, :func:`store` saves its status and
body, and every later request with the same key and the same request hash gets exactly that
response back; a different hash is an :class:`~zhangben.core.errors.IdempotencyConflict`.

Records live at least 24 h (``ttl``); about one claim in :data:`PURGE_EVERY` deletes the
expired ones. An in-progress row older than ``stale_after`` (the
process died between the ledger write and :func:`store`) may be taken over by a retry; that is
safe for postings because the API also hands the key to the ledger core, whose own
idempotency key replays the posting instead of writing it twice.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from zhangben.core.errors import IdempotencyConflict, LedgerError
from zhangben.store.access_tables import idempotency_records as records

DEFAULT_TTL = timedelta(hours=24)
#: After this long an in-progress claim is taken to be dead (its process was killed, or the
#: database went away before :func:`release`) and a retry may take it over: safe, because the
#: ledger core's own key replays a posting that was written (see the module text).
STALE_AFTER = timedelta(seconds=15)
MAX_KEY_LENGTH = 128
#: About one claim in this many also deletes the expired records.
PURGE_EVERY = 100


class IdempotencyInProgress(LedgerError):
    """A request with the same key is still being processed; retry shortly."""

    code = "idempotency_in_progress"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    content_type: str
    body: str


def request_hash(method: str, path: str, payload: object) -> str:
    """Fingerprint of a request: method, path and its canonical JSON body."""
    text = json.dumps(
        [method.upper(), path, payload], sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _insert_ignoring_duplicate(conn: Connection, values: dict) -> bool:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(records).values(**values).on_conflict_do_nothing()
    return conn.execute(stmt.returning(records.c.id)).first() is not None


def begin(
    conn: Connection,
    caller: str,
    key: str,
    request_hash: str,
    *,
    now: datetime | None = None,
    ttl: timedelta = DEFAULT_TTL,
    stale_after: timedelta = STALE_AFTER,
) -> StoredResponse | None:
    """Claim ``key`` for ``caller``. None: go ahead, then call :func:`store`. A
    :class:`StoredResponse`: answer with it and do nothing. Raises IdempotencyConflict (same
    key, different request) or IdempotencyInProgress (a twin is still running)."""
    now = now or datetime.now(UTC)
    values = dict(
        caller=caller,
        key=key,
        request_hash=request_hash,
        created_at=now,
        expires_at=now + ttl,
    )
    for _ in range(3):
        if _insert_ignoring_duplicate(conn, values):
            if random.random() < 1 / PURGE_EVERY:  # noqa: S311 - not security relevant
                purge_expired(conn, now)
            return None
        where = (records.c.caller == caller) & (records.c.key == key)
        row = conn.execute(sa.select(records).where(where)).first()
        if row is None:  # expired and purged between the two statements
            continue
        if row.expires_at <= now:
            conn.execute(records.delete().where(records.c.id == row.id))
            continue
        if row.request_hash != request_hash:
            raise IdempotencyConflict(
                f"Idempotency-Key {key!r} was already used with a different request"
            )
        if row.status is not None:
            return StoredResponse(row.status, row.content_type or "application/json", row.body)
        if row.created_at > now - stale_after:
            raise IdempotencyInProgress(
                f"a request with Idempotency-Key {key!r} is still in progress; retry shortly"
            )
        conn.execute(records.update().where(records.c.id == row.id).values(created_at=now))
        return None
    raise IdempotencyInProgress(f"Idempotency-Key {key!r} is busy; retry shortly")


def store(
    conn: Connection, caller: str, key: str, status: int, body: str, content_type: str
) -> None:
    """Save the first response for ``(caller, key)``."""
    conn.execute(
        records.update()
        .where((records.c.caller == caller) & (records.c.key == key))
        .values(status=status, body=body, content_type=content_type)
    )


def release(conn: Connection, caller: str, key: str) -> None:
    """Forget an in-progress claim (the request failed on a server fault) so it may be retried."""
    conn.execute(
        records.delete().where(
            (records.c.caller == caller) & (records.c.key == key) & records.c.status.is_(None)
        )
    )


def purge_expired(conn: Connection, now: datetime | None = None) -> int:
    """Delete expired records; returns how many."""
    now = now or datetime.now(UTC)
    return conn.execute(records.delete().where(records.c.expires_at <= now)).rowcount
