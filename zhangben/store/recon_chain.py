"""The hash chain of ``recon_events``: how an event is hashed, how one is appended, and the
check that ``zhangben verify`` runs over all of them (the ``recon`` check of
:mod:`zhangben.imports.verify`).

Each event's ``hash`` is the SHA-256 of the previous event's hash and the event's own fields
as canonical JSON; the first event's ``prev_hash`` is 64 zeros. Changing, removing or
reordering any stored event breaks the chain from there on. Here, in storage, because both the
recon service (which appends) and the one verifier (in ``imports``, below ``recon``) need it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from json.encoder import encode_basestring

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.store import bulk
from zhangben.store.engine import serialize
from zhangben.store.recon_tables import recon_events

GENESIS = "0" * 64


#: The encoder, made once: ``json.dumps`` with options builds one per call, which cost a
#: run as much as the encoding (the text is the same).
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical(value) -> str | None:
    """JSON text that hashes the same wherever it is made (None stays None)."""
    if value is None:
        return None
    return _CANONICAL.encode(value)


def instant(at: datetime) -> str:
    """An event's ``at`` as it is hashed."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(prev_hash: str, row: dict, at_text: str | None = None) -> str:
    """``at_text``: :func:`instant` of ``row["at"]`` when the caller has it (a batch of
    events shares one instant)."""
    return _hash(
        prev_hash, row["id"], at_text or instant(row["at"]), row["actor"], row["action"],
        row["subject_type"], str(row["subject_id"]), row["before"], row["after"], row["reason"],
    )  # fmt: skip


def _hash(prev_hash, id_, at_text, actor, action, subject_type, subject_id, before, after, reason):
    """SHA-256 of the previous hash and the fields as a compact JSON array (``json.dumps``
    with ``ensure_ascii=False`` and no spaces), written out here: the id an int, ``before``,
    ``after`` and ``reason`` text or None, the others text (``tests/store/test_recon_chain.py``
    holds the two to the same text)."""
    e = encode_basestring
    text = (
        f"{prev_hash}[{id_:d},{e(at_text)},{e(actor)},{e(action)},{e(subject_type)},"
        f"{e(subject_id)},{'null' if before is None else e(before)},"
        f"{'null' if after is None else e(after)},{'null' if reason is None else e(reason)}]"
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _last(conn: Connection) -> tuple[int, str]:
    e = recon_events.c
    row = conn.execute(sa.select(e.id, e.hash).order_by(e.id.desc()).limit(1)).first()
    return (row.id, row.hash) if row else (0, GENESIS)


#: A stored event's columns, in the order of the tuples :meth:`Tail.rows` makes.
COLUMNS = (
    "id", "at", "actor", "action", "subject_type", "subject_id", "before", "after", "reason",
    "prev_hash", "hash",
)  # fmt: skip


class Tail:
    """The chain's end, held for one write transaction: its events are numbered and hashed
    here, in memory, one batch after another (:meth:`rows`), and stored by :func:`store`.
    Made under the advisory lock that serialises the chain on PostgreSQL, held to the end of
    the transaction."""

    def __init__(self, conn: Connection, at: datetime) -> None:
        serialize(conn, "zb:recon_events")
        self.last_id, self.last_hash = _last(conn)
        self.at, self._at_text = at, instant(at)

    def rows(self, events) -> list[tuple]:
        """Rows in :data:`COLUMNS` order for ``events``: tuples of (actor, action,
        subject_type, subject_id, before, after, reason), before and after as their
        :func:`canonical` text already."""
        out, n, prev, at, at_text = [], self.last_id, self.last_hash, self.at, self._at_text
        for actor, action, subject_type, subject_id, before, after, reason in events:
            n += 1
            subject_id = str(subject_id)
            h = _hash(prev, n, at_text, actor, action, subject_type, subject_id, before, after,
                      reason)  # fmt: skip
            out.append((n, at, actor, action, subject_type, subject_id, before, after, reason,
                        prev, h))  # fmt: skip
            prev = h
        self.last_id, self.last_hash = n, prev
        return out


def store(conn: Connection, rows: list[tuple]) -> None:
    """Insert rows made by :meth:`Tail.rows` (in their order; and on PostgreSQL the id
    sequence past them)."""
    if not rows:
        return
    bulk.insert(conn, recon_events, COLUMNS, rows)
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('recon_events', 'id'), :n)"),
            {"n": rows[-1][0]},
        )


def append(conn: Connection, events: list[dict], *, at: datetime) -> list[int]:
    """Append ``events`` (dicts of actor, action, subject_type, subject_id, before, after,
    reason; before/after as plain values) to the chain, in a write transaction."""
    if not events:
        return []
    rows = Tail(conn, at).rows(
        (e["actor"], e["action"], e["subject_type"], e["subject_id"], canonical(e.get("before")),
         canonical(e.get("after")), e.get("reason"))
        for e in events
    )  # fmt: skip
    store(conn, rows)
    return [r[0] for r in rows]


def verify(conn: Connection) -> tuple[int, list[str]]:
    """``(events checked, problems)``: each event's hash and its link to the one before."""
    problems: list[str] = []
    prev, count = GENESIS, 0
    result = conn.execution_options(yield_per=5000).execute(
        sa.select(recon_events).order_by(recon_events.c.id)
    )
    for row in result.mappings():
        count += 1
        if row["prev_hash"] != prev:
            problems.append(f"recon event {row['id']}: prev_hash does not link to the event before")
        elif event_hash(prev, dict(row)) != row["hash"]:
            problems.append(f"recon event {row['id']}: its hash does not match its content")
        prev = row["hash"]
        if len(problems) >= 20:
            problems.append("… further events not checked")
            break
    return count, problems
