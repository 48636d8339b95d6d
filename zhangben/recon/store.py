"""Reconciliation's reads and writes over a connection: the service calls these inside its
one transaction per method. Nothing here opens a transaction.

Writers take the advisory lock :data:`LOCK` first (PostgreSQL; SQLite's write transaction
already runs alone), then lock the items they apply (``SELECT … FOR UPDATE``) and check
``|applied| ≤ |amount|`` on what they read under that lock: two people matching the same line
at once are served one after the other, and the second is refused."""

from __future__ import annotations

import concurrent.futures
import functools
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.errors import NotFound, OverApplied, ReconState
from zhangben.recon.keys import COLUMN_PLATFORMS, INTERNAL_TYPES, MAX_KEY, extract_key
from zhangben.store import bulk, recon_chain
from zhangben.store.bills_tables import bill_rows
from zhangben.store.engine import serialize
from zhangben.store.recon_tables import (
    bill_recon,
    expected_items,
    match_groups,
    match_lines,
)
from zhangben.store.tables import accounts

LOCK = "zb:recon"
E, A = "expected", "actual"


def lock(conn: Connection) -> None:
    serialize(conn, LOCK)


def next_id(conn: Connection, table: sa.Table) -> int:
    """The next id of ``table`` (under :data:`LOCK`: its only writers hold it)."""
    return (conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar()) + 1


def sync_ids(conn: Connection, table: sa.Table) -> None:
    """After inserting explicit ids on PostgreSQL: the sequence past them."""
    if conn.dialect.name == "postgresql":
        top = conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 1
        conn.execute(
            sa.select(sa.func.setval(sa.func.pg_get_serial_sequence(table.name, "id"), top))
        )


