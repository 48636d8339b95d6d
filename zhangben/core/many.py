"""Many postings in ONE database transaction, all or nothing (``Ledger.post_many``).

The same rules as :func:`zhangben.core.posting.execute` — idempotency keys, every check of
:func:`~zhangben.core.posting._check`, entries with their balance-after — but paid for once per
batch: one query for the known keys, one lock of every account involved (``FOR UPDATE`` in id
order; SQLite's ``BEGIN IMMEDIATE``), ids reserved in one query, postings and entries streamed
with ``COPY`` on PostgreSQL (executemany on SQLite), one balance update per account. A request
that fails a check fails the whole batch, naming its position; nothing is written.

Transfers have a columnar path (:func:`plan_transfers`, :func:`transfer_many`, used by
``Ledger.transfer_many``): no object per transfer, amounts parsed straight to minor units, the
request hash built from a fixed JSON template (byte for byte the text ``Ledger.transfer``
hashes, so both share one key space), balances chained in plain ints, and on PostgreSQL the
rows streamed as pre-formatted ``COPY`` text in chunks (the server inserts one chunk while the
next is formatted) with the lock + key lookup and the id reservation + balance update each in
one pipelined round trip. What is left is the database's own cost of the rows (bench 3).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import struct
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from itertools import chain
from zoneinfo import ZoneInfo

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core import chart as chart_ids
from zhangben.core.batch import _known_keys, reserve_ids
from zhangben.core.errors import (
    AccountNotFound,
    IdempotencyConflict,
    InsufficientFunds,
    LedgerError,
    SameAccount,
    ValidationError,
)
from zhangben.core.money import (
    MAX_AMOUNT,
    MAX_BALANCE_MINOR,
    MINOR_PER_UNIT,
    SCALE,
    format_amount,
    from_minor,
    parse_amount,
    to_minor,
)
from zhangben.core.posting import (
    ENTRY_COLUMNS,
    Leg,
    PostingRequest,
    _check,
    _lock_accounts,
    _Locked,
    entry_values,
    new_trade_no,
)
from zhangben.store.tables import accounts, entries, postings


def sort_keys(
    keys: Sequence[str | None], digests: Sequence[str | None], known: dict
) -> tuple[list[int | None], list[int], dict[str, int]]:
    """Sort a batch by its idempotency keys: (result with the earlier posting id of every
    replay, positions still to write, first position of each new key). A key seen before
    with other content, or twice in the batch with different content, is a conflict."""
    result: list[int | None] = [None] * len(keys)
    todo: list[int] = []
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key is None:
            todo.append(i)
        elif key in known:
            if known[key][1] != digests[i]:
                raise IdempotencyConflict(
                    f"request {i}: idempotency key {key!r} was already used for a different request"
                )
            result[i] = known[key][0]
        elif key in first:
            if digests[first[key]] != digests[i]:
                raise IdempotencyConflict(f"request {i}: idempotency key {key!r} is used twice")
        else:
            first[key] = i
            todo.append(i)
    return result, todo, first


def post_many(conn: Connection, requests: Sequence[PostingRequest], tz: ZoneInfo) -> list[int]:
    """Write ``requests`` in order inside the caller's write transaction. Returns each
    request's posting id (the earlier posting's id for an idempotent replay)."""
    now = datetime.now(UTC)
    keys = [r.effective_key() for r in requests]
    digests = [r.request_hash() for r in requests]
    known = _known_keys(conn, [k for k in keys if k is not None])
    result, todo, first = sort_keys(keys, digests, known)

    refs = list(dict.fromkeys(leg.account for i in todo for leg in requests[i].legs))
    locked = _lock_accounts(conn, refs) if refs else {}
    after: list[list[int]] = []
    for i in todo:  # every check, in order, before anything is written
        req = requests[i]
        try:
            _check(req, locked)
        except LedgerError as exc:
            exc.message = f"request {i}: {exc.message}"
            exc.args = (exc.message,)
            raise
        balances = []
        for leg in req.legs:
            acc = locked[leg.account]
            acc.balance += leg.delta
            balances.append(acc.balance)
            if leg.counterparty_account is not None:
                leg.counterparty = locked[leg.counterparty_account].number
        after.append(balances)

    posting_ids = reserve_ids(conn, postings, len(todo))
    entry_ids = iter(reserve_ids(conn, entries, sum(len(requests[i].legs) for i in todo)))
    stamp = _timestamper(conn)
    now_value = stamp(now)
    posting_rows, entry_rows = [], []
    for n, i in enumerate(todo):
        req, pid = requests[i], posting_ids[n]
        trade_time = req.trade_time or now
        time_value = now_value if trade_time is now else stamp(trade_time)
        trade_no = req.trade_no or new_trade_no(trade_time, tz)
        posting_rows.append(
            (pid, req.kind, trade_no, keys[i], digests[i], req.reverses_posting_id, now_value)
        )
        for leg, balance_after in zip(req.legs, after[n], strict=True):
            entry_rows.append(
                (
                    next(entry_ids),
                    *entry_values(
                        req,
                        leg,
                        pid,
                        locked[leg.account].id,
                        balance_after,
                        trade_no,
                        time_value,
                        now_value,
                    ),
                )
            )
        result[i] = pid
    insert_tuples(conn, "postings", _POSTING_COLUMNS, posting_rows)
    insert_tuples(conn, "entries", _ENTRY_COLUMNS, entry_rows)
    touched = {acc.id: acc.balance for acc in locked.values()}
    if touched:
        conn.execute(
            accounts.update()
            .where(accounts.c.id == sa.bindparam("acc_id"))
            .values(balance=sa.bindparam("new_balance")),
            [{"acc_id": a, "new_balance": b} for a, b in touched.items()],
        )
    for j, key in enumerate(keys):  # duplicates inside the batch answer with the first's id
        if result[j] is None and key is not None:
            result[j] = result[first[key]]
    return result  # type: ignore[return-value]


_POSTING_COLUMNS = (
    "id",
    "kind",
    "trade_no",
    "idempotency_key",
    "request_hash",
    "reverses_posting_id",
    "created_at",
)
_ENTRY_COLUMNS = ("id", *ENTRY_COLUMNS)


def _timestamper(conn: Connection):
    """How an instant is written by the raw bulk path: SQLite stores SQLAlchemy's naive-UTC
    text, PostgreSQL takes the aware datetime."""
    if conn.dialect.name == "sqlite":
        return lambda dt: dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return lambda dt: dt


def insert_tuples(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Bulk insert on the driver: ``COPY … FROM STDIN`` on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    names = ", ".join(columns)
    cursor = conn.connection.driver_connection.cursor()
    if conn.dialect.name == "postgresql":
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608


# -- the columnar fast path for transfer batches (``Ledger.transfer_many``) -----------------


class KeyRace(Exception):  # noqa: N818 - not an error the caller sees
    """A concurrent transaction committed one of the batch's idempotency keys first; the
    batch was rolled back and may be run again (it then replays or conflicts)."""


@dataclass(slots=True)
class TransferBatch:
    """Transfers planned as columns: refs as given, amounts in minor units, the explicit
    idempotency key (or None) and the request hash, which equals the hash of the same
    transfer made by ``Ledger.transfer`` (one key space for single and batched postings)."""

    sources: list
    targets: list
    amounts: list[int]
    keys: list
    digests: list[str]


_PLAIN = re.compile(r"([0-9]{1,14})(?:\.([0-9]{1,4}))?")  # ASCII digits only, as parse_amount
_MAX_MINOR = int(MAX_AMOUNT * MINOR_PER_UNIT)


def _minor(value: object, position: int) -> int:
    """``to_minor(parse_amount(value))``, without Decimal arithmetic for the common forms;
    anything unusual (and every invalid value) goes through ``parse_amount`` itself."""
    kind = type(value)
    if kind is str:
        match = _PLAIN.fullmatch(value)
        if match is not None:
            whole, frac = match.groups()
            minor = int(whole) * MINOR_PER_UNIT + (int(frac.ljust(SCALE, "0")) if frac else 0)
            if 0 < minor <= _MAX_MINOR:
                return minor
    elif kind is Decimal:
        if value.is_finite() and 0 < value <= MAX_AMOUNT:  # type: ignore[operator]
            scaled = value.scaleb(SCALE)  # type: ignore[union-attr]
            if scaled == scaled.to_integral_value():
                return int(scaled)
    elif kind is int and 0 < value <= MAX_AMOUNT:  # type: ignore[operator]
        return value * MINOR_PER_UNIT  # type: ignore[operator]
    try:
        return to_minor(parse_amount(value))
    except LedgerError as exc:
        raise _at(exc, position) from None


def _at(exc: LedgerError, position: int) -> LedgerError:
    """Name the failing request's position in the batch."""
    exc.message = f"request {position}: {exc.message}"
    exc.args = (exc.message,)
    return exc


