"""The seed's finance methods, as adapters over the ledger.

``finance.getAccountBalance`` and ``finance.getTransactionList`` see only the accounts the
calling app may see (its shop codes and account numbers); an unknown shop code or account
matches nothing.
"""

from __future__ import annotations

from typing import Any

from zhangben.core.queries import ENTRY_TYPES, EntryFilter
from zhangben.core.records import Account, Entry
from zhangben.shopex import params as p
from zhangben.shopex.output import mask, money, when
from zhangben.shopex.registry import MethodContext, shopex_method

#: Where the shop codes come from: ``shop_bn`` as in the original, ``shop_code`` too.
SHOP_PARAMS = ("shop_bn", "shop_code")


def _scope(ctx: MethodContext, account_id: str | None, shops: list[str] | None):
    """(account numbers, shop codes) filters within the app's scope; None = unrestricted."""
    numbers = p.within(None if account_id is None else [account_id], ctx.app.account_numbers)
    return numbers, p.within(shops, ctx.app.shop_codes)


@shopex_method("finance.getAccountBalance")
def get_account_balance(ctx: MethodContext, params: dict[str, Any]) -> dict[str, Any]:
    numbers, shops = _scope(ctx, p.text(params, "account_id"), p.codes(params, *SHOP_PARAMS))
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
    start, end = p.time_range(params, ctx.tz)
    trans_type = p.text(params, "trans_type")
    if trans_type is not None and trans_type not in ENTRY_TYPES:
        raise p.ParamError(f"trans_type must be one of {', '.join(ENTRY_TYPES)}")
    page_no, page_size = p.paging(params)
    numbers, shops = _scope(ctx, p.text(params, "account_id"), p.codes(params, *SHOP_PARAMS))
    f = EntryFilter(
        account_numbers=numbers,
        shop_codes=shops,
        start=start,
        end=end,
        types=[trans_type] if trans_type else None,
    )
    page = ctx.ledger.entries(f, limit=page_size, offset=(page_no - 1) * page_size)
    return {"count": page.total or 0, "lists": [_entry(ctx, e) for e in page.items]}


def _entry(ctx: MethodContext, e: Entry) -> dict[str, Any]:
    return {
        "trans_id": str(e.id),
        "account_id": e.account_number,
        "account_name": mask(e.account_name, ctx.app.data_mask),
        "trans_type": e.type,
        "amount": money(abs(e.amount), ctx.style),
        "balance": money(e.balance_after, ctx.style),
        "trans_time": when(e.trade_time, ctx.tz),
        "remark": mask(e.remark or e.description or "", ctx.app.data_mask),
    }