def analyze(conn: Connection, *tables: sa.Table) -> None:
    """PostgreSQL: fresh planner statistics for ``tables`` (a sample, bounded whatever their
    size): a run's pages read hundreds of thousands of rows just keyed or imported, which
    autovacuum may not have counted yet."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE " + ", ".join(t.name for t in tables))


# -- keys on bill rows -----------------------------------------------------------------------


KEY_COLUMNS = ("bill_row_id", "shop_code", "match_key", "key_source", "scope", "updated_at")


def _key_row(row, now: datetime) -> tuple:
    raw = row.raw or {}
    amount = (row.income or 0) - (row.expense or 0)
    facts = {
        "business_type": row.business_type,
        "merchant_order_no": row.order_no,
        "base_order_no": raw.get("业务基础订单号"),
        "flow_no": row.flow_no,
        "counterparty": row.counterparty,
        "remark": row.remark,
        "amount": amount,
    }
    k = extract_key(row.platform, facts)
    return (row.id, row.shop_code or "", k.key, k.source or "none", k.scope, now)


def _unkeyed(ids: Iterable[int] | None = None, *, after: int = 0, upto: int | None = None):
    b = bill_rows.c
    query = (
        sa.select(
            b.id,
            b.platform,
            b.business_type,
            b.order_no,
            b.flow_no,
            b.counterparty,
            b.remark,
            b.income,
            b.expense,
            b.raw,
            accounts.c.shop_code,
        )  # fmt: skip
        .select_from(
            bill_rows.join(accounts, accounts.c.id == b.account_id).outerjoin(
                bill_recon, bill_recon.c.bill_row_id == b.id
            )
        )
        .where(bill_recon.c.bill_row_id.is_(None))
        .order_by(b.id)
    )
    if ids is not None:
        return query.where(b.id.in_(list(ids)))
    query = query.where(b.id > after)
    return query.where(b.id <= upto) if upto is not None else query


def _plain_column_key(conn: Connection) -> sa.ColumnElement:
    """The bill row's order column is its key as it stands: what :func:`~.keys.normalise`
    returns unchanged (printable ASCII without spaces, upper case, at most :data:`MAX_KEY`,
    no quote or ``=`` at either end, no ``T…P`` prefix: anything starting with ``T`` is left
    to Python)."""
    o = bill_rows.c.order_no
    if conn.dialect.name == "postgresql":  # (a bounded ^[!-~]{1,64}$ took 9× as long)
        no_other = o.op("!~")("[^!-~]")
    else:
        no_other = o.op("NOT GLOB")("*[^!-~]*")
    printable = sa.and_(no_other, sa.func.length(o).between(1, MAX_KEY))
    ends = [o.not_like(f"{c}%") for c in ("'", '"', "=", "T")]
    ends += [o.not_like(f"%{c}") for c in ("'", '"', "=")]
    return sa.and_(o.is_not(None), printable, o == sa.func.upper(o), *ends)


def key_column_rows(conn: Connection, *, upto: int, now: datetime) -> int:
    """Key in one ``INSERT … SELECT`` the common case, where :func:`~.keys.extract_key` takes
    the order column as it stands: a platform keyed by its order column (not Alipay), a
    business type that is no internal transfer (any type naming 提现 or 充值 is left to
    Python), an order number :func:`_plain_column_key`. The same rows as :func:`_key_row`
    would write; how many.

    On PostgreSQL the statement reads the table it writes (the rows without a key): in a
    nested loop each bill row would scan every page inserted so far (quadratic: 20,000 rows
    took 9.6 s), so nested loops are off for it."""
    b, r = bill_rows.c, bill_recon.c
    btype = sa.func.coalesce(b.business_type, "")
    assert all("提现" in t or "充值" in t for t in INTERNAL_TYPES)  # noqa: S101 (a guard)
    source = sa.case({p: f"column:{c}" for p, c in COLUMN_PLATFORMS.items()}, value=b.platform)
    query = (
        sa.select(
            b.id,
            sa.func.coalesce(accounts.c.shop_code, ""),
            b.order_no,
            source,
            sa.literal("order"),
            sa.literal(now, bill_recon.c.updated_at.type),
        )  # fmt: skip
        .select_from(
            bill_rows.join(accounts, accounts.c.id == b.account_id).outerjoin(
                bill_recon, r.bill_row_id == b.id
            )
        )
        .where(
            r.bill_row_id.is_(None),
            b.id <= upto,
            b.platform.in_(sorted(COLUMN_PLATFORMS)),
            btype.not_like("%提现%"),
            btype.not_like("%充值%"),
            _plain_column_key(conn),
        )
    )
    count = sa.select(sa.func.count()).select_from(bill_recon)
    before = conn.execute(count).scalar_one()
    pg = conn.dialect.name == "postgresql"
    if pg:  # the anti-join as a hash, never a nested loop: see the docstring
        conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
    conn.execute(bill_recon.insert().from_select(list(KEY_COLUMNS), query))
    if pg:  # (on an error the transaction rolls back, and the setting with it)
        conn.exec_driver_sql("RESET enable_nestloop")
    return conn.execute(count).scalar_one() - before  # psycopg's rowcount here is -1


def key_rows(conn: Connection, *, upto: int, now: datetime, page: int = 5000) -> int:
    """Give every bill row up to id ``upto`` without one its key and scope; how many. The
    plain order-column case in SQL (:func:`key_column_rows`), the rest through
    :func:`~.keys.extract_key`."""
    done, after = key_column_rows(conn, upto=upto, now=now), 0
    while True:
        rows = conn.execute(_unkeyed(after=after, upto=upto).limit(page)).all()
        if not rows:
            return done
        bulk.insert(conn, bill_recon, KEY_COLUMNS, [_key_row(r, now) for r in rows])
        done += len(rows)
        after = rows[-1].id


def ensure_keyed(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    rows = conn.execute(_unkeyed(ids)).all()
    bulk.insert(conn, bill_recon, KEY_COLUMNS, [_key_row(r, now) for r in rows])


# -- items under lock ------------------------------------------------------------------------


def locked_items(
    conn: Connection, side: str, ids: Sequence[int], *, lock: bool = True
) -> dict[int, sa.Row]:
    """The items' amount, applied and state, locked for this transaction (``lock``)."""
    if side == E:
        t = expected_items.c
        query = sa.select(
            t.id, t.amount, t.applied, t.state, t.shop_code.label("shop"),
            t.order_no.label("key"), t.occurred_at.label("at"), t.kind, t.platform,
        ).where(t.id.in_(ids))  # fmt: skip
    else:
        r, b = bill_recon.c, bill_rows.c
        query = (
            sa.select(
                b.id,
                (b.income - b.expense).label("amount"),
                r.applied,
                r.state,
                r.shop_code.label("shop"),
                r.match_key.label("key"),
                b.trade_time.label("at"),
                sa.func.coalesce(b.business_type, "").label("kind"),
                b.platform,
            )  # fmt: skip
            .select_from(bill_recon.join(bill_rows, b.id == r.bill_row_id))
            .where(b.id.in_(ids))
        )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(of=expected_items if side == E else bill_recon)
    found = {row.id: row for row in conn.execute(query.order_by(sa.text("1")))}
    missing = sorted(set(ids) - set(found))
    if missing:
        what = "expected line" if side == E else "bill row"
        raise NotFound(f"{what} {missing[0]} does not exist")
    return found


def check_apply(side: str, row, amount: int) -> None:
    """``amount`` (signed) may be applied to the item ``row`` now, or the error why not."""
    what = f"{'expected line' if side == E else 'bill row'} {row.id}"
    if row.state != "open":
        raise ReconState(f"{what} is {row.state}")
    remaining = row.amount - row.applied
    if remaining == 0:
        raise OverApplied(f"{what} is applied in full already (amount {_yuan(row.amount)})")
    if amount == 0:
        raise OverApplied(f"{what}: nothing to apply")
    if (amount > 0) != (remaining > 0) or abs(amount) > abs(remaining):
        raise OverApplied(
            f"{what}: applying {_yuan(amount)} would exceed its open amount {_yuan(remaining)}"
            f" (amount {_yuan(row.amount)}, applied {_yuan(row.applied)})"
        )


