"""Engines per dialect, and the one way the core runs a write transaction.

SQLite: WAL journal, a busy timeout, foreign keys on, and write transactions opened with
``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing on lock upgrade.
PostgreSQL: psycopg 3; the core locks account rows with ``SELECT … FOR UPDATE`` in id order.
Transient conflicts (serialization failure, deadlock, busy database) are retried here, so they
never reach a caller. Every engine hides SQL parameters in its errors and logs
(``hide_parameters``), and PostgreSQL's error details (which quote a failing row's values) are
dropped: a parameter may be a sign, a token hash or a password hash.

:func:`unavailable` tells a database that cannot be reached (down, restarting, connections
lost, pool exhausted, SQLite file locked past the busy timeout) from a fault of the request,
so that each surface can answer "try again" (503) instead of an internal error.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from zhangben.store import days

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: SQLite's busy handler alone
    fcntl = None

T = TypeVar("T")
S = TypeVar("S")

SQLITE_BUSY_TIMEOUT_S = 30
_RETRYABLE_PGCODES = {"40001", "40P01", "55P03"}
MAX_ATTEMPTS = 20
#: a pooled PostgreSQL connection older than this is replaced (no pre-ping: see make_engine)
POOL_RECYCLE_S = 1800


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    url = normalize_url(url)
    kwargs.setdefault("hide_parameters", True)
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
        kwargs.setdefault("pool_recycle", POOL_RECYCLE_S)
    engine = sa.create_engine(url, **kwargs)
    event.listen(engine, "handle_error", _terse_server_errors)
    return engine


def _terse_server_errors(context) -> None:
    """PostgreSQL's DETAIL of a constraint error shows the row's values ("Failing row contains
    (erp01, <sign>, …)", "Key (…)=(…) already exists"): keep only the primary message and the
    SQLSTATE, in the driver's error and in SQLAlchemy's, as hide_parameters does for the
    statement's parameters."""
    orig = context.original_exception
    diag = getattr(orig, "diag", None)
    if diag is None or not (diag.message_detail or diag.context or diag.message_hint):
        return
    terse = f"{diag.message_primary or type(orig).__name__} (SQLSTATE {diag.sqlstate})"
    orig.args = (terse,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:
        wrapped.args = (f"({type(orig).__module__}.{type(orig).__name__}) {terse}",)


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
        days.register_sqlite(dbapi_conn)  # business days in SQL (zb_local_day)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("zb_no_begin"):
            return  # run_staged_write's staging: each statement its own transaction
        mode = "IMMEDIATE" if conn.get_execution_options().get("zb_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def is_retryable(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _RETRYABLE_PGCODES:
        return True
    text = str(orig or exc).lower()
    return "database is locked" in text or "database is busy" in text


#: SQLSTATE classes and codes of a server that is unreachable, shutting down or starting up.
_UNAVAILABLE_PGCODES = {"57P01", "57P02", "57P03", "53300", "58030"}
#: Driver texts (lower case) of a lost or refused connection, and the failure class each names.
_UNAVAILABLE_TEXTS = (
    ("connection refused", "connection refused"),
    ("could not connect", "connection refused"),
    ("connection failed", "connection refused"),
    ("the database system is starting up", "database starting up"),
    ("the database system is shutting down", "database shutting down"),
    ("the database system is in recovery mode", "database in recovery"),
    ("is not currently accepting connections", "database not accepting connections"),
    ("terminating connection", "connection terminated"),
    ("server closed the connection", "connection lost"),
    ("connection is closed", "connection lost"),
    ("consuming input failed", "connection lost"),
    ("ssl syscall error", "connection lost"),
    ("connection timeout expired", "connection timed out"),
    ("database is locked", "database locked"),
    ("database is busy", "database locked"),
    ("unable to open database file", "database file unavailable"),
    ("disk i/o error", "database file unavailable"),
)


def unavailable(exc: BaseException) -> str | None:
    """The failure class when ``exc`` means the database cannot serve now (a caller may retry
    the same request later), else None. Classes: ``connection refused``, ``connection lost``,
    ``connection terminated``, ``database starting up``, ``database shutting down``,
    ``pool exhausted``, ``database locked``, …"""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, sa.exc.TimeoutError):  # QueuePool: no connection within its timeout
            return "pool exhausted"
        if isinstance(exc, sa.exc.DBAPIError):
            if exc.connection_invalidated:
                return "connection lost"
            orig = exc.orig
            sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
            if sqlstate in _UNAVAILABLE_PGCODES or (sqlstate or "").startswith("08"):
                return _text_class(str(orig)) or f"sqlstate {sqlstate}"
            if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
                found = _text_class(str(orig))
                if found:
                    return found
        elif type(exc).__module__.startswith(("psycopg", "sqlite3")):
            found = _text_class(str(exc))
            if found:
                return found
        exc = exc.__cause__ or exc.__context__
    return None


def _text_class(text: str) -> str | None:
    text = text.lower()
    for needle, name in _UNAVAILABLE_TEXTS:
        if needle in text:
            return name
    return None


def serialize(conn: Connection, *names: str) -> None:
    """Inside a write transaction: wait until no other transaction holds any of ``names``, and
    hold them until this one ends. On PostgreSQL these are transaction-level advisory locks,
    taken in the order given (callers give them in one fixed order); on SQLite the write
    transaction (``BEGIN IMMEDIATE``) already runs alone."""
    if conn.dialect.name != "postgresql":
        return
    for name in names:
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name}
        )


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction (``BEGIN IMMEDIATE`` on SQLite); commits, or rolls back on error."""
    with _writer_turn(engine), engine.connect() as conn:
        conn.execution_options(zb_write=True)
        with conn.begin():
            yield conn


_turns = threading.local()


@contextmanager
def _writer_turn(engine: Engine) -> Iterator[None]:
    """SQLite file databases: writers (threads and processes alike) take turns on an advisory
    lock file beside the database before ``BEGIN IMMEDIATE``. SQLite's own busy handler makes
    a waiting writer sleep up to 100 ms between tries, which gave p99s near 1 s with two server
    processes; on the lock file a writer gets its turn within a millisecond of the previous
    commit. After the busy timeout a writer stops waiting here and lets SQLite decide."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    held = getattr(_turns, "paths", None)
    if held is None:
        held = _turns.paths = set()
    if fcntl is None or not path or path == ":memory:" or path.startswith("file:") or path in held:
        yield
        return
    try:
        fd = os.open(f"{path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # the directory is gone or read-only: SQLite says what is wrong
        yield
        return
    try:
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
        pause = 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break  # SQLite's busy timeout takes over
                time.sleep(pause)
                pause = min(pause * 2, 0.002)
        held.add(path)
        try:
            yield
        finally:
            held.discard(path)
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent read snapshot (one transaction)."""
    with engine.connect() as conn, conn.begin():
        yield conn


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A read of several statements that must all see one snapshot: REPEATABLE READ on
    PostgreSQL (its default, READ COMMITTED, takes a snapshot per statement); on SQLite a
    transaction, whose snapshot its first read takes."""
    if engine.dialect.name != "postgresql":
        with read_transaction(engine) as conn:
            yield conn
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
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


def run_staged_write(
    engine: Engine,
    stage: Callable[[Connection], S],
    work: Callable[[Connection, S], T],
    *,
    discard: Callable[[Connection], None] | None = None,
) -> T:
    """``work(conn, stage(conn))`` in one write transaction, with ``stage`` taking no lock
    that another writer waits for; transient conflicts are retried as :func:`run_write` does.

    PostgreSQL: both in one transaction (``stage`` locks nothing; ``work`` locks what it
    writes), the whole retried. SQLite: ``stage`` runs first, outside any transaction on the
    database (each statement its own, and the staging writes go to the connection's temporary
    schema, which the database's write lock does not cover); then the writer's turn and
    ``BEGIN IMMEDIATE`` for ``work`` alone, which is what is retried. ``discard(conn)`` then
    drops what ``stage`` left in the temporary schema, whatever happened.
    """
    if engine.dialect.name != "sqlite":
        return run_write(engine, lambda conn: work(conn, stage(conn)))
    with engine.connect() as conn:
        try:
            conn.execution_options(zb_no_begin=True)
            staged = stage(conn)
            conn.commit()  # nothing is open on the database: this ends SQLAlchemy's unit
            conn.execution_options(zb_no_begin=False)
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    with _writer_turn(engine):
                        conn.execution_options(zb_write=True)
                        with conn.begin():
                            return work(conn, staged)
                except sa.exc.DBAPIError as exc:
                    if attempt == MAX_ATTEMPTS or not is_retryable(exc):
                        raise
                    time.sleep(min(0.2, 0.002 * 2**attempt) * random.random())
            raise AssertionError("unreachable")
        finally:
            try:
                if conn.in_transaction():
                    conn.rollback()
                conn.execution_options(zb_write=False, zb_no_begin=True)
                if discard is not None:
                    discard(conn)
                conn.commit()
            except Exception:  # noqa: BLE001 - closing the connection drops its temp schema
                conn.invalidate()


def sync_sequence(conn: Connection, table: sa.Table, column: str = "id") -> None:
    """After rows were inserted with explicit ids, move PostgreSQL's sequence past them."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "  # noqa: S608
                f"(SELECT max({column}) FROM {table.name}))"
            )
        )
