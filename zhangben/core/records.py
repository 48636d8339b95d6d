"""Plain records the core hands to its callers (no ORM objects, no SQL rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from zhangben.core import roles


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    number: str
    name: str
    type: str
    currency: str
    shop_code: str | None
    owner_user_id: int | None
    status: str
    allow_overdraft: bool
    balance: Decimal
    created_at: datetime
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of an account's flow (流水). ``amount`` is signed: + into the account."""

    id: int
    posting_id: int
    account_id: int
    account_number: str
    account_name: str
    type: str
    amount: Decimal
    balance_after: Decimal
    trade_no: str
    trade_time: datetime
    recorded_at: datetime
    operator_id: int | None
    category_id: int | None
    subject_id: int | None
    category_name: str | None
    subject_name: str | None
    counterparty: str | None
    description: str
    remark: str
    source: str
    external_id: str | None
    reverses_entry_id: int | None
    platform_balance: Decimal | None
    currency: str = "CNY"
    shop_code: str | None = None

    @property
    def income(self) -> Decimal:
        return self.amount if self.amount > 0 else Decimal("0.0000")

    @property
    def expense(self) -> Decimal:
        """The outgoing part as a positive amount (zero for incoming entries)."""
        return -self.amount if self.amount < 0 else Decimal("0.0000")


@dataclass(frozen=True, slots=True)
class PostingResult:
    """What a posting wrote. ``replayed`` is true when an idempotency key matched an earlier
    posting and nothing new was written."""

    posting_id: int
    kind: str
    trade_no: str
    entries: tuple[Entry, ...]
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    items: list
    total: int | None = None
    next_cursor: int | None = None
    #: the highest id of every matching entry (flows in time order, with the total)
    max_id: int | None = None


@dataclass(frozen=True, slots=True)
class ChartItem:
    id: int
    parent_id: int | None
    name: str
    kind: str
    subjects: tuple[ChartItem, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    enabled: bool

    @property
    def is_staff(self) -> bool:
        """Sees every account (the 壹川 wire's ``staff``): :mod:`zhangben.core.roles`."""
        return roles.sees_every_account(self.role)

    @property
    def rank(self) -> str:
        """viewer, clerk, supervisor or admin."""
        return roles.rank_of(self.role)

    def can(self, wanted: str) -> bool:
        """Holds ``wanted`` (viewer, clerk, supervisor, admin) or a higher role."""
        return roles.holds(self.role, wanted)

    @property
    def wire_role(self) -> str:
        """The role as the 壹川 surface has always reported it: ``staff`` or ``user``."""
        return "staff" if self.is_staff else "user"
