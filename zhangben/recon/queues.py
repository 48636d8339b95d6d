"""The exception queues (reconciliation.md §A.2.5), read as of an instant: which items need a
person, with a count, a total and ageing buckets each, and the rows behind every count (the
XLSX export writes exactly those rows). ``awaiting`` (等待中: inside its grace) is shown apart
and never counted as an exception.

Also here: the open items a run reads, page by page in (shop, key) order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core.errors import NotFound
from zhangben.exports.layout import Column
from zhangben.exports.xlsx import XlsxStream
from zhangben.recon.orders import ACTUAL_GRACE_DAYS
from zhangben.store.bills_tables import bill_rows, import_batches
from zhangben.store.recon_tables import bill_recon, expected_items, match_groups, match_lines
from zhangben.store.tables import accounts

BUCKETS = ((3, "0-3"), (7, "4-7"), (15, "8-15"), (30, "16-30"), (None, ">30"))

#: code, label, counted as an exception
QUEUES = (
    ("shipped_not_paid", "已发货未收款", True),
    ("refunded_not_out", "已退款未退出", True),
    ("paid_no_order", "到账无订单", True),
    ("amount_difference", "金额差异", True),
    ("duplicate", "疑似重复", True),
    ("unclassified", "未分类流水", True),
    ("cross_period", "跨期", True),
    ("balance_break", "余额断链", True),
    ("awaiting", "等待中", False),
)
LABELS = {code: label for code, label, _ in QUEUES}
BY_NAME = {**{code: code for code, _, _ in QUEUES}, **{label: code for code, label, _ in QUEUES}}


@dataclass(frozen=True, slots=True)
class QueueRow:
    subject: str  # expected | bill_row | group | import
    id: int
    shop: str
    key: str | None
    amount: int
    at: datetime  # from when it ages: the due date, the grace's end, the match, the import
    age_days: int
    text: str


@dataclass
class Queue:
    code: str
    label: str
    counted: bool
    count: int = 0
    total: int = 0
    ageing: dict[str, int] = field(default_factory=lambda: {b: 0 for _, b in BUCKETS})
    rows: list[QueueRow] = field(default_factory=list)


def queue_name(name: str) -> str:
    code = BY_NAME.get(name.strip())
    if code is None:
        names = ", ".join(f"{c} ({lbl})" for c, lbl, _ in QUEUES)
        raise NotFound(f"no queue {name!r}: one of {names}")
    return code


def bucket(days: int) -> str:
    for limit, name in BUCKETS:
        if limit is None or days <= limit:
            return name
    raise AssertionError("unreachable")


# -- the open items of a run -----------------------------------------------------------------


def page_end(conn, after, cut_b: int, cut_e: int, rows: int):
    """The (shop, key) that ends the next page after ``after``: the lower of each side's
    ``rows``-th open key (an index walk, no sort of what is left), or None when the rest fits.
    The page then holds whole groups and at most about 2 × ``rows`` items, however many
    items remain: each page costs the same, so a run stays linear in its items."""
    e, r = expected_items.c, bill_recon.c
    exp = sa.select(e.shop_code, e.order_no).where(
        e.state == "open", e.amount != e.applied, e.id <= cut_e
    )
    act = sa.select(r.shop_code, r.match_key).where(
        r.state == "open", r.scope == "order", r.match_key.is_not(None), r.bill_row_id <= cut_b
    )
    if after is not None:
        exp = exp.where(sa.tuple_(e.shop_code, e.order_no) > sa.tuple_(*after))
        act = act.where(sa.tuple_(r.shop_code, r.match_key) > sa.tuple_(*after))
    ends = [
        conn.execute(q.order_by(*q.selected_columns).limit(1).offset(rows - 1)).first()
        for q in (exp, act)
    ]
    ends = [tuple(x) for x in ends if x is not None]
    return min(ends) if ends else None


def open_items(conn, after, cut_b: int, cut_e: int, limit: int | None, *, only=None, upto=None):
    """Open remainders with a key, expected and actual, ordered by (shop, key), after the
    (shop, key) ``after`` (or exactly ``only``) and up to ``upto`` (inclusive). Each row's
    columns are the fields of :class:`~zhangben.recon.matching.Item`, in its order (a run
    makes an item of a row as it is)."""
    e, r, b = expected_items.c, bill_recon.c, bill_rows.c
    instant = _instant(conn)
    exp = sa.select(
        e.id, sa.literal("expected").label("side"), (e.amount - e.applied).label("amount"),
        instant(e.occurred_at).label("at"), e.kind, e.platform, e.shop_code.label("shop"),
        e.order_no.label("key"),
    ).where(e.state == "open", e.amount != e.applied, e.id <= cut_e)  # fmt: skip
    act = (
        sa.select(
            b.id,
            sa.literal("actual"),
            (b.income - b.expense - r.applied),
            instant(b.trade_time),
            sa.func.coalesce(b.business_type, ""),
            b.platform,
            r.shop_code,
            r.match_key,
        )  # fmt: skip
        .select_from(bill_recon.join(bill_rows, b.id == r.bill_row_id))
        .where(
            r.state == "open",
            r.scope == "order",
            r.match_key.is_not(None),
            b.income - b.expense != r.applied,
            b.id <= cut_b,
        )  # fmt: skip
    )
    if only is not None:
        exp = exp.where(e.shop_code == only[0], e.order_no == only[1])
        act = act.where(r.shop_code == only[0], r.match_key == only[1])
    elif after is not None:
        exp = exp.where(sa.tuple_(e.shop_code, e.order_no) > sa.tuple_(*after))
        act = act.where(sa.tuple_(r.shop_code, r.match_key) > sa.tuple_(*after))
    if upto is not None:
        exp = exp.where(sa.tuple_(e.shop_code, e.order_no) <= sa.tuple_(*upto))
        act = act.where(sa.tuple_(r.shop_code, r.match_key) <= sa.tuple_(*upto))
    u = sa.union_all(exp, act).subquery()
    query = sa.select(u).order_by(u.c.shop, u.c.key, u.c.side, u.c.id)
    if limit is not None:
        query = query.limit(limit)
    return conn.execute(query).all()


def _instant(conn):
    """An instant column as the run reads it: on PostgreSQL as psycopg returns it (aware, in
    the session's zone: compared and converted correctly as it is), not converted to UTC
    row by row; on SQLite through ``UTCDateTime`` (naive text in the file)."""
    if conn.dialect.name == "postgresql":
        return lambda column: sa.type_coerce(column, sa.DateTime(timezone=True))
    return lambda column: column


# -- the queues ------------------------------------------------------------------------------


def _expected(conn: Connection, now: datetime, which: str) -> Iterator[tuple]:
    e = expected_items.c
    remaining = e.amount - e.applied
    q = sa.select(e.id, e.shop_code, e.order_no, remaining, e.due_at, e.kind).where(
        e.state == "open", remaining != 0
    )
    if which == "awaiting":
        q = q.where(e.due_at >= now)
    else:
        q = q.where(
            e.due_at < now, (e.kind == "refund") if which == "out" else (e.kind != "refund")
        )
        q = q.where(sa.not_(_suggested("expected", e.id)))
    for r in conn.execute(q.order_by(e.due_at, e.id)):
        yield "expected", r.id, r.shop_code, r.order_no, r[3], r.due_at, r.kind


def _suggested(side: str, item_id) -> sa.ColumnElement:
    """The item is in a stored suggestion (it shows in 金额差异 instead)."""
    g, ln = match_groups.c, match_lines.c
    return sa.exists(
        sa.select(1)
        .select_from(match_lines.join(match_groups, g.id == ln.group_id))
        .where(ln.side == side, ln.item_id == item_id, g.state == "suggested")
    )


def _dupe_clause():
    """An open bill row another bill row shares its (shop, key, amount) with, or its key on
    another platform."""
    r, b = bill_recon.c, bill_rows.c
    r2, b2 = bill_recon.alias("r2"), bill_rows.alias("b2")
    return sa.exists(
        sa.select(1)
        .select_from(r2.join(b2, b2.c.id == r2.c.bill_row_id))
        .where(
            r2.c.shop_code == r.shop_code,
            r2.c.match_key == r.match_key,
            b2.c.id != b.id,
            sa.or_(b2.c.income - b2.c.expense == b.income - b.expense, b2.c.platform != b.platform),
        )  # fmt: skip
    )


def _bill(conn: Connection, now: datetime, which: str) -> Iterator[tuple]:
    r, b = bill_recon.c, bill_rows.c
    remaining = b.income - b.expense - r.applied
    grace = timedelta(days=ACTUAL_GRACE_DAYS)
    q = (
        sa.select(b.id, r.shop_code, r.match_key, remaining, b.trade_time, b.business_type)
        .select_from(bill_recon.join(bill_rows, b.id == r.bill_row_id))
        .where(r.state == "open", remaining != 0)
    )
    if which == "unclassified":
        q = q.where(r.scope == "other")
    else:
        q = q.where(r.scope == "order")
        if which == "awaiting":
            q = q.where(b.trade_time >= now - grace)
        elif which == "duplicate":
            q = q.where(_dupe_clause())
        else:  # orphans: past the grace, not a suspected duplicate nor in a suggestion
            q = q.where(b.trade_time < now - grace, sa.not_(_dupe_clause()))
            q = q.where(sa.not_(_suggested("actual", b.id)))
    shift = grace if which in ("paid_no_order", "awaiting") else timedelta(0)
    for row in conn.execute(q.order_by(b.trade_time, b.id)):
        yield ("bill_row", row.id, row.shop_code, row.match_key, row[3], row.trade_time + shift,
               row.business_type or "")  # fmt: skip


def _differences(conn: Connection) -> Iterator[tuple]:
    g = match_groups.c
    q = (
        sa.select(g.id, g.shop_code, g.match_key, g.difference, g.created_at, g.group_no)
        .where(g.state == "suggested", g.outcome == "with_difference")
        .order_by(g.id)
    )
    for r in conn.execute(q):
        yield "group", r.id, r.shop_code, r.match_key, r.difference, r.created_at, r.group_no


def _cross_period(conn: Connection, tz: tzinfo) -> Iterator[tuple]:
    """Matches whose lines lie in different months, or booked in a later month than their
    latest line (that month was closed: the match went to the next open one)."""
    g, ln = match_groups.c, match_lines.c
    e, b = expected_items.c, bill_rows.c
    at = sa.func.coalesce(e.occurred_at, b.trade_time)
    q = (
        sa.select(g.id, g.shop_code, g.match_key, g.actual_total, g.created_at, g.group_no,
                  g.period, sa.func.min(at).label("first"), sa.func.max(at).label("last"))
        .select_from(
            match_groups.join(match_lines, ln.group_id == g.id)
            .outerjoin(expected_items, sa.and_(ln.side == "expected", e.id == ln.item_id))
            .outerjoin(bill_rows, sa.and_(ln.side == "actual", b.id == ln.item_id))
        )
        .where(g.state == "active")
        .group_by(g.id, g.shop_code, g.match_key, g.actual_total, g.created_at, g.group_no,
                  g.period)
        .order_by(g.id)
    )  # fmt: skip
    from zhangben.store.types import UTCDateTime

    conv = UTCDateTime().process_result_value
    for r in conn.execute(q):
        first, last = conv(r.first, conn.dialect), conv(r.last, conn.dialect)
        if isinstance(first, str):  # SQLite's min() over text
            first, last = datetime.fromisoformat(first), datetime.fromisoformat(last)
            first, last = conv(first, conn.dialect), conv(last, conn.dialect)
        m1, m2 = first.astimezone(tz).strftime("%Y-%m"), last.astimezone(tz).strftime("%Y-%m")
        forward = r.period is not None and r.period != m2
        if m1 != m2 or forward:
            text = f"{r.group_no}: {m1} → {m2}" if m1 != m2 else f"{r.group_no}: {m1}"
            if forward:
                text += f", booked in {r.period} ({m2} closed)"
            yield ("group", r.id, r.shop_code, r.match_key, r.actual_total, r.created_at, text)


def _breaks(conn: Connection) -> Iterator[tuple]:
    t, a = import_batches.c, accounts.c
    q = (
        sa.select(t.id, a.shop_code, a.number, t.continuity_breaks, t.created_at, t.filename)
        .select_from(import_batches.join(accounts, a.id == t.account_id))
        .where(t.continuity_breaks > 0)
        .order_by(t.id)
    )
    for r in conn.execute(q):
        yield ("import", r.id, r.shop_code or "", None, 0, r.created_at,
               f"{r.number} {r.filename}: {r.continuity_breaks} break(s)")  # fmt: skip


def _rows(conn: Connection, code: str, now: datetime, tz: tzinfo) -> Iterator[tuple]:
    if code == "shipped_not_paid":
        return _expected(conn, now, "in")
    if code == "refunded_not_out":
        return _expected(conn, now, "out")
    if code in ("paid_no_order", "duplicate", "unclassified"):
        return _bill(conn, now, code)
    if code == "amount_difference":
        return _differences(conn)
    if code == "cross_period":
        return _cross_period(conn, tz)
    if code == "balance_break":
        return _breaks(conn)

    def awaiting():
        yield from _expected(conn, now, "awaiting")
        yield from _bill(conn, now, "awaiting")

    return awaiting()


def _fill(conn, code: str, now: datetime, tz, keep: int | None) -> Queue:
    label, counted = LABELS[code], dict((c, k) for c, _, k in QUEUES)[code]
    queue = Queue(code, label, counted)
    for subject, id_, shop, key, amount, at, text in _rows(conn, code, now, tz):
        days = max(0, (now - at).days)
        queue.count += 1
        queue.total += amount
        queue.ageing[bucket(days)] += 1
        if keep is None or len(queue.rows) < keep:
            queue.rows.append(QueueRow(subject, id_, shop or "", key, amount, at, days, text))
    return queue


def summaries(conn: Connection, now: datetime, tz: tzinfo) -> list[Queue]:
    return [_fill(conn, code, now, tz, 0) for code, _, _ in QUEUES]


def detail(conn: Connection, name: str, now: datetime, tz: tzinfo, *, limit=None) -> Queue:
    return _fill(conn, queue_name(name), now, tz, limit)


COLUMNS = (
    Column("subject", "对象", "text", 10),
    Column("id", "ID", "integer", 10),
    Column("shop", "店铺", "text", 10),
    Column("key", "订单号", "text", 24),
    Column("amount", "金额", "money", 14),
    Column("at", "起算时间", "datetime", 20),
    Column("age_days", "账龄(天)", "integer", 10),
    Column("text", "说明", "text", 30),
    Column("gap_type", "差异类型", "text", 14),
    Column("match_amount", "核销金额", "money", 14),
    Column("memo", "备注", "text", 30),
    Column("action", "动作", "text", 12),
)


def write_xlsx(queue: Queue, path: str | Path, tz: tzinfo) -> Path:
    """The queue's rows as one sheet, the ``动作`` column and the cells an action reads
    (差异类型, 核销金额, 备注) empty, to fill in and upload (:mod:`.actions`)."""
    stream = XlsxStream(COLUMNS, tz, sheet_name=queue.label)
    out = Path(path)
    with out.open("wb") as f:
        f.write(
            stream.add(
                (
                    r.subject,
                    r.id,
                    r.shop,
                    r.key or "",
                    r.amount,
                    r.at,
                    r.age_days,
                    r.text,
                    "",
                    None,
                    "",
                    "",
                )
                for r in queue.rows
            )
        )
        f.write(stream.close())
    return out
