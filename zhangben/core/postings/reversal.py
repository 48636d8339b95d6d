"""Rule R12: what a reversal may cancel, read from the stored entries."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core import queries
from zhangben.core.errors import AlreadyReversed, EntryNotFound, TransferNotFound, ValidationError
from zhangben.core.records import Entry
from zhangben.store.tables import entries, postings


def originals(conn: Connection, entry_id: int | None, transfer_id: int | None) -> list[Entry]:
    """The entries a reversal cancels: one income or expense entry, or both legs of a
    transfer; never a leg alone, never a reversal, never twice."""
    if entry_id is not None:
        original = queries.get_entry(conn, entry_id)
        group = queries.entries_of_posting(conn, original.posting_id)
        if len(group) > 1:
            raise ValidationError(
                "entry_id",
                f"entry {entry_id} is one leg of transfer {original.posting_id}; "
                "reverse the whole transfer instead",
            )
    else:
        kind = conn.execute(sa.select(postings.c.kind).where(postings.c.id == transfer_id)).scalar()
        if kind != "transfer":
            raise TransferNotFound(f"transfer {transfer_id} does not exist")
        group = queries.entries_of_posting(conn, transfer_id)
    if any(e.type == "reversal" for e in group):
        raise ValidationError("entry_id", "a reversal cannot itself be reversed; post a new entry")
    done = conn.execute(
        sa.select(entries.c.id).where(entries.c.reverses_entry_id.in_([e.id for e in group]))
    ).first()
    if done is not None:
        raise AlreadyReversed(f"already reversed by entry {done.id}")
    if not group:
        raise EntryNotFound("nothing to reverse")
    return group
