"""The seed's finance methods, as adapters over the ledger.

``finance.getAccountBalance`` and ``finance.getTransactionList`` see only the accounts the
calling app may see (its shop codes and account numbers); an unknown shop code or account
matches nothing. ``account_id`` and ``shop_bn`` take ``#``-joined lists (note 11 of the seed).
"""

from __future__ import annotations

from typing import Any

from zhangben.core.queries import EntryFilter
from zhangben.core.records import Account, Entry
from zhangben.shopex import params as p
from zhangben.shopex.output import mask, money, when
from zhangben.shopex.registry import MethodContext, shopex_method

#: Where the shop codes come from: ``shop_bn`` as in the original, ``shop_code`` too.
SHOP_PARAMS = ("shop_bn", "shop_code")
#: ``trans_type`` filters: value → (entry types, direction). A reversal's type on the wire
#: says its direction (``reversal_income``: money back into the account); ``reversal``
#: still filters both.
TRANS_TYPES: dict[str, tuple[str, str | None]] = {
    "income": ("income", None),
    "expense": ("expense", None),
    "transfer_in": ("transfer_in", None),
    "transfer_out": ("transfer_out", None),
    "reversal": ("reversal", None),
    "reversal_income": ("reversal", "in"),
    "reversal_expense": ("reversal", "out"),
}


def _scope(ctx: MethodContext, params: dict[str, Any]):
    """(account numbers, shop codes) filters within the app's scope; None = unrestricted."""
    numbers = p.codes(params, "account_id", accounts=True)
    shops = p.codes(params, *SHOP_PARAMS)
    return p.within(numbers, ctx.app.account_numbers), p.within(shops, ctx.app.shop_codes)


@shopex_method("finance.getAccountBalance")
def get_account_balance(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    numbers, shops = _scope(ctx, params)
    account_type = p.text(params, "account_type")
    if numbers == [] or shops == []:
        return {"accounts": []}
    found = ctx.ledger.accounts(numbers=numbers, shop_codes=shops, type=account_type)
    return {"accounts": [_account(ctx, a) for a in found]}


def _account(ctx: MethodContext, a: Account) -> dict[str, Any]:
    return {
        "account_id": a.number,
        "account_name": mask(a.name, ctx.app.data_mask),
        "account_type": a.type,
        "balance": money(a.balance, ctx.style),
        "currency": a.currency,
    }


@shopex_method("finance.getTransactionList")
def get_transaction_list(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    """Oldest first (trade time, then entry id), as the seed's example. ``max_entry_id``
    bounds the rows to those that existed at the first page: the answer carries the bound to
    send with every later page (see docs/shopex-api.md, stable paging)."""
    start, end = p.time_range(params, ctx.tz)
    trans_type = p.text(params, "trans_type")
    if trans_type is not None and trans_type not in TRANS_TYPES:
        raise p.ParamError(f"trans_type must be one of {', '.join(TRANS_TYPES)}")
    types, direction = TRANS_TYPES[trans_type] if trans_type else (None, None)
    max_entry_id = p.entry_id(params, "max_entry_id")
    page_no, page_size = p.paging(params)
    numbers, shops = _scope(ctx, params)
    f = EntryFilter(
        account_numbers=numbers,
        shop_codes=shops,
        start=start,
        end=end,
        types=[types] if types else None,
        direction=direction,
        max_id=max_entry_id,
    )
    page = ctx.ledger.entries(
        f, limit=page_size, offset=(page_no - 1) * page_size, order="time_asc"
    )
    refs = ctx.ledger.entry_references(page.items)
    bound = max_entry_id if max_entry_id is not None else page.max_id or 0
    return {
        "count": page.total or 0,
        "lists": [_entry(ctx, e, refs[e.id]) for e in page.items],
        "max_entry_id": str(bound),
    }


def trans_type(e: Entry) -> str:
    """The entry's type on the wire: a reversal says which way its money went."""
    if e.type == "reversal":
        return "reversal_income" if e.amount > 0 else "reversal_expense"
    return e.type


def _entry(ctx: MethodContext, e: Entry, ref: str) -> dict[str, Any]:
    return {
        "trans_id": ref,
        "account_id": e.account_number,
        "account_name": mask(e.account_name, ctx.app.data_mask),
        "trans_type": trans_type(e),
        "amount": money(abs(e.amount), ctx.style),
        "balance": money(e.balance_after, ctx.style),
        "trans_time": when(e.trade_time, ctx.tz),
        "remark": mask(e.remark or e.description or "", ctx.app.data_mask),
        "entry_id": str(e.id),
        "trade_no": e.trade_no,
    }