def plan_transfers(transfers: Iterable[Sequence]) -> TransferBatch:
    """Validate ``(from, to, amount[, idempotency_key])`` specs into columns, raising (with
    the position) the same errors, in the same order, as planning them one by one would."""
    sources: list = []
    targets: list = []
    amounts: list[int] = []
    keys: list = []
    digests: list[str] = []
    names: dict[str, str] = {}  # str refs as JSON
    sha = hashlib.sha256
    for i, spec in enumerate(transfers):
        source, target, amount, *rest = spec
        minor = _minor(amount, i)
        if source == target:
            raise _at(SameAccount("a transfer needs two different accounts"), i)
        key = rest[0] if rest else None
        if key is not None and (not str(key).strip() or len(str(key)) > _KEY_SIZE):
            raise _at(ValidationError("idempotency_key", f"must be 1-{_KEY_SIZE} characters"), i)
        # the text json.dumps(fingerprint, sort_keys=True, ...) gives for Ledger.transfer
        src_json = names.get(source) if type(source) is str else None
        if src_json is None:
            src_json = _json(source)
            if type(source) is str:
                names[source] = src_json
        dst_json = names.get(target) if type(target) is str else None
        if dst_json is None:
            dst_json = _json(target)
            if type(target) is str:
                names[target] = dst_json
        whole, frac = divmod(minor, MINOR_PER_UNIT)
        text = (
            f'{{"amount": "{whole}.{frac:04d}", "description": null, "external_id": null, '
            f'"from": {src_json}, "kind": "transfer", "operator_id": null, "remark": null, '
            f'"source": "internal", "to": {dst_json}, "trade_no": null, "trade_time": null}}'
        )
        sources.append(source)
        targets.append(target)
        amounts.append(minor)
        keys.append(str(key) if key else None)
        digests.append(sha(text.encode()).hexdigest())
    return TransferBatch(sources, targets, amounts, keys, digests)


