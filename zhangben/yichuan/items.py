"""Ledger entries in the 壹川 accountlog item format (seed ``001``), key for key.

Choices where the seed is silent: a missing operator, category or subject is ``0`` (and the
signature ``"0000000000000000"``), a missing name ``""``. ``flow_from`` / ``flow_to`` are
JSON-encoded account numbers: for money going out, ``flow_from`` is the entry's own account and
``flow_to`` the counterparty; for money coming in the other way round. Without a counterparty
(plain income or expense) the other side is the JSON-encoded empty string ``"\\"\\""``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from zhangben.core.records import Entry

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO = Decimal("0.0000")


def unix_seconds(instant: datetime) -> int:
    """Whole Unix seconds (exact; floors sub-second parts)."""
    return (instant - _EPOCH) // timedelta(seconds=1)


def money(amount: Decimal) -> str:
    """Four decimals, never ``-0.0000``."""
    return f"{(amount if amount != 0 else _ZERO):.4f}"


def json_text(value: str | None) -> str:
    return json.dumps(value or "", ensure_ascii=False)


def signature(operator_id: int | None) -> str:
    return f"{operator_id or 0:016d}"


def entry_item(entry: Entry, tz: ZoneInfo) -> dict:
    """One accountlog list item, with exactly the seed's keys in the seed's order."""
    local = entry.trade_time.astimezone(tz)
    own, other = entry.account_number, entry.counterparty
    outgoing = entry.amount < 0
    return {
        "id": entry.id,
        "trade_no": entry.trade_no,
        "trade_time": unix_seconds(entry.trade_time),
        "year": local.year,
        "month": local.month,
        "day": local.day,
        "hour": local.hour,
        "minute": local.minute,
        "trade_by": entry.operator_id or 0,
        "account_id": entry.account_id,
        "category": entry.category_id or 0,
        "subject": entry.subject_id or 0,
        "expenses": money(-entry.expense),
        "income": money(entry.income),
        "surplus": money(entry.balance_after),
        "flow_to": json_text(other if outgoing else own),
        "flow_from": json_text(own if outgoing else other),
        "description": entry.description,
        "content": entry.remark,
        "signature": signature(entry.operator_id),
        "category_name": entry.category_name or "",
        "subject_name": entry.subject_name or "",
    }
