"""Engines per dialect, and the one way the core runs a write transaction.

SQLite: WAL journal, a busy timeout, foreign keys on, and write transactions opened with
``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing on lock upgrade.
PostgreSQL: psycopg 3; the core locks account rows with ``SELECT … FOR UPDATE`` in id order.
Transient conflicts (serialization failure, deadlock, busy database) are retried here, so they
never reach a caller.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_S = 30
_RETRYABLE_PGCODES = {"40001", "40P01", "55P03"}
MAX_ATTEMPTS = 20


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        # no pre-ping: it would cost a round trip per checkout; stale connections are
        # recycled instead
        kwargs.setdefault("pool_recycle", 1800)
    return sa.create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("zb_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def is_retryable(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _RETRYABLE_PGCODES:
        return True
    text = str(orig or exc).lower()
    return "database is locked" in text or "database is busy" in text


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction (``BEGIN IMMEDIATE`` on SQLite); commits, or rolls back on error."""
    with engine.connect() as conn:
        conn.execution_options(zb_write=True)
        with conn.begin():
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent read snapshot (one transaction)."""
    with engine.connect() as conn, conn.begin():
        yield conn


@contextmanager
def read_statement(engine: Engine) -> Iterator[Connection]:
    """A connection for a read that is ONE statement (one statement always sees one snapshot).
    On PostgreSQL it runs in autocommit mode, so the read costs one round trip instead of
    three (BEGIN, the statement, COMMIT); elsewhere it is :func:`read_transaction`."""
    if engine.dialect.name != "postgresql":
        with read_transaction(engine) as conn:
            yield conn
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def run_statements(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run ``work`` whose every statement is atomic on its own and needs no transaction around
    it (e.g. an ``INSERT … ON CONFLICT DO NOTHING``): on PostgreSQL each statement commits by
    itself — durably, as any commit — saving BEGIN and COMMIT round trips; elsewhere this is
    :func:`run_write`. Transient conflicts are retried the same way."""
    if engine.dialect.name != "postgresql":
        return run_write(engine, work)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                return work(conn)
        except sa.exc.DBAPIError as exc:
            if attempt == MAX_ATTEMPTS or not is_retryable(exc):
                raise
            time.sleep(min(0.2, 0.002 * 2**attempt) * random.random())
    raise AssertionError("unreachable")


def run_write(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run ``work`` in a write transaction, retrying transient conflicts with jittered backoff."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with write_transaction(engine) as conn:
                return work(conn)
        except sa.exc.DBAPIError as exc:
            if attempt == MAX_ATTEMPTS or not is_retryable(exc):
                raise
            time.sleep(min(0.2, 0.002 * 2**attempt) * random.random())
    raise AssertionError("unreachable")


def sync_sequence(conn: Connection, table: sa.Table, column: str = "id") -> None:
    """After rows were inserted with explicit ids, move PostgreSQL's sequence past them."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "  # noqa: S608
                f"(SELECT max({column}) FROM {table.name}))"
            )
        )