_KEY_SIZE = 180


def _json(ref: object) -> str:
    """``ref`` as ``json.dumps(..., default=str, ensure_ascii=False)`` writes it."""
    return _ENCODER.encode(ref)


_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)


def transfer_many(conn: Connection, batch: TransferBatch, tz: ZoneInfo) -> list[int]:
    """Write a planned transfer batch inside the caller's write transaction; returns each
    transfer's posting id (the earlier posting's id for a replay or an in-batch duplicate).

    Same rules as :func:`post_many` (idempotency, locking in id order, every check of
    ``posting._check`` in the same order, entries chained by balance-after), computed over
    columns of plain ints; rows go to PostgreSQL as pre-formatted ``COPY`` text and to
    SQLite through ``executemany``."""
    n = len(batch.amounts)
    if n == 0:
        return []
    pg = conn.dialect.name == "postgresql"
    cur = conn.connection.driver_connection.cursor()
    src, dst, amounts, keys, digests = (
        batch.sources,
        batch.targets,
        batch.amounts,
        batch.keys,
        batch.digests,
    )
    has_keys = any(k is not None for k in keys)
    refs = list(dict.fromkeys(chain.from_iterable(zip(src, dst, strict=True))))
    if pg:
        # lock first (in id order): a concurrent batch with the same keys on the same
        # accounts has committed once we hold the locks, so it is seen below as a replay
        with _driver_errors():
            locked, known = _lock_pg(
                conn.connection.driver_connection, refs, keys if has_keys else []
            )
    else:  # BEGIN IMMEDIATE already holds the database's write lock
        known = _known_sqlite(cur, keys) if has_keys else {}
        locked = _lock_all_sqlite(cur, refs)

    result: list[int | None] = [None] * n
    first: dict = {}
    if has_keys:
        result, todo, first = sort_keys(keys, digests, known)
        if len(todo) < n:
            needed = dict.fromkeys(chain.from_iterable((src[i], dst[i]) for i in todo))
        else:
            needed = refs
    else:
        todo = list(range(n))
        needed = refs
    for ref in needed:
        if ref not in locked:
            position = next(i for i in todo if ref in (src[i], dst[i]))
            raise AccountNotFound(ref, f"request {position}: account {ref} does not exist")
    if not todo:
        return result  # type: ignore[return-value]

    # every check, in order, before anything is written; balances in plain ints
    out_after: list[int] = []
    in_after: list[int] = []
    for i in todo:
        a = locked[src[i]]
        b = locked[dst[i]]
        if a is b or a.currency != b.currency or a.status != "open" or b.status != "open":
            _check_slow(i, a, b, amounts[i])
        minor = amounts[i]
        after = a.balance - minor
        if after < 0 and not a.allow_overdraft:
            raise _at(_overdraft(a, after), i)
        if after < -MAX_BALANCE_MINOR:
            raise _at(_overflow(a), i)
        a.balance = after
        out_after.append(after)
        after = b.balance + minor
        if after > MAX_BALANCE_MINOR:
            raise _at(_overflow(b), i)
        b.balance = after
        in_after.append(after)

    now = datetime.now(UTC)
    trade_nos = _trade_numbers(now, tz, len(todo))
    accounts_now = {acc.id: acc.balance for acc in locked.values()}
    if pg:
        with _driver_errors():
            posting_ids = _reserve_pg(conn.connection.driver_connection, len(todo), accounts_now)
            try:
                _write_pg(
                    cur, batch, todo, locked, out_after, in_after, trade_nos, posting_ids, now
                )
            except psycopg.errors.UniqueViolation as exc:
                if exc.diag.constraint_name == "uq_postings_idempotency_key":
                    raise KeyRace from exc  # a concurrent writer took one of our keys first
                raise
    else:
        posting_ids, entry_ids = _reserve_sqlite(cur, len(todo))
        _write_sqlite(
            cur, batch, todo, locked, out_after, in_after, trade_nos, posting_ids, entry_ids, now
        )
        cur.executemany(
            "UPDATE accounts SET balance = ? WHERE id = ?",
            [(bal, acc_id) for acc_id, bal in accounts_now.items()],
        )
    for i, pid in zip(todo, posting_ids, strict=True):
        result[i] = pid
    if len(todo) < n:  # duplicates inside the batch answer with the first's id
        for i, key in enumerate(keys):
            if result[i] is None:
                result[i] = result[first[key]]
    return result  # type: ignore[return-value]


