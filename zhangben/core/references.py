"""Trade references: a business reference for each entry, built from its trade number,
unique per leg and the same on every call.

A trade number alone is not unique: both legs of a transfer (and of a transfer's reversal)
share one, a caller with explicit idempotency keys may reuse one, and the generated 壹川-style
numbers (business date + 8 random digits) repeat by chance in a large ledger. So:

* ``T`` — the trade number itself, for the only entry of the first posting (lowest id) that
  carries ``T``;
* ``T:out`` / ``T:in`` — the outgoing (amount < 0) and incoming leg of a two-entry posting
  (a transfer, or the reversal of one);
* ``T:<posting id>`` (and ``T:<posting id>:out`` / ``:in``) — every later posting that carries
  ``T`` again, and every posting whose trade number contains ``:`` itself.

No two entries get the same reference: a reference without ``:`` is a first posting's
single entry; otherwise, after dropping an ``:out``/``:in`` suffix, either no ``:`` is left
(a first posting, legs told apart by the suffix) or the part after the last ``:`` is the
posting id. Postings are append-only, so a reference never changes once its posting is
visible, with one exception on PostgreSQL: two postings with the same trade number written by
concurrent transactions may become visible in the opposite order of their ids; the one with
the lower id is then the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.records import Entry
from zhangben.store.tables import entries, postings

SEPARATOR = ":"


def reference(entry: Entry, legs: int, first_posting_id: int) -> str:
    """The reference of ``entry``, whose posting has ``legs`` entries and whose trade number
    was first used by posting ``first_posting_id``."""
    ref = entry.trade_no
    if entry.posting_id != first_posting_id or SEPARATOR in ref:
        ref = f"{ref}{SEPARATOR}{entry.posting_id}"
    if legs > 1:
        ref = f"{ref}{SEPARATOR}{'in' if entry.amount > 0 else 'out'}"
    return ref


def posting_facts(conn: Connection, posting_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """posting id → (its number of entries, the lowest posting id with its trade number):
    one statement, each fact from an index (``entries.posting_id``, ``postings.trade_no``)."""
    wanted = sorted(set(posting_ids))
    if not wanted:
        return {}
    same = postings.alias("same_trade_no")
    legs = sa.select(sa.func.count()).where(entries.c.posting_id == postings.c.id).scalar_subquery()
    first = (
        sa.select(sa.func.min(same.c.id))
        .where(same.c.trade_no == postings.c.trade_no)
        .scalar_subquery()
    )
    rows = conn.execute(sa.select(postings.c.id, legs, first).where(postings.c.id.in_(wanted)))
    return {int(pid): (int(n), int(lowest)) for pid, n, lowest in rows}


def entry_references(conn: Connection, items: Sequence[Entry]) -> dict[int, str]:
    """entry id → its reference, for the entries of a page."""
    facts = posting_facts(conn, (e.posting_id for e in items))
    return {e.id: reference(e, *facts[e.posting_id]) for e in items}
