"""Many rows of integers into one table, at the driver's speed: ``COPY`` on PostgreSQL,
``executemany`` of tuples on SQLite (SQLAlchemy's executemany costs ~10 µs a row in parameter
processing, which a million voucher sources feel). Not for ledger rows: those are the
writers' (``store/writers/``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_CHUNK = 1 << 16


def insert_int_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[int]]
) -> None:
    """Insert ``rows`` (integers, or booleans written as integers) in ``conn``'s transaction;
    a constraint broken raises SQLAlchemy's ``IntegrityError``, as a statement would."""
    raw = conn.connection.driver_connection
    names = ", ".join(columns)
    try:
        if conn.dialect.name == "postgresql":
            with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                buffer: list[str] = []
                for row in rows:
                    buffer.append("\t".join(str(int(v)) for v in row))
                    if len(buffer) >= _CHUNK:
                        copy.write("\n".join(buffer) + "\n")
                        buffer.clear()
                if buffer:
                    copy.write("\n".join(buffer) + "\n")
        else:
            marks = ", ".join("?" * len(columns))
            raw.cursor().executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
    except Exception as exc:
        if any(c.__name__ == "IntegrityError" for c in type(exc).__mro__):
            raise sa.exc.IntegrityError(f"INSERT INTO {table}", None, exc) from None
        raise
