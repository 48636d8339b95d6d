"""The period guard (rule R13), as the writers see it: the trigger on ``entries`` refuses any
row dated into a closed period (migration ``0013_periods``), and a writer reports that refusal
to the core with its facts, as a :class:`RuleBroken` of ``R13``.

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
