"""Periods and the month close (月结): months per shop, or of the whole ledger, in the business
time zone, open → closed → reopened (with a reason), every close and reopen logged.

What a close means (invariant I10, rule R13): a *scope* is one shop (the accounts with that
shop code) or the whole ledger (every account). Its closed months run unbroken up to its
latest closed month, and the scope is **closed through** that month's end: the database's
period guard (a trigger on ``entries``) refuses any entry of one of its accounts dated before
it, whoever writes it. That is what keeps a closed month's stored figures true: an entry dated
into it, or before it, would change its opening or its flows.

* A month can be closed once it has ended. The first close of a scope may be any month (the
  months before it close with it, having no figures of their own); after that, only the month
  right after the latest closed one (the previous month must be closed first).
* A close takes the periods' lock, then (PostgreSQL) ``LOCK TABLE entries IN SHARE MODE``:
  it waits for every writer in flight, keeps new ones waiting until it commits, and they then
  see the closed period. On SQLite the write transaction itself runs alone.
* A close stores the month's figures per account (opening, income, expense, closing and
  counts) and the findings it acknowledged, as canonical JSON (:func:`canonical`), and the
  SHA-256 of those bytes. :func:`verify` recomputes both.
* Only the latest closed period of a scope can be reopened, with a reason; the event keeps the
  hash of the snapshot it reopened.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.core import errors
from zhangben.core.money import format_amount, from_minor
from zhangben.core.texts import text_problem
from zhangben.store.engine import serialize
from zhangben.store.period_tables import period_events, periods
from zhangben.store.tables import accounts, entries
from zhangben.store.writers import period_guard

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
#: the snapshot's layout; a new layout gets a new number (verify reads every one)
SNAPSHOT_FORMAT = 1
MAX_REASON = 2000
MAX_ACTOR = 128
MAX_PROBLEMS = 100


# -- months and scopes -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: object) -> Month:
        found = _MONTH.match(text) if isinstance(text, str) else None
        if found is None or not 1970 <= int(found.group(1)) <= 9998:
            raise errors.ValidationError("month", f"{text!r} is not a month like 2026-10")
        return cls(int(found.group(1)), int(found.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def start(self, tz: ZoneInfo) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=tz)

    def end(self, tz: ZoneInfo) -> datetime:
        return self.next.start(tz)


def check_shop(shop: str | None) -> str:
    """The scope's key: a shop code, or ``''`` for the whole ledger."""
    if shop is None:
        return ""
    problem = text_problem(shop, 64) or ("is blank" if not shop.strip() else None)
    if problem:
        raise errors.ValidationError("shop", problem)
    return shop


def scope_name(shop: str) -> str:
    return f"shop {shop}" if shop else "the ledger"


def label(month: Month | str, shop: str) -> str:
    return f"period {month} of {scope_name(shop)}"


