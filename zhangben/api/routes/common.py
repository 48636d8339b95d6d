"""Helpers shared by the route modules: times, query-text checks, access to accounts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import StringConstraints

from zhangben.api.auth import Principal
from zhangben.api.problems import ApiProblem
from zhangben.api.schemas import ACCOUNT_NUMBER_PATTERN, MAX_INT64
from zhangben.api.writes import ApiContext
from zhangben.core.errors import NotFound
from zhangben.core.records import Account, Entry

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


def out_of_reach(what: str) -> ApiProblem:
    return ApiProblem("forbidden", f"these credentials may not use {what}")


def check_accounts(ctx: ApiContext, who: Principal, numbers: list[str]) -> None:
    """Refuse (403) when the caller may not use one of these accounts.

    For a caller limited to some shops, accounts or (a user) their own accounts, an account
    that does not exist is as far out of reach as another shop's, and refused in the same
    words: a 404 would tell it apart. Unknown accounts of an unrestricted caller are left for
    the ledger to refuse (404)."""
    if who.unrestricted:
        return
    found = {a.number: a for a in ctx.ledger.accounts(numbers=numbers)}
    for number in numbers:
        if number not in found or not who.may_see(found[number]):
            raise out_of_reach(f"account {number}")


def account_in_reach(ctx: ApiContext, who: Principal, number: str) -> Account:
    """The account, when the caller may use it (see :func:`check_accounts`)."""
    try:
        account = ctx.ledger.account(number)
    except NotFound:
        if who.unrestricted:
            raise
        raise out_of_reach(f"account {number}") from None
    if not who.may_see(account):
        raise out_of_reach(f"account {number}")
    return account


def entries_in_reach(
    ctx: ApiContext, who: Principal, what: str, load: Callable[[], list[Entry]]
) -> list[Entry]:
    """``load()``'s entries, when the caller may use every account they touch. For a limited
    caller, ``what`` (``entry 7``, ``transfer 9``) missing, empty or of an account out of
    reach are one and the same 403."""
    try:
        entries = load()
    except NotFound:
        if who.unrestricted:
            raise
        raise out_of_reach(what) from None
    if who.unrestricted:
        return entries
    numbers = sorted({e.account_number for e in entries})
    found = {a.number: a for a in ctx.ledger.accounts(numbers=numbers)}
    if not entries or any(n not in found or not who.may_see(found[n]) for n in numbers):
        raise out_of_reach(what)
    return entries