@contextmanager
def _driver_errors() -> Iterator[None]:
    """Statements run on the driver: let ``run_write`` see (and retry) a transient conflict
    the way it sees one raised through SQLAlchemy."""
    try:
        yield
    except psycopg.Error as exc:
        if exc.sqlstate in _TRANSIENT:
            raise sa.exc.OperationalError(None, None, exc) from exc
        raise


_TRANSIENT = {"40001", "40P01", "55P03"}


def _check_slow(i: int, a: _Locked, b: _Locked, minor: int) -> None:
    """``posting._check`` for one transfer whose accounts are not both open, distinct and of
    one currency: the same error, in the same order."""
    legs = [Leg(a.id, -minor, "transfer_out"), Leg(b.id, minor, "transfer_in")]
    req = PostingRequest(kind="transfer", legs=legs)
    try:
        _check(req, {a.id: a, b.id: b})
    except LedgerError as exc:
        raise _at(exc, i) from None


def _overdraft(acc: _Locked, after: int) -> InsufficientFunds:
    return InsufficientFunds(
        f"account {acc.number} holds {format_amount(from_minor(acc.balance), 2)}; "
        f"this posting would take it to {format_amount(from_minor(after), 2)} "
        "and the account does not allow overdraft"
    )


def _overflow(acc: _Locked) -> ValidationError:
    return ValidationError("amount", f"account {acc.number}'s balance would overflow")


_U64 = 2**64
_TRADE_SPACE = 10**8
_UNBIASED = _U64 - _U64 % _TRADE_SPACE


def _trade_numbers(now: datetime, tz: ZoneInfo, count: int) -> list[str]:
    """``new_trade_no(now, tz)`` ``count`` times: the business date and eight random digits
    (from one ``os.urandom`` call, rejection-sampled so every number is equally likely)."""
    prefix = now.astimezone(tz).strftime("%Y%m%d")
    words = struct.unpack(f"<{count}Q", os.urandom(8 * count))
    return [
        f"{prefix}{(w if w < _UNBIASED else secrets.randbelow(_TRADE_SPACE)) % _TRADE_SPACE:08d}"
        for w in words
    ]