# -- records -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a close check found: ``check`` is ``missing_import_days``, ``continuity`` or
    ``verify``; ``account`` the account number it concerns, if one."""

    check: str
    account: str | None
    text: str

    def as_dict(self) -> dict:
        return {"check": self.check, "account": self.account, "text": self.text}


@dataclass(frozen=True, slots=True)
class AccountFigures:
    """One account's month; money in minor units. ``closing = opening + income - expense``;
    income is every entry into the account, expense every entry out of it."""

    number: str
    name: str
    type: str
    currency: str
    shop_code: str | None
    opening: int
    income: int
    expense: int
    entries: int
    income_entries: int
    expense_entries: int

    @property
    def closing(self) -> int:
        return self.opening + self.income - self.expense

    def as_dict(self) -> dict:
        return {
            "account": self.number,
            "name": self.name,
            "type": self.type,
            "currency": self.currency,
            "shop": self.shop_code,
            "opening": _money(self.opening),
            "income": _money(self.income),
            "expense": _money(self.expense),
            "closing": _money(self.closing),
            "entries": self.entries,
            "income_entries": self.income_entries,
            "expense_entries": self.expense_entries,
        }


@dataclass(frozen=True, slots=True)
class PeriodEvent:
    action: str  # close | reopen
    at: datetime
    actor: str
    reason: str | None
    snapshot_sha256: str


@dataclass(frozen=True, slots=True)
class Period:
    """A month of a scope. ``status``: ``open`` (never closed, or before no close),
    ``closed``, or ``reopened``; a month before a scope's first close is ``closed`` with no
    figures of its own (``snapshot`` None)."""

    month: str
    shop: str | None
    status: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    closed_at: datetime | None = None
    closed_by: str | None = None
    forced: bool = False
    snapshot_sha256: str | None = None
    snapshot: dict | None = None
    snapshot_text: str | None = None
    events: tuple[PeriodEvent, ...] = ()

    @property
    def figures(self) -> list[dict]:
        return list(self.snapshot["accounts"]) if self.snapshot else []

    @property
    def acknowledged(self) -> list[dict]:
        return list(self.snapshot["acknowledged"]) if self.snapshot else []


@dataclass
class PeriodsReport:
    periods_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# -- the month's figures -----------------------------------------------------------------------


def figures(conn: Connection, start: datetime, end: datetime, shop: str) -> list[AccountFigures]:
    """Every account of the scope with an entry dated before ``end``: its opening (the sum of
    its entries dated before ``start``), income, expense and counts of ``[start, end)``. One
    set-based query (the month report of the reports module computes the same figures)."""
    e, a = entries, accounts
    amount = e.c.amount
    inside = e.c.trade_time >= start
    into, out = sa.and_(inside, amount > 0), sa.and_(inside, amount < 0)

    def total(cond, value):
        return sa.func.coalesce(sa.func.sum(sa.case((cond, value), else_=0)), 0)

    def count(cond):
        return sa.func.count(sa.case((cond, 1)))

    query = (
        sa.select(
            a.c.number,
            a.c.name,
            a.c.type,
            a.c.currency,
            a.c.shop_code,
            total(sa.not_(inside), amount),
            total(into, amount),
            total(out, -amount),
            count(inside),
            count(into),
            count(out),
        )  # fmt: skip
        .select_from(e.join(a, a.c.id == e.c.account_id))
        .where(e.c.trade_time < end)
        .group_by(a.c.id, a.c.number, a.c.name, a.c.type, a.c.currency, a.c.shop_code)
    )
    if shop:
        query = query.where(a.c.shop_code == shop)
    found = [
        AccountFigures(*row[:5], *(int(v) for v in row[5:8]), *row[8:])
        for row in conn.execute(query)
    ]
    return sorted(found, key=lambda f: f.number)  # one order on both databases


def snapshot(
    month: Month, shop: str, tz: ZoneInfo, start: datetime, end: datetime,
    figs: list[AccountFigures], acknowledged: list[Finding],
) -> dict:  # fmt: skip
    """What a close stores: the month's figures per account and per currency, and the findings
    the close acknowledged."""
    totals: dict[str, list[int]] = {}
    for f in figs:
        t = totals.setdefault(f.currency, [0, 0, 0, 0])
        t[0] += f.opening
        t[1] += f.income
        t[2] += f.expense
        t[3] += f.entries
    return {
        "format": SNAPSHOT_FORMAT,
        "period": str(month),
        "shop": shop or None,
        "time_zone": tz.key,
        "starts_at": _iso(start),
        "ends_at": _iso(end),
        "accounts": [f.as_dict() for f in figs],
        "totals": [
            {
                "currency": c,
                "opening": _money(o),
                "income": _money(i),
                "expense": _money(x),
                "closing": _money(o + i - x),
                "entries": n,
            }
            for c, (o, i, x, n) in sorted(totals.items())
        ],  # fmt: skip
        "acknowledged": [f.as_dict() for f in acknowledged],
    }


def canonical(snap: dict) -> str:
    """The one serialization that is hashed and stored: JSON with sorted keys, no spaces,
    UTF-8 text as is; money as decimal strings with four places."""
    return json.dumps(snap, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- state -------------------------------------------------------------------------------------


def _scope_rows(conn: Connection, shop: str) -> dict[str, sa.Row]:
    rows = conn.execute(sa.select(periods).where(periods.c.shop_code == shop)).all()
    return {r.month: r for r in rows}


def _latest_closed(rows: dict[str, sa.Row]) -> str | None:
    return max((m for m, r in rows.items() if r.status == "closed"), default=None)


def check_closable(
    conn: Connection, month: Month, shop: str, tz: ZoneInfo, now: datetime
) -> dict[str, sa.Row]:
    """Refuse (:class:`PeriodState`) a close the state does not allow; the scope's rows."""
    if (
        shop
        and conn.execute(
            sa.select(accounts.c.id).where(accounts.c.shop_code == shop).limit(1)
        ).first()
        is None
    ):
        raise errors.ValidationError("shop", f"no account has shop code {shop!r}")
    end = month.end(tz)
    if end > now:
        raise errors.PeriodState(
            f"{label(month, shop)} has not ended: it can be closed from "
            f"{end:%Y-%m-%d %H:%M} ({tz.key})"
        )
    rows = _scope_rows(conn, shop)
    latest = _latest_closed(rows)
    if latest is not None and str(month) <= latest:
        raise errors.PeriodState(
            f"{label(month, shop)} is closed already ({scope_name(shop)} is closed through "
            f"{latest})"
        )
    if latest is not None and str(month) != str(Month.parse(latest).next):
        following = Month.parse(latest).next
        raise errors.PeriodState(
            f"{label(month, shop)} cannot be closed before {following}: {scope_name(shop)} "
            f"is closed through {latest}, and months close in order"
        )
    return rows


