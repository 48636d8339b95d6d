"""Values on the way out: money per response style, times, masking."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from zhangben.shopex.wire.numbers import money_str
from zhangben.shopex.wire.times import format_time


def money(value: Decimal, style: str) -> Decimal | str:
    """Seed style: a Decimal that ``wire.numbers.dumps`` writes as ``10000.00``; shopex style:
    the original's string with at least three decimals (``"10000.000"``, ``"12.3456"``).
    Both exact: every decimal the ledger holds."""
    if style == "shopex":
        return money_str(value)
    return value.normalize() if value else Decimal("0")


def when(dt: datetime, tz: ZoneInfo) -> str:
    return format_time(dt, tz)


def mask(value: str | None, enabled: bool) -> str | None:
    """Keep the first character, star the rest (``测试账户`` → ``测***``)."""
    if not enabled or not value:
        return value
    return value[0] + "*" * min(max(len(value) - 1, 1), 6)