def _lock_pg(raw, refs: list, keys: list) -> tuple[dict, dict]:
    """Lock the accounts (``FOR UPDATE``, in id order), then look the keys up: two statements
    in one round trip (a pipeline, which also carries the transaction's ``BEGIN``). The lookup
    starts after the locks are held, so it sees every batch that held them before."""
    ids = [r for r in refs if isinstance(r, int)]
    numbers = [r for r in refs if not isinstance(r, int)]
    wanted = list(dict.fromkeys(k for k in keys if k is not None))
    with raw.pipeline():
        lock = raw.cursor()
        lock.execute(
            "SELECT id, number, name, currency, status, allow_overdraft, balance, shop_code "
            "FROM accounts WHERE id = ANY(%s::bigint[]) OR number = ANY(%s::text[]) "
            "ORDER BY id FOR UPDATE",
            (ids, numbers),
        )
        if wanted:
            lookup = raw.cursor()
            lookup.execute(
                "SELECT idempotency_key, id, request_hash FROM postings "
                "WHERE idempotency_key = ANY(%s::text[])",
                (wanted,),
            )
    found: dict = {}
    for row in lock.fetchall():
        acc = _Locked(*row)
        found[acc.id] = acc
        found[acc.number] = acc
    known = {key: (pid, digest) for key, pid, digest in lookup.fetchall()} if wanted else {}
    return found, known


def _lock_all_sqlite(cur, refs: list) -> dict:
    found: dict = {}
    columns = "id, number, name, currency, status, allow_overdraft, balance, shop_code"
    for start in range(0, len(refs), _CHUNK):
        chunk = refs[start : start + _CHUNK]
        ids = [r for r in chunk if isinstance(r, int)]
        numbers = [r for r in chunk if not isinstance(r, int)]
        query = (
            f"SELECT {columns} FROM accounts WHERE id IN ({', '.join('?' * len(ids))}) "  # noqa: S608
            f"OR number IN ({', '.join('?' * len(numbers))})"
        )
        for row in cur.execute(query, [*ids, *numbers]):
            acc = _Locked(*row)
            acc.allow_overdraft = bool(acc.allow_overdraft)
            found[acc.id] = acc
            found[acc.number] = acc
    return found


_CHUNK = 900


def _known_sqlite(cur, keys: list) -> dict:
    wanted = list(dict.fromkeys(k for k in keys if k is not None))
    found: dict = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = (
            "SELECT idempotency_key, id, request_hash FROM postings "  # noqa: S608
            f"WHERE idempotency_key IN ({', '.join('?' * len(chunk))})"
        )
        for key, pid, digest in cur.execute(query, chunk):
            found[key] = (pid, digest)
    return found


def _reserve_pg(raw, count: int, balances: dict[int, int]) -> list[int]:
    """Ids for ``count`` postings (ascending), and the accounts' new balances written, in one
    round trip. (Entries take their ids from the column default during ``COPY``, in row
    order: the accounts are locked, so no other writer can put an entry between ours and
    each account's entries keep the order their balances-after chain in.)"""
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


def _reserve_sqlite(cur, count: int) -> tuple[list[int], list[int]]:
    """The next ids after each AUTOINCREMENT high-water mark: safe, ``BEGIN IMMEDIATE``
    holds the write lock until commit (as ``batch.reserve_ids``)."""
    starts = []
    for table in ("postings", "entries"):
        seq = cur.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        top = cur.execute(f"SELECT max(id) FROM {table}").fetchone()[0]  # noqa: S608
        starts.append(max(seq[0] if seq else 0, top or 0) + 1)
    return list(range(starts[0], starts[0] + count)), list(range(starts[1], starts[1] + 2 * count))


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
#: transfers per chunk handed to COPY: the server inserts one chunk while the next is formatted
_COPY_CHUNK = 256


def _copy_text(value: object) -> str:
    """A value as a field of ``COPY … FROM STDIN`` text format."""
    return str(value).translate(_ESCAPES)


def _descriptions(cache: dict, minor: int) -> tuple[str, str]:
    """``transfer_description`` of both legs (cached per amount within a batch)."""
    found = cache.get(minor)
    if found is None:
        whole, frac = divmod(minor, MINOR_PER_UNIT)
        yuan = f"{whole}.{frac:04d}".rstrip("0") if frac else str(whole)
        found = cache[minor] = (
            f"{_DESCRIPTION_PREFIX}转出金额为{yuan}元",
            f"{_DESCRIPTION_PREFIX}转入金额为{yuan}元",
        )
    return found