def close(
    conn: Connection,
    month: Month,
    shop: str,
    tz: ZoneInfo,
    *,
    actor: str,
    findings: list[Finding],
    force: bool,
    now: datetime,
) -> Period:
    """Close ``month`` of the scope in the caller's write transaction (see the module doc)."""
    serialize(conn, "zb_periods")
    rows = check_closable(conn, month, shop, tz, now)
    if findings and not force:
        listed = "; ".join(f.text for f in findings[:20])
        more = f"; … and {len(findings) - 20} more" if len(findings) > 20 else ""
        raise errors.PeriodNotReady(
            f"{label(month, shop)} cannot be closed: {len(findings)} check(s) failed: "
            f"{listed}{more}. Resolve them, or close with force to acknowledge them",
            list(findings),
        )
    if conn.dialect.name == "postgresql":
        # wait for every writer in flight; new ones wait for this commit, then see the close
        conn.exec_driver_sql("LOCK TABLE entries IN SHARE MODE")
    start, end = month.start(tz), month.end(tz)
    snap = snapshot(month, shop, tz, start, end, figures(conn, start, end, shop), findings)
    text = canonical(snap)
    digest = sha256(text)
    values = dict(
        time_zone=tz.key, starts_at=start, ends_at=end, status="closed", snapshot=text,
        snapshot_sha256=digest, forced=bool(findings), closed_at=now, closed_by=actor,
    )  # fmt: skip
    row = rows.get(str(month))
    if row is None:
        period_id = conn.execute(
            periods.insert().values(shop_code=shop, month=str(month), **values)
            .returning(periods.c.id)
        ).scalar_one()  # fmt: skip
    else:
        period_id = row.id
        conn.execute(periods.update().where(periods.c.id == period_id).values(**values))
    conn.execute(
        period_events.insert().values(
            period_id=period_id, action="close", at=now, actor=actor, snapshot_sha256=digest
        )
    )
    period_guard.refresh(conn)
    return get(conn, month, shop, tz)


def reopen(
    conn: Connection, month: Month, shop: str, tz: ZoneInfo, *, actor: str, reason: str,
    now: datetime,
) -> Period:  # fmt: skip
    """Reopen the latest closed period of the scope, with a reason."""
    serialize(conn, "zb_periods")
    rows = _scope_rows(conn, shop)
    latest = _latest_closed(rows)
    row = rows.get(str(month))
    if latest is not None and str(month) < latest:
        raise errors.PeriodState(
            f"only the latest closed period of {scope_name(shop)}, {latest}, can be reopened "
            f"(reopen the months after {month} first)"
        )
    if row is None or row.status != "closed":
        raise errors.PeriodState(f"{label(month, shop)} is not closed")
    conn.execute(periods.update().where(periods.c.id == row.id).values(status="reopened"))
    period_guard.refresh(conn)
    conn.execute(
        period_events.insert().values(
            period_id=row.id,
            action="reopen",
            at=now,
            actor=actor,
            reason=reason,
            snapshot_sha256=row.snapshot_sha256,
        )  # fmt: skip
    )
    return get(conn, month, shop, tz)


def check_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise errors.ValidationError("reason", "is required: say why the period is reopened")
    problem = text_problem(text, MAX_REASON)
    if problem:
        raise errors.ValidationError("reason", problem)
    return text


def check_actor(actor: str) -> str:
    problem = text_problem(actor, MAX_ACTOR) or ("is blank" if not actor.strip() else None)
    if problem:
        raise errors.ValidationError("actor", problem)
    return actor


