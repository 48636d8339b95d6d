"""Helpers shared by the route modules: times, query-text checks, access to accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import StringConstraints

from zhangben.api.auth import Principal
from zhangben.api.schemas import ACCOUNT_NUMBER_PATTERN, MAX_INT64
from zhangben.api.writes import ApiContext
from zhangben.core.records import Entry

#: Free text in a query string: 1-64 characters, no NUL.
TEXT_PATTERN = r"^[^\x00]{1,64}$"

AccountNumber = Annotated[
    str, Path(pattern=ACCOUNT_NUMBER_PATTERN, examples=["ACC001"], description="account number")
]
EntryId = Annotated[int, Path(ge=1, le=MAX_INT64)]
Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]
Number = Annotated[str, StringConstraints(pattern=ACCOUNT_NUMBER_PATTERN)]
ShopFilter = Annotated[list[Text] | None, Query(description="shop code (repeatable)")]


def local(ctx: ApiContext, instant: datetime | None) -> datetime | None:
    """A wire time: naive ones are in the business time zone."""
    if instant is None or instant.tzinfo is not None:
        return instant
    return instant.replace(tzinfo=ctx.tz)


def check_accounts(ctx: ApiContext, who: Principal, numbers: list[str]) -> None:
    """Refuse (403) when the caller may not use one of these accounts. Unknown accounts are
    left for the ledger to refuse (404)."""
    if who.unrestricted:
        return
    found = {a.number: a for a in ctx.ledger.accounts(numbers=numbers)}
    for number in numbers:
        if number in found:
            who.check(found[number])


def check_entries(ctx: ApiContext, who: Principal, entries: list[Entry]) -> None:
    check_accounts(ctx, who, sorted({e.account_number for e in entries}))