def _yuan(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10_000)
    text = f"{frac:04d}".rstrip("0")
    return f"{sign}{whole}.{text.ljust(2, '0')}"


def apply(conn: Connection, side: str, amounts: Iterable[tuple[int, int]], sign: int = 1) -> None:
    """Add (``sign`` 1) or release (-1) applied amounts: ``(item id, amount)``."""
    pairs = ((i, sign * a) for i, a in amounts)
    if side == E:
        bulk.add(conn, expected_items, "id", "applied", pairs)
    else:
        bulk.add(conn, bill_recon, "bill_row_id", "applied", pairs)


# -- groups ----------------------------------------------------------------------------------


def insert_groups(conn: Connection, groups: list[dict], lines: list[dict]) -> None:
    """Groups and their lines (dicts of column values; the lines without ids)."""
    if groups:
        names = list(groups[0])
        bulk.insert(conn, match_groups, names, [tuple(g[n] for n in names) for g in groups])
    if lines:
        names = list(lines[0])
        bulk.insert(conn, match_lines, names, [tuple(ln[n] for n in names) for ln in lines])


def group_no(gid: int, at: datetime) -> str:
    return f"{group_day(at)}-{gid}"


@functools.lru_cache(maxsize=64)
def group_day(at: datetime) -> str:
    return f"HX{at:%Y%m%d}"  # a run names all its groups at one instant: formatted once


#: A group's columns, in the order of the tuples a run writes (:class:`Pipeline`).
GROUP_COLUMNS = (
    "id", "group_no", "shop_code", "match_key", "origin", "outcome", "expected_total",
    "actual_total", "difference", "gap_type_code", "rule_id", "memo", "run_id", "state",
    "created_by", "created_at", "undone_event_id", "period",
)  # fmt: skip
LINE_COLUMNS = ("group_id", "side", "item_id", "amount_applied")


#: The GIL's switch interval while a run's thread works (Python's default is 5 ms).
SWITCH_INTERVAL_S = 0.0005


class Pipeline:
    """A run's database work in a thread of its own, one page behind the matching: while the
    run matches page N, the thread writes page N-1's groups, lines, applied amounts and
    events, then reads page N+1: PostgreSQL's server works while Python matches. On SQLite
    the same steps run in the caller's thread: the database works in this process, and
    ``sqlite3`` gives up and retakes the GIL at every row it steps, so that a thread waiting
    for the GIL behind the matcher (up to ``sys.getswitchinterval()`` each time) made the
    run half again as slow.

    The connection is the run's, used by one thread at a time: the run touches it again only
    after :meth:`result`, and the ``with`` block waits for the thread (also on an error,
    before the transaction rolls back). Events are numbered and hashed in page order here
    (:class:`recon_chain.Tail`), in the caller's thread."""

    def __init__(self, conn: Connection, at: datetime, read: Callable[[object], tuple]):
        self._conn, self._read = conn, read
        self._tail = recon_chain.Tail(conn, at)
        self._pool, self._interval = None, None
        if conn.dialect.name == "postgresql":
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="zb-recon-run")
            # the thread takes the GIL back after every wait for the server (a query, a
            # COPY buffer flushed): behind the matcher each time by the switch interval
            self._interval = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._pending: Future | None = None
        self._after = None

    def start(self, page: tuple | None, *, read: bool = True) -> None:
        """Write ``page`` (groups in :data:`GROUP_COLUMNS` order, lines in
        :data:`LINE_COLUMNS` order, the lines of its active groups, whose amounts are added
        to their items, and events as :meth:`recon_chain.Tail.rows` takes them), then read
        the next page (``read``); in the thread."""
        if page is not None:
            groups, lines, applied, events = page
            page = groups, lines, applied, self._tail.rows(events)
        if self._pool is None:
            self._pending = Future()
            try:
                self._pending.set_result(self._step(page, read))
            except Exception as exc:  # (raised by result(), as from the thread)
                self._pending.set_exception(exc)
            return
        self._pending = self._pool.submit(self._step, page, read)

    def result(self):
        """The page the thread read (its error raised here)."""
        pending, self._pending = self._pending, None
        return pending.result()

    def _step(self, page, read: bool):
        if page is not None:
            conn = self._conn
            groups, lines, applied, events = page
            bulk.insert(conn, match_groups, GROUP_COLUMNS, groups)
            bulk.insert(conn, match_lines, LINE_COLUMNS, lines)
            apply(conn, E, ((i, a) for _, side, i, a in applied if side == E))
            apply(conn, A, ((i, a) for _, side, i, a in applied if side == A))
            recon_chain.store(conn, events)
        if not read:
            return None
        groups, self._after = self._read(self._after)
        return groups

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self._pending is not None:
                concurrent.futures.wait([self._pending])  # an error of its own: the first wins
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                sys.setswitchinterval(self._interval)


def append_events(conn: Connection, events: list[dict], now: datetime) -> list[int]:
    return recon_chain.append(conn, events, at=now)