# -- reading -----------------------------------------------------------------------------------


def _events(conn: Connection, ids: list[int]) -> dict[int, list[PeriodEvent]]:
    found: dict[int, list[PeriodEvent]] = {}
    if not ids:
        return found
    e = period_events
    query = sa.select(e).where(e.c.period_id.in_(ids)).order_by(e.c.id)
    for r in conn.execute(query):
        found.setdefault(r.period_id, []).append(
            PeriodEvent(r.action, r.at, r.actor, r.reason, r.snapshot_sha256)
        )
    return found


def _record(row: sa.Row, events: list[PeriodEvent]) -> Period:
    return Period(
        month=row.month,
        shop=row.shop_code or None,
        status=row.status,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        time_zone=row.time_zone,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        forced=row.forced,
        snapshot_sha256=row.snapshot_sha256,
        snapshot=json.loads(row.snapshot),
        snapshot_text=row.snapshot,
        events=tuple(events),
    )


def list_periods(conn: Connection, shop: str | None = None) -> list[Period]:
    """Every period ever closed (closed or reopened), by scope then month."""
    query = sa.select(periods).order_by(periods.c.shop_code, periods.c.month)
    if shop is not None:
        query = query.where(periods.c.shop_code == shop)
    rows = conn.execute(query).all()
    events = _events(conn, [r.id for r in rows])
    return [_record(r, events.get(r.id, [])) for r in rows]


def get(conn: Connection, month: Month, shop: str, tz: ZoneInfo) -> Period:
    """One month of a scope, whatever its state."""
    rows = _scope_rows(conn, shop)
    row = rows.get(str(month))
    if row is not None:
        return _record(row, _events(conn, [row.id]).get(row.id, []))
    closed = sorted(m for m, r in rows.items() if r.status == "closed")
    status = "closed" if closed and str(month) < closed[0] else "open"
    start, end = month.start(tz), month.end(tz)
    return Period(str(month), shop or None, status, start, end, tz.key)


def closed_through(conn: Connection) -> dict[str | None, str]:
    """Each scope's latest closed month (``None``: the whole ledger)."""
    query = (
        sa.select(periods.c.shop_code, sa.func.max(periods.c.month))
        .where(periods.c.status == "closed")
        .group_by(periods.c.shop_code)
    )
    return {shop or None: month for shop, month in conn.execute(query)}


# -- verify ------------------------------------------------------------------------------------


_FIELDS = ("opening", "income", "expense", "closing", "entries", "income_entries",
           "expense_entries")  # fmt: skip


def verify(conn: Connection, *, shop: str | None = None, latest: bool = False) -> PeriodsReport:
    """Every closed period (of ``shop``'s scope only, ``''`` the ledger's, when given; only
    its latest with ``latest``): its stored snapshot hashes to its stored SHA-256, and its
    figures are what the entries give now."""
    report = PeriodsReport()
    query = sa.select(periods).where(periods.c.status == "closed").order_by(periods.c.id)
    if shop is not None:
        query = query.where(periods.c.shop_code == shop)
    if latest:
        query = query.order_by(None).order_by(periods.c.month.desc()).limit(1)
    closed = conn.execute(query).all()
    for row in closed:
        report.periods_checked += 1
        name = label(row.month, row.shop_code)
        if sha256(row.snapshot) != row.snapshot_sha256:
            report.problems.append(f"{name}: its snapshot does not hash to its stored SHA-256")
        stored = {a["account"]: a for a in json.loads(row.snapshot)["accounts"]}
        now = {
            f.number: f.as_dict() for f in figures(conn, row.starts_at, row.ends_at, row.shop_code)
        }
        for number in sorted(stored.keys() | now.keys()):
            was, is_ = stored.get(number), now.get(number)
            for key in _FIELDS:
                a = was[key] if was else "absent"
                b = is_[key] if is_ else "absent"
                if a != b:
                    report.problems.append(
                        f"{name}: account {number}: {key} {_shown(a)} in the snapshot, "
                        f"{_shown(b)} from the entries"
                    )
                    break
        if len(report.problems) > MAX_PROBLEMS:
            break
    return report


def _shown(value) -> str:
    """A snapshot value as the CLI shows money (two places) or a count."""
    if isinstance(value, str) and "." in value:
        return format_amount(Decimal(value), 2)
    return str(value)


def _money(minor: int) -> str:
    return format_amount(from_minor(minor), 4)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
