"""The shape of the rows a writer writes, and how each dialect is handed an instant."""

from __future__ import annotations

from datetime import UTC, datetime

#: an entry row's columns (all but ``id``), the order of every writer's tuples
ENTRY_COLUMNS = (
    "posting_id", "account_id", "type", "amount", "balance_after", "trade_no", "trade_time",
    "recorded_at", "operator_id", "category_id", "subject_id", "counterparty", "description",
    "remark", "source", "external_id", "reverses_entry_id", "platform_balance",
)  # fmt: skip
POSTING_COLUMNS = (
    "id", "kind", "trade_no", "idempotency_key", "request_hash", "reverses_posting_id",
    "created_at",
)  # fmt: skip


def sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite ``DateTime`` stores: naive UTC with microseconds."""
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return text if value.microsecond else text + ".000000"


def stamper(pg: bool):
    """How an instant is bound by the driver-level writers."""
    return (lambda dt: dt) if pg else sqlite_time
