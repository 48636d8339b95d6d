"""Locking the accounts a write touches, and looking its idempotency keys up.

Accounts are locked in id order (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
already holds the database's write lock), so concurrent writers queue and never deadlock
(invariant I9). On PostgreSQL the key lookup runs after the locks are held, in the same round
trip, so it sees every writer that held them before.
"""

from __future__ import annotations

#: the columns of ``AccountState`` in zhangben.core.postings.rules, in its order
STATE = "id, number, name, currency, status, allow_overdraft, balance, shop_code"
_CHUNK = 900  # SQLite's limit of bound parameters per statement is 999 on old builds


def lock_pg(raw, refs: list, keys: list) -> tuple[list[tuple], dict]:
    """(account rows, {key: (posting id, fingerprint)}) in one pipelined round trip."""
    ids = [r for r in refs if isinstance(r, int)]
    numbers = [r for r in refs if not isinstance(r, int)]
    wanted = list(dict.fromkeys(k for k in keys if k is not None))
    with raw.pipeline():
        lock = raw.cursor()
        lock.execute(
            f"SELECT {STATE} FROM accounts WHERE id = ANY(%s::bigint[]) "  # noqa: S608
            "OR number = ANY(%s::text[]) ORDER BY id FOR UPDATE",
            (ids, numbers),
        )
        if wanted:
            lookup = raw.cursor()
            lookup.execute(
                "SELECT idempotency_key, id, request_hash FROM postings "
                "WHERE idempotency_key = ANY(%s::text[])",
                (wanted,),
            )
    rows = lock.fetchall()
    known = {k: (pid, digest) for k, pid, digest in lookup.fetchall()} if wanted else {}
    return rows, known


def lock_sqlite(cur, refs: list, keys: list) -> tuple[list[tuple], dict]:
    """The same on SQLite, whose write lock the transaction already holds."""
    rows: list[tuple] = []
    for start in range(0, len(refs), _CHUNK):
        chunk = refs[start : start + _CHUNK]
        ids = [r for r in chunk if isinstance(r, int)]
        numbers = [r for r in chunk if not isinstance(r, int)]
        query = (
            f"SELECT {STATE} FROM accounts WHERE id IN ({', '.join('?' * len(ids))}) "  # noqa: S608
            f"OR number IN ({', '.join('?' * len(numbers))}) ORDER BY id"
        )
        rows.extend(
            (*row[:5], bool(row[5]), *row[6:]) for row in cur.execute(query, [*ids, *numbers])
        )
    wanted = list(dict.fromkeys(k for k in keys if k is not None))
    known: dict = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = (
            "SELECT idempotency_key, id, request_hash FROM postings "  # noqa: S608
            f"WHERE idempotency_key IN ({', '.join('?' * len(chunk))})"
        )
        for key, pid, digest in cur.execute(query, chunk):
            known[key] = (pid, digest)
    return rows, known
