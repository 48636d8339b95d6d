"""The month a match is booked in (跨期): its latest line's, or, while that month is closed for
one of its shops or for the whole ledger, the next open month after it. A late row never
lands in a closed period."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.store.period_tables import periods


def closed_months(conn: Connection) -> dict[str, set[str]]:
    """The closed months (yyyy-mm) by shop (``""``: the whole ledger)."""
    p = periods.c
    out: dict[str, set[str]] = {}
    for shop, month in conn.execute(sa.select(p.shop_code, p.month).where(p.status == "closed")):
        out.setdefault(shop, set()).add(month)
    return out


def month_of(at: datetime, tz: tzinfo) -> str:
    """``at``'s month (yyyy-mm) in the business time zone."""
    local = at.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def booked(closed: dict[str, set[str]], shops: Iterable[str], latest: datetime, tz) -> str:
    """The month a match whose latest line is at ``latest`` is booked in."""
    return forward(closed, shops, month_of(latest, tz))


def forward(closed: dict[str, set[str]], shops: Iterable[str], month: str) -> str:
    """``month``, or the first month after it open for every shop in ``shops``."""
    shut = set(closed.get("", ()))
    for shop in shops:
        shut |= closed.get(shop, set())
    while month in shut:
        year, mon = int(month[:4]), int(month[5:])
        month = f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"
    return month