_DESCRIPTION_PREFIX = "帐户系统转账到账户内建商户上,"


def _write_pg(cur, batch, todo, locked, out_after, in_after, trade_nos, posting_ids, now):
    """Postings, then entries (their foreign key needs the postings), as COPY text."""
    keys, digests, amounts = batch.keys, batch.digests, batch.amounts
    stamp = now.isoformat()
    null = "\\N"
    posting_tail = f"\t{null}\t{stamp}\n"
    lines = [
        f"{pid}\ttransfer\t{trade_no}\t"
        f"{null if keys[i] is None else _copy_text(keys[i])}\t{digests[i]}{posting_tail}"
        for i, pid, trade_no in zip(todo, posting_ids, trade_nos, strict=True)
    ]
    with cur.copy(f"COPY postings ({', '.join(_POSTING_COLUMNS)}) FROM STDIN") as copy:
        copy.write("".join(lines))

    src, dst = batch.sources, batch.targets
    numbers = {acc.id: _copy_text(acc.number) for acc in locked.values()}
    times = f"{stamp}\t{stamp}\t{null}\t{chart_ids.TRANSFER}"
    out_mid = f"\t{times}\t{chart_ids.TRANSFER_OUT}\t"
    in_mid = f"\t{times}\t{chart_ids.TRANSFER_IN}\t"
    tail = f"\t\tinternal\t{null}\t{null}\t{null}\n"
    cache: dict = {}
    with cur.copy(f"COPY entries ({', '.join(ENTRY_COLUMNS)}) FROM STDIN") as copy:
        lines = []
        for n, i in enumerate(todo):
            a = locked[src[i]].id
            b = locked[dst[i]].id
            minor = amounts[i]
            pid, trade_no = posting_ids[n], trade_nos[n]
            out_text, in_text = _descriptions(cache, minor)
            lines.append(
                f"{pid}\t{a}\ttransfer_out\t{-minor}\t{out_after[n]}\t{trade_no}"
                f"{out_mid}{numbers[b]}\t{out_text}{tail}"
                f"{pid}\t{b}\ttransfer_in\t{minor}\t{in_after[n]}\t"
                f"{trade_no}{in_mid}{numbers[a]}\t{in_text}{tail}"
            )
            if len(lines) == _COPY_CHUNK:
                copy.write("".join(lines))
                lines = []
        if lines:
            copy.write("".join(lines))


def _write_sqlite(
    cur, batch, todo, locked, out_after, in_after, trade_nos, posting_ids, entry_ids, now
):
    keys, digests, amounts, src, dst = (
        batch.keys,
        batch.digests,
        batch.amounts,
        batch.sources,
        batch.targets,
    )
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    cur.executemany(
        "INSERT INTO postings (id, kind, trade_no, idempotency_key, request_hash, created_at) "
        "VALUES (?, 'transfer', ?, ?, ?, ?)",
        [
            (pid, trade_no, keys[i], digests[i], stamp)
            for i, pid, trade_no in zip(todo, posting_ids, trade_nos, strict=True)
        ],
    )
    rows = []
    cache: dict = {}
    for n, i in enumerate(todo):
        a = locked[src[i]]
        b = locked[dst[i]]
        minor = amounts[i]
        pid, trade_no = posting_ids[n], trade_nos[n]
        out_text, in_text = _descriptions(cache, minor)
        rows.append(
            (entry_ids[2 * n], pid, a.id, "transfer_out", -minor, out_after[n], trade_no,
             stamp, stamp, chart_ids.TRANSFER_OUT, b.number, out_text)
        )  # fmt: skip
        rows.append(
            (entry_ids[2 * n + 1], pid, b.id, "transfer_in", minor, in_after[n], trade_no,
             stamp, stamp, chart_ids.TRANSFER_IN, a.number, in_text)
        )  # fmt: skip
    # the columns left out (operator_id, external_id, reverses_entry_id, platform_balance)
    # are NULL for a transfer
    cur.executemany(
        "INSERT INTO entries (id, posting_id, account_id, type, amount, balance_after, "  # noqa: S608
        "trade_no, trade_time, recorded_at, category_id, subject_id, counterparty, "
        "description, remark, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
        f"{chart_ids.TRANSFER}, ?, ?, ?, '', 'internal')",
        rows,
    )
