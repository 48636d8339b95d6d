"""The batch writer: any plan, in the caller's write transaction, rows streamed in bulk.

PostgreSQL: posting ids reserved and balances updated in one pipelined round trip, then
``COPY`` of the postings and the entries (entries take their ids from the column default in
row order; the accounts are locked, so each account's entries keep the order their
balances-after chain in). SQLite: ids reserved after the ``AUTOINCREMENT`` high-water marks
(``BEGIN IMMEDIATE`` holds the write lock until commit), then ``executemany`` (entries: INSERTs
of 50 rows, see :func:`_insert_entries_sqlite`).

The core has checked every rule before it calls :func:`write`; this module only writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa

from zhangben.store.writers import period_guard
from zhangben.store.writers.outcomes import KeyRace, ReversedTwice
from zhangben.store.writers.rows import ENTRY_COLUMNS, POSTING_COLUMNS, stamper

_TRANSIENT = {"40001", "40P01", "55P03"}
_ENTRIES = ", ".join(ENTRY_COLUMNS)
_POSTINGS = ", ".join(POSTING_COLUMNS)


def write(
    conn,
    plan,
    todo: list[int],
    leg_accounts: list[int],
    after: list[int],
    trade_nos: list[str],
    balances: dict[int, int],
    now: datetime,
) -> tuple[list[int], list[int] | None]:
    """Write postings ``todo`` of ``plan``: ``leg_accounts`` and ``after`` give each of their
    legs' account id and balance-after, in order; ``balances`` every touched account's new
    balance. Returns (posting ids, entry ids — ``None`` on PostgreSQL)."""
    pg = conn.dialect.name == "postgresql"
    raw = conn.connection.driver_connection
    cur = raw.cursor()
    with _driver_errors(pg):
        if pg:
            posting_ids = _reserve_pg(raw, len(todo), balances)
            entry_ids = None
        else:
            posting_ids, entry_ids = _reserve_sqlite(cur, len(todo), len(after))
        if pg:
            postings, entries = _copy_lines(plan, todo, posting_ids, leg_accounts, after,
                                            trade_nos, now)  # fmt: skip
            with cur.copy(f"COPY postings ({_POSTINGS}) FROM STDIN") as copy:
                for chunk in _chunks(postings):
                    copy.write(chunk)
            with cur.copy(f"COPY entries ({_ENTRIES}) FROM STDIN") as copy:
                for chunk in _chunks(entries):
                    copy.write(chunk)
        else:
            postings, entries = _rows(plan, todo, posting_ids, leg_accounts, after, trade_nos, now)
            marks = ", ".join("?" * len(POSTING_COLUMNS))
            cur.executemany(f"INSERT INTO postings ({_POSTINGS}) VALUES ({marks})", postings)  # noqa: S608
            try:
                _insert_entries_sqlite(cur, entry_ids, entries)
            except Exception as exc:
                if not period_guard.refused(exc):
                    raise
                raise period_guard.from_sqlite(cur, ((r[1], r[6]) for r in entries)) from None
            cur.executemany(
                "UPDATE accounts SET balance = ? WHERE id = ?",
                [(b, a) for a, b in balances.items()],
            )
    return posting_ids, entry_ids


def _rows(plan, todo, posting_ids, leg_accounts, after, trade_nos, now):
    """Postings and entries as tuples for SQLite's ``executemany``."""
    stamp = stamper(False)
    now_value = stamp(now)
    postings, entries = [], []
    n = 0
    for i, pid, trade_no in zip(todo, posting_ids, trade_nos, strict=True):
        when = plan.trade_time[i]
        time_value = now_value if when is None else stamp(when)
        postings.append(
            (pid, plan.kind[i], trade_no, plan.key[i], plan.digest[i], plan.reverses_posting[i],
             now_value)
        )  # fmt: skip
        operator, remark, source, external = (
            plan.operator_id[i], plan.remark[i], plan.source[i], plan.external_id[i],
        )  # fmt: skip
        for leg in plan.legs(i):
            entries.append(
                (pid, leg_accounts[n], plan.type[leg], plan.delta[leg], after[n], trade_no,
                 time_value, now_value, operator, plan.category[leg], plan.subject[leg],
                 plan.counterparty[leg], plan.description[leg], remark, source, external,
                 plan.reverses_entry[leg], plan.platform_balance[leg])
            )  # fmt: skip
            n += 1
    return postings, entries


#: entries per INSERT on SQLite: 50 rows of 19 values stay under the 999 bound parameters of
#: old builds
_SQLITE_ROWS = 50


def _insert_entries_sqlite(cur, entry_ids: list[int], entries: list[tuple]) -> None:
    """Entries in INSERTs of :data:`_SQLITE_ROWS` rows each. A table with an INSERT trigger
    (the period guard) makes SQLite open a statement journal for every INSERT statement,
    which tripled the cost of one INSERT per row (``executemany``); one per 50 rows costs what
    ``executemany`` cost without the trigger."""
    one = "(" + ", ".join("?" * (len(ENTRY_COLUMNS) + 1)) + ")"
    head = f"INSERT INTO entries (id, {_ENTRIES}) VALUES "  # noqa: S608
    full = head + ", ".join([one] * _SQLITE_ROWS)
    for start in range(0, len(entries), _SQLITE_ROWS):
        ids, rows = entry_ids[start : start + _SQLITE_ROWS], entries[start : start + _SQLITE_ROWS]
        values = [v for eid, row in zip(ids, rows, strict=True) for v in (eid, *row)]
        cur.execute(full if len(rows) == _SQLITE_ROWS else head + ", ".join([one] * len(rows)),
                    values)  # fmt: skip


