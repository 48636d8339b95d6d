"""Accounts: open, look up, list, close; balances now or as of an instant."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError

from zhangben.api.auth import Principal, principal
from zhangben.api.problems import ApiProblem, invalid
from zhangben.api.routes.common import AccountNumber, ShopFilter, account_in_reach, local
from zhangben.api.routing import errors
from zhangben.api.routing import router as make_router
from zhangben.api.schemas import (
    AS_OF_DESCRIPTION,
    MAX_INT32,
    AccountIn,
    AccountList,
    AccountOut,
    BalanceOut,
    BalancesOut,
    Instant,
    amount_text,
)
from zhangben.api.writes import ApiContext, IdempotencyKey, context, idempotent, json_response
from zhangben.core import reports
from zhangben.core.errors import NotFound, ValidationError
from zhangben.core.records import Account

router = make_router()
TAG = ["accounts"]

AsOf = Annotated[
    str | None,
    Query(
        max_length=40,
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.,]+(Z|[+-][0-9:]+)?)?$",
        description=AS_OF_DESCRIPTION,
        examples=["2026-10-31", "2026-10-31T12:00:00+08:00"],
    ),
]
_INSTANT = TypeAdapter(Instant)


def _as_of(ctx: ApiContext, text: str | None) -> date | datetime | None:
    """A day (its end) or an instant (naive: in the business time zone)."""
    if text is None:
        return None
    if len(text) == 10:
        return reports.parse_day(text, "as_of")
    try:
        return local(ctx, _INSTANT.validate_python(text))
    except PydanticError as exc:
        reason = exc.errors()[0].get("msg", "is not an instant")
        raise invalid("as_of", f"is not a day (2026-10-31) or an instant: {reason}") from None


def _echo(ctx: ApiContext, when: date | datetime | None) -> date | datetime | None:
    return when.astimezone(ctx.tz) if isinstance(when, datetime) else when


def _visible(
    ctx: ApiContext,
    who: Principal,
    *,
    type: str | None = None,
    shop: list[str] | None = None,
    owner: int | None = None,
    status: str | None = None,
) -> list[Account]:
    if who.owner_id is not None:
        if owner not in (None, who.owner_id):
            return []
        owner = who.owner_id
    return ctx.ledger.accounts(
        type=type,
        shop_codes=who.narrow(shop, who.shops),
        numbers=who.narrow(None, who.accounts),
        owner_user_id=owner,
        status=status,
    )


@router.post(
    "/accounts",
    status_code=201,
    response_model=AccountOut,
    tags=TAG,
    summary="Open an account",
    responses=errors("forbidden", "conflict"),
)
def open_account(
    body: AccountIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    """Staff, or an API key with the `write` scope (within its shops/accounts). A duplicate
    number is a 409 `conflict`."""
    who.require("write")
    if who.user is not None and not who.is_staff:
        raise ApiProblem("forbidden", "only staff may open accounts")
    if who.shops is not None and body.shop_code not in who.shops:
        raise ApiProblem(
            "forbidden", f"these credentials may not open accounts in shop {body.shop_code}"
        )
    if who.accounts is not None and body.number not in who.accounts:
        raise ApiProblem("forbidden", f"these credentials may not open account {body.number}")

    def action():
        if body.owner_id is not None:
            try:
                ctx.ledger.user(body.owner_id)
            except NotFound:
                raise ValidationError("owner_id", f"user {body.owner_id} does not exist") from None
        account = ctx.ledger.open_account(
            number=body.number,
            name=body.name,
            type=body.type,
            currency=body.currency,
            shop_code=body.shop_code,
            owner_user_id=body.owner_id,
            allow_overdraft=body.allow_overdraft,
        )
        return 201, AccountOut.of(account, ctx.tz)

    return idempotent(ctx, request, who, idempotency_key, body, action)


@router.get(
    "/accounts",
    response_model=AccountList,
    tags=TAG,
    summary="List the accounts the caller may see",
    responses=errors("forbidden"),
)
def list_accounts(
    type: Annotated[str | None, Query(pattern=r"^[^\x00]{1,32}$")] = None,
    shop: ShopFilter = None,
    owner: Annotated[int | None, Query(ge=1, le=MAX_INT32, description="owner's user id")] = None,
    status: Literal["open", "closed"] | None = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    who.require("read")
    found = _visible(ctx, who, type=type, shop=shop, owner=owner, status=status)
    return json_response(AccountList(items=[AccountOut.of(a, ctx.tz) for a in found]))


def _get(ctx: ApiContext, who: Principal, number: str) -> Account:
    return account_in_reach(ctx, who, number)


@router.get(
    "/accounts/{number}",
    response_model=AccountOut,
    tags=TAG,
    summary="One account",
    responses=errors("forbidden", "not_found"),
)
def get_account(
    number: AccountNumber,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    who.require("read")
    return json_response(AccountOut.of(_get(ctx, who, number), ctx.tz))


@router.post(
    "/accounts/{number}/close",
    response_model=AccountOut,
    tags=TAG,
    summary="Close an account (it keeps its history and refuses postings)",
    responses=errors("forbidden", "not_found"),
)
def close_account(
    number: AccountNumber,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    who.require("write")
    if who.user is not None and not who.is_staff:
        raise ApiProblem("forbidden", "only staff may close accounts")
    _get(ctx, who, number)

    def action():
        return 200, AccountOut.of(ctx.ledger.close_account(number), ctx.tz)

    return idempotent(ctx, request, who, idempotency_key, {}, action)


@router.get(
    "/accounts/{number}/balance",
    response_model=BalanceOut,
    tags=TAG,
    summary="An account's balance, now or as of an instant",
    responses=errors("forbidden", "not_found"),
)
def get_balance(
    number: AccountNumber,
    as_of: AsOf = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    who.require("read")
    account = _get(ctx, who, number)
    when = _as_of(ctx, as_of)
    balance = account.balance if when is None else ctx.ledger.balance_as_of(number, when)
    return json_response(
        BalanceOut(
            account=account.number,
            currency=account.currency,
            balance=amount_text(balance),
            as_of=_echo(ctx, when),
        )
    )


@router.get(
    "/balances",
    response_model=BalancesOut,
    tags=TAG,
    summary="Current balances of the accounts the caller may see, with totals per currency",
    responses=errors("forbidden"),
)
def list_balances(
    type: Annotated[str | None, Query(pattern=r"^[^\x00]{1,32}$")] = None,
    shop: ShopFilter = None,
    status: Literal["open", "closed"] | None = None,
    as_of: AsOf = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    """Now, or as of a day (its closing balances) or an instant, for every account at once."""
    who.require("read")
    when = _as_of(ctx, as_of)
    if when is None:
        found = [(a, a.balance) for a in _visible(ctx, who, type=type, shop=shop, status=status)]
    else:
        found = _visible_as_of(ctx, who, when, type=type, shop=shop, status=status)
    totals: dict[str, Decimal] = {}
    for a, balance in found:
        totals[a.currency] = totals.get(a.currency, Decimal(0)) + balance
    echo = _echo(ctx, when)
    return json_response(
        BalancesOut(
            items=[
                BalanceOut(
                    account=a.number, currency=a.currency, balance=amount_text(b), as_of=echo
                )
                for a, b in found
            ],
            totals={cur: amount_text(total) for cur, total in sorted(totals.items())},
            as_of=echo,
        )
    )


def _visible_as_of(ctx: ApiContext, who: Principal, when, *, type, shop, status):
    """The accounts :func:`_visible` lists, with their balances as of ``when``."""
    owner = who.owner_id
    return ctx.ledger.balances_as_of(
        when,
        type=type,
        shop_codes=who.narrow(shop, who.shops),
        numbers=who.narrow(None, who.accounts),
        owner_user_id=owner,
        status=status,
    )
