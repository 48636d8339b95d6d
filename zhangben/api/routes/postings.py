"""Writes that move money: income/expense postings, transfers, reversals."""

from __future__ import annotations

from fastapi import Body, Depends, Request
from fastapi.responses import Response

from zhangben.api.auth import Principal, principal
from zhangben.api.routes.common import EntryId, check_accounts, entries_in_reach, local
from zhangben.api.routing import errors
from zhangben.api.routing import router as make_router
from zhangben.api.schemas import PostingIn, PostingOut, ReversalIn, TransferIn, TransferOut
from zhangben.api.writes import ApiContext, IdempotencyKey, context, idempotent, ledger_key

router = make_router()
_MONEY_ERRORS = (
    "forbidden",
    "not_found",
    "insufficient_funds",
    "currency_mismatch",
    "account_closed",
    "period_closed",
    "conflict",
    "idempotency_conflict",
    "idempotency_in_progress",
)


def _replayed(model) -> dict:
    return {
        200: {
            "model": model,
            "description": "the ledger's own key (trade_no / external_id) matched an earlier "
            "posting: that posting, `replayed: true`, nothing written",
        }
    }


@router.post(
    "/postings",
    status_code=201,
    response_model=PostingOut,
    tags=["postings"],
    summary="Post income or expense to an account",
    responses={**_replayed(PostingOut), **errors(*_MONEY_ERRORS)},
)
def create_posting(
    body: PostingIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    """`type` income adds to the account, expense takes from it. A `trade_no` is a business
    key: repeating it with the same content replays the first posting (200)."""
    who.require("write")
    check_accounts(ctx, who, [body.account])

    def action():
        post = ctx.ledger.income if body.type == "income" else ctx.ledger.expense
        result = post(
            body.account,
            body.amount,
            trade_no=body.trade_no,
            trade_time=local(ctx, body.trade_time),
            operator_id=who.operator_id,
            category_id=body.category_id,
            subject_id=body.subject_id,
            counterparty=body.counterparty,
            description=body.description,
            remark=body.remark,
            source=body.source,
            external_id=body.external_id,
            idempotency_key=ledger_key(who, idempotency_key, body.trade_no, body.external_id),
        )
        return (200 if result.replayed else 201), PostingOut.of(result, ctx.tz)

    return idempotent(ctx, request, who, idempotency_key, body, action)


@router.post(
    "/transfers",
    status_code=201,
    response_model=TransferOut,
    tags=["postings"],
    summary="Move money between two accounts (both legs in one transaction)",
    responses={**_replayed(TransferOut), **errors("same_account", *_MONEY_ERRORS)},
)
def create_transfer(
    body: TransferIn,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    """Writes a `transfer_out` entry on `from_account` and a `transfer_in` entry on
    `to_account` sharing one `transfer_id`."""
    who.require("write")
    check_accounts(ctx, who, [body.from_account, body.to_account])

    def action():
        result = ctx.ledger.transfer(
            body.from_account,
            body.to_account,
            body.amount,
            description=body.description,
            trade_no=body.trade_no,
            trade_time=local(ctx, body.trade_time),
            operator_id=who.operator_id,
            remark=body.remark,
            external_id=body.external_id,
            source="api",
            idempotency_key=ledger_key(who, idempotency_key, body.trade_no, body.external_id),
        )
        return (200 if result.replayed else 201), TransferOut.of(result, ctx.tz)

    return idempotent(ctx, request, who, idempotency_key, body, action)


def _reverse(ctx, request, who, key, body: ReversalIn | None, reverse) -> Response:
    body = body or ReversalIn()

    def action():
        result = reverse(
            description=body.description,
            remark=body.remark,
            trade_no=body.trade_no,
            operator_id=who.operator_id,
            source="api",
            idempotency_key=ledger_key(who, key, body.trade_no),
        )
        return (200 if result.replayed else 201), PostingOut.of(result, ctx.tz)

    return idempotent(ctx, request, who, key, body, action)


_REVERSAL_ERRORS = errors("already_reversed", *_MONEY_ERRORS)


@router.post(
    "/entries/{entry_id}/reversal",
    status_code=201,
    response_model=PostingOut,
    tags=["postings"],
    summary="Reverse an income or expense entry (a new entry; never an edit)",
    responses={**_replayed(PostingOut), **_REVERSAL_ERRORS},
)
def reverse_entry(
    entry_id: EntryId,
    request: Request,
    body: ReversalIn | None = Body(None),
    idempotency_key: IdempotencyKey = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    """A transfer leg is refused (reverse the transfer); a reversal cannot be reversed."""
    who.require("write")
    entries_in_reach(ctx, who, f"entry {entry_id}", lambda: [ctx.ledger.entry(entry_id)])
    return _reverse(
        ctx,
        request,
        who,
        idempotency_key,
        body,
        lambda **kw: ctx.ledger.reverse_entry(entry_id, **kw),
    )


@router.post(
    "/transfers/{transfer_id}/reversal",
    status_code=201,
    response_model=PostingOut,
    tags=["postings"],
    summary="Reverse both legs of a transfer in one new posting",
    responses={**_replayed(PostingOut), **_REVERSAL_ERRORS},
)
def reverse_transfer(
    transfer_id: EntryId,
    request: Request,
    body: ReversalIn | None = Body(None),
    idempotency_key: IdempotencyKey = None,
    who: Principal = Depends(principal),
    ctx: ApiContext = Depends(context),
) -> Response:
    who.require("write")
    entries_in_reach(
        ctx, who, f"transfer {transfer_id}", lambda: ctx.ledger.posting_entries(transfer_id)
    )
    return _reverse(
        ctx,
        request,
        who,
        idempotency_key,
        body,
        lambda **kw: ctx.ledger.reverse_transfer(transfer_id, **kw),
    )
