"""Many rows in few driver calls: the statement is written once and the rows go to the driver
as plain tuples (SQLite: ``executemany``; PostgreSQL: one ``COPY``), skipping SQLAlchemy's
per-row parameter handling, which costs more than the database's own work on runs of 100,000
rows.

Each column's SQLAlchemy bind processing (an aware instant to SQLite's naive UTC text) still
applies, computed once per distinct value. Errors are SQLAlchemy's as any statement's are
(parameters hidden, PostgreSQL's details dropped: :mod:`zhangben.store.engine`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def insert(conn: Connection, table: sa.Table, columns: Sequence[str], rows: Iterable[Sequence]):
    """INSERT ``rows`` (tuples in the order of ``columns``) into ``table``."""
    rows = list(rows)
    if not rows:
        return
    dialect = conn.dialect
    procs = [
        (n, p)
        for n, c in enumerate(columns)
        if (p := table.c[c].type._cached_bind_processor(dialect)) is not None
    ]
    if procs:
        memo: dict = {}
        out = []
        for row in rows:
            row = list(row)
            for n, p in procs:
                v = row[n]
                try:
                    row[n] = memo[v]
                except KeyError:
                    row[n] = memo[v] = p(v)
                except TypeError:  # unhashable: not memoised
                    row[n] = p(v)
            out.append(tuple(row))
        rows = out
    names = ", ".join(table.c[c].name for c in columns)
    one = "(" + ", ".join([_mark(conn)] * len(columns)) + ")"
    head = f"INSERT INTO {table.name} ({names}) VALUES "  # noqa: S608 (schema names)
    if conn.dialect.name == "postgresql":
        _copy(conn, table, names, rows)
    else:
        conn.exec_driver_sql(head + one, rows)


def _copy(conn: Connection, table: sa.Table, names: str, rows: list) -> None:
    """PostgreSQL: ``COPY … FROM STDIN``, the rows streamed in one command. A failure is
    raised as SQLAlchemy's error with the server's primary message only (a COPY error's
    context quotes the failing row)."""
    import psycopg

    sql = f"COPY {table.name} ({names}) FROM STDIN"
    try:
        with conn.connection.driver_connection.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        diag = exc.diag
        exc.args = (f"{diag.message_primary or type(exc).__name__} (SQLSTATE {diag.sqlstate})",)
        raise sa.exc.DBAPIError.instance(
            sql, None, exc, psycopg.Error, hide_parameters=True, dialect=conn.dialect
        ) from None


_INTS = "string_to_array(%s, ',')::bigint[]"  # "1,2,3" → {1,2,3}


def add(conn: Connection, table: sa.Table, key: str, column: str, amounts: Iterable[tuple]):
    """``column += amount`` for each ``(key value, amount)``; amounts of one key summed first.
    ``key`` and ``column`` are names of ``table``'s columns (checked), never input.
    PostgreSQL: one ``UPDATE … FROM unnest(…)``; SQLite: one executemany (in-process)."""
    key, column = table.c[key].name, table.c[column].name
    sums: dict = {}
    for k, a in amounts:
        sums[k] = sums.get(k, 0) + a
    if not sums:
        return
    if conn.dialect.name == "postgresql":
        # ``= ANY`` as well as the join: the rows are found by the key's index, where the
        # join alone was planned as a hash of the whole table (every page of a run, again).
        # The numbers go as text: psycopg dumps a list of ints in Python, a run's largest cost
        keys = ",".join(map(str, sums))
        pairs = f"unnest({_INTS}, {_INTS}) AS v(k, a)"
        sql = (
            f"UPDATE {table.name} AS t SET {column} = t.{column} + v.a FROM {pairs} "  # noqa: S608
            f"WHERE t.{key} = v.k AND t.{key} = ANY({_INTS})"
        )
        conn.exec_driver_sql(sql, (keys, ",".join(map(str, sums.values())), keys))
    else:
        sql = f"UPDATE {table.name} SET {column} = {column} + ? WHERE {key} = ?"  # noqa: S608
        conn.exec_driver_sql(sql, [(a, k) for k, a in sums.items()])
