"""The period guard (rule R13): the trigger on ``entries`` that refuses any row dated into a
closed period (migration ``0016_periods``), kept in step with the closed periods by
:func:`refresh`; and how a writer reports its refusal to the core, with its facts, as a
:class:`RuleBroken` of ``R13``.

The facts are one dict: ``account`` (number), ``trade_time`` (the refused row's), ``month``
(the latest closed month covering the account), ``shop`` (that period's shop, ``''`` for the
whole ledger) and ``ends_at`` (that month's end). PostgreSQL's trigger sends them as JSON in
the error's DETAIL; SQLite's can only abort with a fixed message, so the writer reads them in
its transaction, which the abort left open.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from zhangben.store.writers.outcomes import RuleBroken

SQLSTATE = "ZB425"
RULE = "R13"

#: The guard's trigger, per dialect. ``{bound}`` is the latest end of any closed period (no
#: row dated at or after it can be in one): the fast path, a constant comparison that costs a
#: posting dated now nothing else; only a row dated before it is checked against its scope.
#: Every close and reopen rewrites it (:func:`refresh`); migration ``0016_periods`` creates it
#: with the bound of no closed period.
TRIGGER = {
    "postgresql": (
        "CREATE OR REPLACE TRIGGER zb_period_guard AFTER INSERT ON entries FOR EACH ROW "
        "WHEN (NEW.trade_time < '{bound}'::timestamptz) EXECUTE FUNCTION zb_period_guard()"
    ),
    "sqlite": (
        "CREATE TRIGGER zb_period_guard BEFORE INSERT ON entries\n"
        "WHEN NEW.trade_time < '{bound}' AND NEW.trade_time < (\n"
        "  SELECT max(p.ends_at) FROM periods p WHERE p.status = 'closed' AND p.shop_code IN ('',\n"
        "    (SELECT coalesce(a.shop_code, '') FROM accounts a WHERE a.id = NEW.account_id)))\n"
        "BEGIN SELECT RAISE(ABORT, 'ZB425 period closed'); END"
    ),
}
#: the bound when no period is closed: no row is before it
NO_BOUND = {"postgresql": "-infinity", "sqlite": ""}


def trigger_sql(dialect: str, bound: datetime | None) -> str:
    """The guard's trigger for ``bound`` (None: no period closed)."""
    if bound is None:
        text = NO_BOUND[dialect]
    elif dialect == "postgresql":
        text = bound.astimezone(UTC).isoformat()
    else:
        text = bound.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return TRIGGER[dialect].format(bound=text)


def refresh(conn) -> None:
    """Rewrite the guard's bound to the latest end of a closed period, in the caller's
    transaction (a close or reopen, which hold the periods' lock; on PostgreSQL this waits for
    the writes in flight, as the close's own lock on entries does)."""
    dialect = conn.dialect.name
    bound = conn.exec_driver_sql(
        "SELECT max(ends_at) FROM periods WHERE status = 'closed'"
    ).scalar_one()
    if bound is not None:
        bound = instant(bound)
    if dialect == "sqlite":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS zb_period_guard")
    conn.exec_driver_sql(trigger_sql(dialect, bound))


#: the latest closed period covering an account: (number, month, shop, ends_at)
_LATEST = (
    "SELECT a.number, p.month, p.shop_code, p.ends_at FROM accounts a "
    "JOIN periods p ON p.status = 'closed' AND p.shop_code IN ('', coalesce(a.shop_code, '')) "
    "WHERE a.id = {mark} ORDER BY p.ends_at DESC LIMIT 1"
)


def refused(exc: BaseException) -> bool:
    """Is this driver error the guard's refusal?"""
    code = getattr(exc, "sqlstate", None)
    if code is not None:
        return code == SQLSTATE
    return str(exc).startswith(SQLSTATE)


def from_pg(exc) -> RuleBroken:
    """PostgreSQL: the facts the trigger put in DETAIL."""
    raw = json.loads(exc.diag.message_detail)
    facts = {
        "account": raw["account"],
        "trade_time": datetime.fromisoformat(raw["trade_time"]).astimezone(UTC),
        "month": raw["month"],
        "shop": raw["shop"],
        "ends_at": datetime.fromisoformat(raw["ends_at"]).astimezone(UTC),
    }
    return RuleBroken(RULE, facts)


def latest_closed(cur, account_id: int, pg: bool) -> tuple[str, str, str, datetime] | None:
    """(number, month, shop, end) of the latest closed period covering the account."""
    cur.execute(_LATEST.format(mark="%s" if pg else "?"), (account_id,))
    row = cur.fetchone()
    if row is None:
        return None
    number, month, shop, ends = row
    return number, month, shop, instant(ends)


def from_sqlite(cur, rows) -> RuleBroken:
    """SQLite: the first of ``rows`` — (account id, trade time) in the order they were
    inserted — that the guard refuses, with its facts, read in the open transaction."""
    bounds: dict[int, tuple | None] = {}
    for account_id, when in rows:
        if account_id not in bounds:
            bounds[account_id] = latest_closed(cur, account_id, pg=False)
        found = bounds[account_id]
        when = instant(when)
        if found is not None and when < found[3]:
            number, month, shop, ends = found
            facts = {"account": number, "trade_time": when, "month": month, "shop": shop,
                     "ends_at": ends}  # fmt: skip
            return RuleBroken(RULE, facts)
    raise AssertionError("the period guard refused a row that no closed period covers")


def instant(value) -> datetime:
    """An instant as the driver returns it (SQLite: naive UTC text) → aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
