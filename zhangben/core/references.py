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

from collections.abc import Sequence

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


#: How many entries the posting of an entry of this type has (a transfer's two legs; income and
#: expense one). A reversal has as many as the posting it reverses: counted.
_LEGS_BY_TYPE = {"transfer_in": 2, "transfer_out": 2, "income": 1, "expense": 1}


def _statement(postgresql: bool) -> sa.CompoundSelect:
    """The lowest posting id of each trade number, and the entries of each reversal posting.
    PostgreSQL takes each list as one array (``= ANY``), SQLite as expanded ``IN``."""
    if postgresql:
        trade_nos = postings.c.trade_no == sa.any_(sa.bindparam("trade_nos"))
        reversals = entries.c.posting_id == sa.any_(sa.bindparam("reversals"))
    else:
        trade_nos = postings.c.trade_no.in_(sa.bindparam("trade_nos", expanding=True))
        reversals = entries.c.posting_id.in_(sa.bindparam("reversals", expanding=True))
    first = (
        sa.select(sa.literal_column("'first'"), postings.c.trade_no, sa.func.min(postings.c.id))
        .where(trade_nos)
        .group_by(postings.c.trade_no)
    )
    legs = (
        sa.select(
            sa.literal_column("'legs'"), sa.cast(entries.c.posting_id, sa.String), sa.func.count()
        )
        .where(reversals)
        .group_by(entries.c.posting_id)
    )
    return sa.union_all(first, legs)


_SQLITE = _statement(postgresql=False)
_PG_TEXT: list[str] = []  # compiled once: run on the driver (see queries._fetch for why)


def _rows(conn: Connection, trade_nos: list[str], reversals: list[int]) -> list[tuple]:
    params = {"trade_nos": trade_nos, "reversals": reversals}
    if conn.dialect.name != "postgresql":
        return [tuple(r) for r in conn.execute(_SQLITE, params)]
    if not _PG_TEXT:
        _PG_TEXT.append(str(_statement(postgresql=True).compile(dialect=conn.dialect)))
    return conn.connection.driver_connection.execute(_PG_TEXT[0], params).fetchall()


def entry_references(conn: Connection, items: Sequence[Entry]) -> dict[int, str]:
    """entry id → its reference, for the entries of a page: one statement, an index probe
    per distinct trade number (``postings.trade_no``) and per reversal posting
    (``entries.posting_id``; other postings' legs follow from the entry's type)."""
    if not items:
        return {}
    trade_nos = sorted({e.trade_no for e in items})
    reversals = sorted({e.posting_id for e in items if e.type not in _LEGS_BY_TYPE})
    lowest: dict[str, int] = {}
    counted: dict[int, int] = {}
    for what, key, number in _rows(conn, trade_nos, reversals):
        if what == "first":
            lowest[key] = int(number)
        else:
            counted[int(key)] = int(number)
    return {
        e.id: reference(
            e,
            _LEGS_BY_TYPE.get(e.type) or counted.get(e.posting_id, 1),
            lowest.get(e.trade_no, e.posting_id),
        )
        for e in items
    }