#: COPY's text format: each field escaped, NULL as ``\N``
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"
#: lines handed to COPY at a time: the server inserts one chunk while the next is formatted
_CHUNK = 512


def _text(value: str | None) -> str:
    if value is None:
        return _NULL
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def _copy_lines(plan, todo, posting_ids, leg_accounts, after, trade_nos, now):
    """Postings and entries as lines of COPY text, formatted here: psycopg's ``write_row``
    costs more per row than the rest of the batch's client work."""
    now_text = now.isoformat()
    null = _NULL
    texts: dict = {None: null}  # a batch repeats its texts (descriptions, sources)

    def text(value):
        found = texts.get(value)
        if found is None:
            found = texts[value] = _text(value)
        return found

    postings, entries = [], []
    kind, key, digest, reverses = plan.kind, plan.key, plan.digest, plan.reverses_posting
    types, delta, category, subject = plan.type, plan.delta, plan.category, plan.subject
    counterparty, description = plan.counterparty, plan.description
    rev_entry, platform = plan.reverses_entry, plan.platform_balance
    ends = plan.legs_end
    n = 0
    for i, pid, trade_no in zip(todo, posting_ids, trade_nos, strict=True):
        when = plan.trade_time[i]
        trade = _text(trade_no)
        reversed_ = reverses[i]
        postings.append(
            f"{pid}\t{kind[i]}\t{trade}\t{_text(key[i])}\t{_text(digest[i])}\t"
            f"{null if reversed_ is None else reversed_}\t{now_text}\n"
        )
        # the columns a posting's legs share: trade number … operator, then remark … external id
        operator = plan.operator_id[i]
        time_text = now_text if when is None else when.isoformat()
        shared = f"{trade}\t{time_text}\t{now_text}\t{null if operator is None else operator}\t"
        tail = f"{text(plan.remark[i])}\t{text(plan.source[i])}\t{_text(plan.external_id[i])}"
        for leg in range(ends[i - 1] if i else 0, ends[i]):
            cat, sub, rev, plat = category[leg], subject[leg], rev_entry[leg], platform[leg]
            entries.append(
                f"{pid}\t{leg_accounts[n]}\t{types[leg]}\t{delta[leg]}\t{after[n]}\t{shared}"
                f"{null if cat is None else cat}\t{null if sub is None else sub}\t"
                f"{text(counterparty[leg])}\t{text(description[leg])}\t{tail}\t"
                f"{null if rev is None else rev}\t{null if plat is None else plat}\n"
            )
            n += 1
    return postings, entries


def _chunks(lines: list[str]) -> Iterator[str]:
    for start in range(0, len(lines), _CHUNK):
        yield "".join(lines[start : start + _CHUNK])


def _reserve_pg(raw, count: int, balances: dict[int, int]) -> list[int]:
    with raw.pipeline():
        reserve = raw.cursor()
        reserve.execute(
            "SELECT array_agg(nextval(s.seq)) FROM generate_series(1, %s), "
            "(SELECT pg_get_serial_sequence('postings', 'id')::regclass AS seq) AS s",
            (count,),
        )
        raw.cursor().execute(
            "UPDATE accounts AS a SET balance = x.balance "
            "FROM unnest(%s::integer[], %s::bigint[]) AS x(id, balance) WHERE a.id = x.id",
            (list(balances), list(balances.values())),
        )
    return sorted(reserve.fetchone()[0])


def _reserve_sqlite(cur, postings: int, entries: int) -> tuple[list[int], list[int]]:
    """The next ids after each AUTOINCREMENT high-water mark (one statement)."""
    p_seq, p_max, e_seq, e_max = cur.execute(
        "SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'postings'), "
        "(SELECT max(id) FROM postings), "
        "(SELECT seq FROM sqlite_sequence WHERE name = 'entries'), (SELECT max(id) FROM entries)"
    ).fetchone()
    p = max(p_seq or 0, p_max or 0) + 1
    e = max(e_seq or 0, e_max or 0) + 1
    return list(range(p, p + postings)), list(range(e, e + entries))


@contextmanager
def _driver_errors(pg: bool) -> Iterator[None]:
    """Unique keys taken by a concurrent writer, transient conflicts and the period guard's
    refusal (R13), as the core and ``run_write`` understand them."""
    try:
        yield
    except Exception as exc:
        (_translate_pg if pg else _translate_sqlite)(exc)
        raise


def _translate_pg(exc: Exception) -> None:
    import psycopg  # on demand: a SQLite process never loads the PostgreSQL driver

    if isinstance(exc, psycopg.errors.UniqueViolation):
        name = exc.diag.constraint_name or ""
        if name == "uq_postings_idempotency_key":
            raise KeyRace from exc
        if name == "uq_entries_reverses_entry_id":
            raise ReversedTwice from exc
    elif isinstance(exc, psycopg.Error):
        if exc.sqlstate == period_guard.SQLSTATE:
            raise period_guard.from_pg(exc) from None
        if exc.sqlstate in _TRANSIENT:
            raise sa.exc.OperationalError(None, None, exc) from exc


def _translate_sqlite(exc: Exception) -> None:
    text = str(exc)
    if "UNIQUE constraint failed: postings.idempotency_key" in text:
        raise KeyRace from exc
    if "UNIQUE constraint failed: entries.reverses_entry_id" in text:
        raise ReversedTwice from exc
